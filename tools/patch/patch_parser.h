// The V4A patch language of gpt-oss's apply_patch tool (`*** Begin Patch` ... `*** End
// Patch`; Add / Delete / Update File with an optional Move to; `@@` hunks of ` `, `-`, `+`
// lines; `*** End of File`) parsed into operations. Lenient where models are (CRLF, blank
// lines before and after, a blank hunk line meaning an empty context line, a first hunk
// without `@@`), strict everywhere else, with errors naming the patch line. Pure: no files
// (patch_apply.h applies). Untrusted input: fuzzed (fuzz_patch).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace gossamer::tools::patch {

struct PatchError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct HunkLine {
    char kind = ' ';  // ' ' context, '-' removed, '+' added
    std::string text;
};

struct Hunk {
    std::string anchor;  // the text after "@@ " ("" when none)
    std::vector<HunkLine> lines;
    bool end_of_file = false;  // "*** End of File": the hunk ends at the file's end
    int line = 0;              // where it starts in the patch (1-based)
};

struct AddFile {
    std::string path;
    std::vector<std::string> lines;
};
struct DeleteFile {
    std::string path;
};
struct UpdateFile {
    std::string path;
    std::optional<std::string> move_to;
    std::vector<Hunk> hunks;
};
using FileOp = std::variant<AddFile, DeleteFile, UpdateFile>;

// Throws PatchError ("line N: what is wrong").
std::vector<FileOp> parse_patch(const std::string& text);

}  // namespace gossamer::tools::patch
