// functions.apply_patch: the patch tool gpt-oss was trained with (its description, its string
// parameter and its developer instructions, as the reference's chat.py gives them), applied
// to the session's workspace by patch_apply.h (all or nothing, never outside it, never
// .git/.gossamer). The argument is the patch text, raw or as a JSON string / one-value
// object. It must not run anything.
#pragma once

#include <string>

#include "tools/patch/patch_apply.h"
#include "tools/tool.h"

namespace gossamer::tools::patch {

class ApplyPatchTool final : public Tool {
  public:
    explicit ApplyPatchTool(ApplyOptions options = {}) : options_(std::move(options)) {}
    harmony::ToolNamespace describe() const override;
    std::optional<std::string> developer_instructions() const override;
    void invoke(const ToolCall& call, const ToolContext& context, ToolDone done) override;

    // Runs a call synchronously (invoke() posts this to the executor).
    ToolOutput run(const std::string& arguments, const std::filesystem::path& workspace) const;

  private:
    ApplyOptions options_;
};

// The patch text of a call's arguments: raw, a JSON string, or a JSON object's one value.
std::string patch_text_of(const std::string& arguments);

}  // namespace gossamer::tools::patch
