#include "runtime/workspace_diff.h"

#include <cstdio>

#include "runtime/unified_diff.h"
#include "runtime/workspace_history.h"

namespace gossamer::runtime {

namespace {

std::string octal(std::uint32_t mode) {
    char text[16];
    std::snprintf(text, sizeof text, "%o", mode);
    return text;
}

// One file's diff in git's form (`diff --git`, mode lines, the unified diff).
std::string file_diff(const SessionStore& store, const std::string& path,
                      const std::optional<FileState>& before,
                      const std::optional<FileState>& after) {
    std::string out = "diff --git a/" + path + " b/" + path + "\n";
    if (!before) out += "new file mode " + octal(after->mode) + "\n";
    if (!after) out += "deleted file mode " + octal(before->mode) + "\n";
    if (before && after && before->mode != after->mode)
        out += "old mode " + octal(before->mode) + "\nnew mode " + octal(after->mode) + "\n";
    const auto content = [&](const std::optional<FileState>& s) -> std::optional<std::string> {
        if (!s) return std::string();
        return store.blob(s->hash);
    };
    const auto a = content(before), b = content(after);
    if (!a || !b)
        return out + "(content not recorded: the file is larger than 16 MiB or was unreadable)\n";
    if (before && after && before->hash == after->hash) return out;
    out +=
        unified_diff(*a, *b, before ? "a/" + path : "/dev/null", after ? "b/" + path : "/dev/null");
    return out;
}

std::optional<FileState> state_of(const Manifest& m, const std::string& path) {
    const auto it = m.find(path);
    if (it == m.end()) return std::nullopt;
    return it->second;
}

}  // namespace

std::string workspace_diff(const SessionStore& store, const std::vector<StoredChange>& changes,
                           std::optional<int> step) {
    std::string out;
    if (step) {
        const auto before = *step == 0 ? Manifest{} : state_at(changes, *step - 1);
        const auto after = state_at(changes, *step);
        for (const auto& c : changes)
            if (c.step == *step)
                out += file_diff(store, c.path, state_of(before, c.path), state_of(after, c.path));
        return out;
    }
    const bool has_baseline = !changes.empty() && changes.front().step == 0;
    const auto before = has_baseline ? state_at(changes, 0) : Manifest{};
    const auto after = state_at(changes);
    for (const auto& c : diff_manifests(before, after))
        out += file_diff(store, c.path, state_of(before, c.path), state_of(after, c.path));
    return out;
}

}  // namespace gossamer::runtime
