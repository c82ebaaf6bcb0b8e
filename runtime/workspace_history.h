// What each step did to a session's workspace files, kept so that a person can see it and
// undo it. After every tool call the agent loop scans the workspace into a manifest (path ->
// content hash and mode; symlinks as their link text), and the differences from the last
// recorded state become that step's change set in the session store, the contents as
// content-addressed blobs (sha256) shared by every session. `sessions diff` and
// `sessions revert` are built on the recorded states. Scans skip `.git` and `.gossamer`
// folders (protected: no tool can change them) and never follow a symlink. Blocking I/O.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/session_store.h"

namespace gossamer::runtime {

struct FileState {
    std::string hash;        // sha256 hex of the bytes (a symlink: of its link text)
    std::uint32_t mode = 0;  // st_mode: type and permission bits
    bool operator==(const FileState&) const = default;
};
using Manifest = std::map<std::string, FileState>;  // workspace-relative path -> state

// Stores a blob (hash, bytes).
using BlobSink = std::function<void(const std::string& hash, std::string_view bytes)>;

class WorkspaceScanner {
  public:
    // Files larger than this (and files that cannot be read) are recorded by their size and
    // mtime, without content (a revert cannot bring them back; `sessions diff` says so).
    static constexpr std::uint64_t kMaxFileBytes = 16u << 20;

    // The workspace's manifest; blobs of files not seen unchanged before go to `sink`. A
    // file is re-read only when its size, mtime, ctime, inode or mode changed since the last
    // scan by this scanner.
    Manifest scan(const std::filesystem::path& workspace, const BlobSink& sink);

  private:
    struct Seen {
        std::uint64_t size, ino;
        std::int64_t mtime_ns, ctime_ns;
        std::uint32_t mode;
        std::string hash;
    };
    std::map<std::string, Seen> seen_;
};

// The step's changes from `before` to `after` (kind and step filled by the caller).
std::vector<StoredChange> diff_manifests(const Manifest& before, const Manifest& after);

// The recorded state after `to_step` (all steps when nullopt), folding the stored changes.
Manifest state_at(const std::vector<StoredChange>& changes, std::optional<int> to_step = {});

// Makes the workspace hold `target` where it now holds `current`: writes each differing file
// from its blob (temp file + rename, mode restored) and deletes files `target` lacks; never
// follows a symlink on the way (an fd walk from the workspace with O_NOFOLLOW). Returns
// "A/M/D path" lines; throws std::runtime_error naming the file it could not restore (files
// restored before it stay restored).
std::vector<std::string> restore_workspace(
    const std::filesystem::path& workspace, const Manifest& current, const Manifest& target,
    const std::function<std::optional<std::string>(const std::string& hash)>& blob);

// "A path" / "M path" / "D path" lines of a change set.
std::vector<std::string> change_lines(const std::vector<StoredChange>& changes);

}  // namespace gossamer::runtime
