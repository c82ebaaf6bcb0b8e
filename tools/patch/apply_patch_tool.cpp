#include "tools/patch/apply_patch_tool.h"

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

namespace gossamer::tools::patch {

namespace {

// The developer instructions gpt-oss's reference chat.py adds with the tool
// (openai/gpt-oss gpt_oss/tools/apply_patch.md): the model was trained on this text.
constexpr const char* kInstructions =
    R"(When requested to perform coding-related tasks, you MUST adhere to the following criteria when executing the task:

- Use `apply_patch` to edit files.
- If completing the user's task requires writing or modifying files:
  - Your code and final answer should follow these _CODING GUIDELINES_:
    - Avoid unneeded complexity in your solution. Minimize program size.
    - Keep changes consistent with the style of the existing codebase. Changes should be minimal and focused on the task.
    - NEVER add copyright or license headers unless specifically requested.
- Never implement function stubs. Provide complete working implementations.

§ `apply_patch` Specification

Your patch language is a stripped‑down, file‑oriented diff format designed to be easy to parse and safe to apply. You can think of it as a high‑level envelope:

*** Begin Patch
[ one or more file sections ]
*** End Patch

Within that envelope, you get a sequence of file operations.
You MUST include a header to specify the action you are taking.
Each operation starts with one of three headers:

*** Add File: <path> - create a new file. Every following line is a + line (the initial contents).
*** Delete File: <path> - remove an existing file. Nothing follows.
*** Update File: <path> - patch an existing file in place (optionally with a rename).

May be immediately followed by *** Move to: <new path> if you want to rename the file.
Then one or more “hunks”, each introduced by @@ (optionally followed by a hunk header).
Within a hunk each line starts with:

+ for inserted text,

- for removed text, or
  space ( ) for context.
  At the end of a truncated hunk you can emit *** End of File.

Patch := Begin { FileOp } End
Begin := "*** Begin Patch" NEWLINE
End := "*** End Patch" NEWLINE
FileOp := AddFile | DeleteFile | UpdateFile
AddFile := "*** Add File: " path NEWLINE { "+" line NEWLINE }
DeleteFile := "*** Delete File: " path NEWLINE
UpdateFile := "*** Update File: " path NEWLINE [ MoveTo ] { Hunk }
MoveTo := "*** Move to: " newPath NEWLINE
Hunk := "@@" [ header ] NEWLINE { HunkLine } [ "*** End of File" NEWLINE ]
HunkLine := (" " | "-" | "+") text NEWLINE

A full patch can combine several operations:

*** Begin Patch
*** Add File: hello.txt
+Hello world
*** Update File: src/app.py
*** Move to: src/main.py
@@ def greet():
-print("Hi")
+print("Hello, world!")
*** Delete File: obsolete.txt
*** End Patch

It is important to remember:

- You must include a header with your intended action (Add/Delete/Update)
- You must prefix new lines with `+` even when creating a new file
)";

}  // namespace

std::string patch_text_of(const std::string& arguments) {
    std::size_t first = arguments.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return arguments;
    if (arguments[first] != '{' && arguments[first] != '"') return arguments;
    const auto j = nlohmann::json::parse(arguments, nullptr, false);
    if (j.is_string()) return j.get<std::string>();
    if (j.is_object() && j.size() == 1 && j.begin()->is_string())
        return j.begin()->get<std::string>();
    return arguments;  // not the JSON forms: let the parser say what is wrong
}

harmony::ToolNamespace ApplyPatchTool::describe() const {
    harmony::ToolNamespace ns;
    ns.name = "functions";
    ns.tools.push_back({"apply_patch", "Patch a file",
                        nlohmann::ordered_json{{"type", "string"},
                                               {"description", "Formatted patch code"},
                                               {"default", "*** Begin Patch\n*** End Patch\n"}}});
    return ns;
}

std::optional<std::string> ApplyPatchTool::developer_instructions() const {
    return kInstructions;
}

ToolOutput ApplyPatchTool::run(const std::string& arguments,
                               const std::filesystem::path& workspace) const {
    try {
        const auto applied =
            apply_patch(parse_patch(patch_text_of(arguments)), workspace, options_);
        std::string text = "Done!";
        for (const auto& s : applied.summary) text += "\n" + s;
        return {text, false};
    } catch (const PatchError& e) {
        return {std::string("Error applying patch: ") + e.what(), true};
    }
}

void ApplyPatchTool::invoke(const ToolCall& call, const ToolContext& context, ToolDone done) {
    boost::asio::post(context.executor, [this, args = call.arguments, workspace = context.workspace,
                                         done = std::move(done)] { done(run(args, workspace)); });
}

}  // namespace gossamer::tools::patch
