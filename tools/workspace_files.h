// The workspace file functions (functions.read_file / write_file / list_files): the agent
// reads and writes files in its session's workspace directory and nowhere else. Paths are
// relative to the workspace; absolute paths, "..", and symlinks leading out are refused.
// Output is capped. It must not run anything (that is the python tool's job, in sandbox/).
#pragma once

#include <cstddef>

#include "tools/tool.h"

namespace gossamer::tools {

class WorkspaceFiles final : public Tool {
  public:
    explicit WorkspaceFiles(std::size_t max_read_bytes = 64 * 1024,
                            std::size_t max_write_bytes = 8 * 1024 * 1024)
        : max_read_(max_read_bytes), max_write_(max_write_bytes) {}
    harmony::ToolNamespace describe() const override;
    void invoke(const ToolCall& call, const ToolContext& context, ToolDone done) override;
    // Reads and listings change nothing; a write of the same content leaves the same file.
    bool idempotent() const override { return true; }

    // Runs a call synchronously (invoke() posts this to the executor).
    ToolOutput run(const ToolCall& call, const std::filesystem::path& workspace) const;

  private:
    std::size_t max_read_;
    std::size_t max_write_;
};

}  // namespace gossamer::tools
