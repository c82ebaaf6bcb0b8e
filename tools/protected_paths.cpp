#include "tools/protected_paths.h"

#include <algorithm>
#include <fstream>
#include <system_error>

namespace gossamer::tools {

namespace fs = std::filesystem;

std::optional<std::string> gitdir_inside(const fs::path& workspace, const fs::path& dir) {
    std::error_code ec;
    const fs::path file = dir / ".git";
    if (!fs::is_regular_file(fs::symlink_status(file, ec))) return std::nullopt;
    std::ifstream in(file);
    std::string line;
    if (!std::getline(in, line) || line.rfind("gitdir:", 0) != 0) return std::nullopt;
    std::string target = line.substr(7);
    target.erase(0, target.find_first_not_of(" \t"));
    while (!target.empty() && (target.back() == '\r' || target.back() == ' ')) target.pop_back();
    if (target.empty()) return std::nullopt;
    fs::path where = fs::path(target).is_absolute() ? fs::path(target) : dir / target;
    const fs::path root = fs::weakly_canonical(workspace, ec);
    if (ec) return std::nullopt;
    where = fs::weakly_canonical(where, ec);
    if (ec) return std::nullopt;
    const fs::path relative = where.lexically_relative(root);
    if (relative.empty() || relative == "." || *relative.begin() == "..") return std::nullopt;
    return relative.generic_string();
}

std::vector<std::string> find_protected_paths(const fs::path& workspace,
                                              const std::vector<std::string>& names,
                                              std::size_t max_entries) {
    std::vector<std::string> found;
    const auto named = [&](const fs::path& name) {
        return std::find(names.begin(), names.end(), name.string()) != names.end();
    };
    const auto keep = [&](const fs::path& path) {
        std::error_code ec;
        const auto status = fs::symlink_status(path, ec);
        if (ec || fs::is_symlink(status) || !fs::exists(status)) return false;
        found.push_back(path.lexically_relative(workspace).generic_string());
        if (path.filename() == ".git")
            if (auto target = gitdir_inside(workspace, path.parent_path()))
                found.push_back(*target);
        return true;
    };
    for (const auto& name : names) keep(workspace / name);  // always, however big the tree
    std::error_code ec;
    fs::recursive_directory_iterator it(workspace, fs::directory_options::skip_permission_denied,
                                        ec);
    std::size_t visited = 0;
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (++visited > max_entries) break;
        if (!named(it->path().filename())) continue;
        if (it.depth() > 0) keep(it->path());
        it.disable_recursion_pending();  // what is inside a protected folder is protected
    }
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    // A path below another protected one is covered by it.
    std::vector<std::string> outer;
    for (const auto& path : found)
        if (std::none_of(outer.begin(), outer.end(),
                         [&](const auto& o) { return path.rfind(o + "/", 0) == 0; }))
            outer.push_back(path);
    return outer;
}

}  // namespace gossamer::tools
