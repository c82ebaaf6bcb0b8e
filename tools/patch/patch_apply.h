// Applies parsed patches (patch_parser.h) to a workspace directory, all or nothing: every new
// content is computed in memory first (hunks matched exactly, then ignoring trailing white
// space, then ignoring surrounding white space, as the reference does), then written to temp
// files beside their targets, then renamed into place. Every path is walked component by
// component from the workspace's directory fd with O_NOFOLLOW (the fd-walk equivalent of
// openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): absolute paths, "..", symlinks anywhere on
// the way and the protected names (.git, .gossamer and the caller's) are refused. Errors name
// the file and the hunk that did not match, with the nearest lines. Written files and their
// folders are fsynced before it returns. It must not run anything.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tools/patch/patch_parser.h"
#include "tools/protected_paths.h"

namespace gossamer::tools::patch {

struct ApplyOptions {
    // Any path component with one of these names is refused, and so is the folder a top-level
    // `.git` file's `gitdir:` names inside the workspace.
    std::vector<std::string> protected_names = default_protected_names();
    std::size_t max_file_bytes = 8u << 20;
};

struct Applied {
    std::vector<std::string> summary;  // "A path", "M path", "M old -> new", "D path"
};

// Throws PatchError with the text the model reads; nothing changed then.
Applied apply_patch(const std::vector<FileOp>& ops, const std::filesystem::path& workspace,
                    const ApplyOptions& options = {});

// A file's lines (without their '\n'); `final_newline` says whether the text ended with one.
std::vector<std::string> split_lines(const std::string& text, bool& final_newline);

// The new lines of `old` after `hunks` (exposed for tests); throws PatchError naming `path`.
std::vector<std::string> apply_hunks(const std::vector<std::string>& old,
                                     const std::vector<Hunk>& hunks, const std::string& path);

}  // namespace gossamer::tools::patch
