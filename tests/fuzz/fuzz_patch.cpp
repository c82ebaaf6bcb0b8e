// libFuzzer target for apply_patch's patch language (tools/patch/patch_parser.h) and its hunk
// matching (apply_hunks): the bytes are a patch, then optionally a NUL and the text of the
// file every Update applies to (in memory: no files are touched).
// Properties: no crash, no sanitizer report, failures only as PatchError; a parsed patch has
// at least one operation, every path non-empty, every hunk non-empty; applying a hunk whose
// removed lines are all context-free insertions never loses a line of the file.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <variant>

#include "tools/patch/patch_apply.h"

namespace {

[[noreturn]] void broken(const char* what) {
    std::fprintf(stderr, "fuzz_patch: %s\n", what);
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace gossamer::tools::patch;
    const std::string input(reinterpret_cast<const char*>(data), size);
    const auto nul = input.find('\0');
    const std::string text = input.substr(0, nul);
    bool final_newline = false;
    const auto file =
        split_lines(nul == std::string::npos ? "" : input.substr(nul + 1), final_newline);
    std::vector<FileOp> ops;
    try {
        ops = parse_patch(text);
    } catch (const PatchError&) {
        return 0;
    }
    if (ops.empty()) broken("a parsed patch without operations");
    for (const auto& op : ops) {
        if (const auto* u = std::get_if<UpdateFile>(&op)) {
            if (u->path.empty()) broken("an empty path");
            bool only_inserts = true;
            for (const auto& h : u->hunks) {
                if (h.lines.empty()) broken("an empty hunk");
                for (const auto& l : h.lines) only_inserts = only_inserts && l.kind == '+';
            }
            try {
                const auto out = apply_hunks(file, u->hunks, u->path);
                if (only_inserts && out.size() < file.size()) broken("an insertion lost lines");
            } catch (const PatchError&) {
            }
        } else if (const auto* a = std::get_if<AddFile>(&op)) {
            if (a->path.empty()) broken("an empty path");
        } else if (std::get<DeleteFile>(op).path.empty()) {
            broken("an empty path");
        }
    }
    return 0;
}
