// Which workspace paths stay read-only to the tools that write (the sandboxed shell and
// python mount them read-only; apply_patch refuses them): every file or folder with a
// protected name (.git, .gossamer, the spec's) at any depth, and where a `.git` file points
// (`gitdir: X`) when X lies inside the workspace. Reads the workspace, never writes it; symlinks
// are not followed (a symlink named .git is not a repository we keep).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace gossamer::tools {

// The names every writing tool protects unless a spec adds more.
inline const std::vector<std::string>& default_protected_names() {
    static const std::vector<std::string> names = {".git", ".gossamer"};
    return names;
}

// Paths relative to `workspace`, sorted, without duplicates or paths below another one.
// At most `max_entries` entries are visited (a huge tree is cut short; the top level is always
// checked).
std::vector<std::string> find_protected_paths(const std::filesystem::path& workspace,
                                              const std::vector<std::string>& names,
                                              std::size_t max_entries = 200000);

// The folder a `.git` file at `dir` names with `gitdir: X`, relative to `workspace`, when it
// lies inside it (a worktree or submodule whose repository is in the workspace); else nullopt.
std::optional<std::string> gitdir_inside(const std::filesystem::path& workspace,
                                         const std::filesystem::path& dir);

}  // namespace gossamer::tools
