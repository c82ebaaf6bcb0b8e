// Default policy and the JSON policy format (policy.h, documented in sandbox/README.md).
#include "sandbox/policy.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "sandbox/egress_rules.h"

namespace gossamer::sandbox {
namespace {

using Json = nlohmann::ordered_json;

// /etc/python3.11 and friends: Debian's sitecustomize lives there.
std::vector<Bind> python_etc_binds() {
    std::vector<Bind> binds;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/etc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("python3", 0) == 0 && entry.is_directory(ec))
            binds.push_back({entry.path().string(), entry.path().string(), true});
    }
    std::sort(binds.begin(), binds.end(),
              [](const Bind& a, const Bind& b) { return a.host_path < b.host_path; });
    return binds;
}

[[noreturn]] void fail(const std::string& key, const std::string& what) {
    throw PolicyError("policy key '" + key + "': " + what);
}

void refuse_unknown(const Json& object, const std::string& where,
                    std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : object.items()) {
        (void)value;
        if (std::find(known.begin(), known.end(), key) == known.end())
            fail(where + key, "unknown key (known: see sandbox/README.md)");
    }
}

std::string get_string(const Json& value, const std::string& key) {
    if (!value.is_string()) fail(key, "must be a string");
    return value.get<std::string>();
}

std::string get_absolute(const Json& value, const std::string& key) {
    std::string path = get_string(value, key);
    if (path.empty() || path[0] != '/') fail(key, "must be an absolute path, got '" + path + "'");
    if (path.find("/../") != std::string::npos || path.ends_with("/.."))
        fail(key, "must not contain '..', got '" + path + "'");
    return path;
}

bool get_bool(const Json& value, const std::string& key) {
    if (!value.is_boolean()) fail(key, "must be true or false");
    return value.get<bool>();
}

std::uint64_t get_uint(const Json& value, const std::string& key) {
    if (!value.is_number_unsigned()) fail(key, "must be a non-negative integer");
    return value.get<std::uint64_t>();
}

std::vector<Bind> get_binds(const Json& value, const std::string& key) {
    if (!value.is_array()) fail(key, "must be an array of {host, sandbox, optional}");
    std::vector<Bind> binds;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const std::string where = key + "[" + std::to_string(i) + "].";
        const Json& item = value[i];
        if (item.is_string()) {  // shorthand: the same path inside
            std::string path = get_absolute(item, where + "host");
            binds.push_back({path, path, false});
            continue;
        }
        if (!item.is_object()) fail(key, "elements must be strings or objects");
        refuse_unknown(item, where, {"host", "sandbox", "optional"});
        if (!item.contains("host")) fail(where + "host", "missing");
        Bind bind;
        bind.host_path = get_absolute(item["host"], where + "host");
        bind.sandbox_path = item.contains("sandbox")
                                ? get_absolute(item["sandbox"], where + "sandbox")
                                : bind.host_path;
        if (item.contains("optional"))
            bind.optional = get_bool(item["optional"], where + "optional");
        binds.push_back(std::move(bind));
    }
    return binds;
}

void read_limits(const Json& value, Limits& limits) {
    if (!value.is_object()) fail("limits", "must be an object");
    refuse_unknown(value, "limits.",
                   {"wall_ms", "cpu_seconds", "memory_bytes", "pids", "file_bytes", "open_files",
                    "output_bytes", "tmp_bytes", "tmp_inodes"});
    auto field = [&](const char* name, std::uint64_t& out) {
        if (value.contains(name)) out = get_uint(value[name], std::string("limits.") + name);
    };
    field("wall_ms", limits.wall_ms);
    field("cpu_seconds", limits.cpu_seconds);
    field("memory_bytes", limits.memory_bytes);
    field("pids", limits.pids);
    field("file_bytes", limits.file_bytes);
    field("open_files", limits.open_files);
    field("output_bytes", limits.output_bytes);
    field("tmp_bytes", limits.tmp_bytes);
    field("tmp_inodes", limits.tmp_inodes);
    if (limits.open_files != 0 && limits.open_files < 16)
        fail("limits.open_files", "must be 0 (no limit) or at least 16");
}

std::vector<std::pair<std::string, std::string>> get_env(const Json& value) {
    if (!value.is_object()) fail("env", "must be an object of NAME: value strings");
    std::vector<std::pair<std::string, std::string>> env;
    for (const auto& [name, text] : value.items()) {
        if (name.empty() || name.find('=') != std::string::npos)
            fail("env." + name, "a variable name must be non-empty and hold no '='");
        env.emplace_back(name, get_string(text, "env." + name));
    }
    return env;
}

std::vector<Layer> get_layers(const Json& value) {
    if (!value.is_array()) fail("require", "must be an array of layer names");
    std::vector<Layer> layers;
    for (const auto& item : value) {
        const std::string name = get_string(item, "require[]");
        auto layer = layer_from_name(name);
        if (!layer) fail("require", "unknown layer '" + name + "'");
        layers.push_back(*layer);
    }
    return layers;
}

}  // namespace

Policy default_policy() {
    Policy policy;
    for (const char* path : {"/usr", "/bin", "/sbin", "/lib", "/lib64"})
        policy.read_only_binds.push_back({path, path, std::string_view(path) != "/usr"});
    for (const char* path : {"/etc/ld.so.cache", "/etc/localtime"})
        policy.read_only_binds.push_back({path, path, true});
    for (auto& bind : python_etc_binds()) policy.read_only_binds.push_back(std::move(bind));
    policy.env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"},
                  {"LANG", "C.UTF-8"},
                  {"LC_ALL", "C.UTF-8"},
                  {"HOME", "/workspace"},
                  {"TMPDIR", "/tmp"},
                  {"PYTHONDONTWRITEBYTECODE", "1"},
                  {"PYTHONUNBUFFERED", "1"}};
    policy.required = {Layer::user_ns, Layer::pid_ns,  Layer::mount_ns, Layer::ipc_ns,
                       Layer::uts_ns,  Layer::seccomp, Layer::rlimits};
    return policy;
}

std::vector<Layer> required_layers(const Policy& policy) {
    std::vector<Layer> layers = policy.required;
    if (!policy.network && std::find(layers.begin(), layers.end(), Layer::net_ns) == layers.end())
        layers.push_back(Layer::net_ns);
    return layers;
}

std::string_view mode_name(Mode mode) {
    switch (mode) {
        case Mode::automatic:
            return "auto";
        case Mode::user_namespace:
            return "userns";
        case Mode::root_namespace:
            return "root";
        case Mode::container:
            return "container";
    }
    return "auto";
}

std::optional<Mode> mode_from_name(std::string_view name) {
    for (Mode mode : {Mode::automatic, Mode::user_namespace, Mode::root_namespace, Mode::container})
        if (mode_name(mode) == name) return mode;
    return std::nullopt;
}

std::string_view mode_caveats(Mode mode) {
    if (mode != Mode::container) return "";
    return "no namespaces, so it does not isolate: the process table (no pid "
           "namespace: host processes are visible to ps-like tools through syscalls, though "
           "/proc is closed by Landlock and signals by its scope on kernels 6.12+), the "
           "network when `network` is on (no namespace; when off every socket() is denied), "
           "abstract and pathname unix sockets on kernels before 6.12, System V IPC, the "
           "hostname, and the host's paths (the workspace is the working directory at its "
           "host path; /tmp is a private host folder; /mnt/data does not exist). Files are "
           "fenced by Landlock only (read-only binds, the workspace and the private /tmp); "
           "setsid and setpgid are denied so that the whole process group is killed after "
           "each call.";
}

Policy policy_from_json(std::string_view json_text) {
    Json root;
    try {
        root = Json::parse(json_text);
    } catch (const Json::exception& e) {  // parse errors, and numbers out of range (1e309)
        throw PolicyError(std::string("policy is not valid JSON: ") + e.what());
    }
    if (!root.is_object()) throw PolicyError("policy must be a JSON object");
    refuse_unknown(
        root, "",
        {"mode", "read_only_binds", "workspace", "workspace_path", "protected", "network",
         "cgroups", "limits", "env", "cwd", "hostname", "inner_uid", "root_host_uid", "require"});
    Policy policy = default_policy();
    if (root.contains("mode")) {
        const auto mode = mode_from_name(get_string(root["mode"], "mode"));
        if (!mode) fail("mode", "must be one of auto, userns, root, container");
        policy.mode = *mode;
    }
    if (root.contains("read_only_binds"))
        policy.read_only_binds = get_binds(root["read_only_binds"], "read_only_binds");
    if (root.contains("workspace"))
        policy.workspace_host = get_absolute(root["workspace"], "workspace");
    if (root.contains("workspace_path"))
        policy.workspace_path = get_absolute(root["workspace_path"], "workspace_path");
    if (root.contains("protected")) {
        const Json& list = root["protected"];
        if (!list.is_array()) fail("protected", "must be an array of relative paths");
        for (const Json& item : list) {
            if (!item.is_string()) fail("protected", "must be an array of relative paths");
            policy.protected_paths.push_back(item.get<std::string>());
        }
    }
    if (root.contains("network")) {
        const Json& network = root["network"];
        if (network.is_object()) {  // {"allow": [...], "deny": [...]}: the proxy
            refuse_unknown(network, "network.", {"allow", "deny"});
            for (const char* key : {"allow", "deny"}) {
                if (!network.contains(key)) continue;
                const std::string where = std::string("network.") + key;
                if (!network[key].is_array()) fail(where, "must be an array of host patterns");
                auto& list =
                    std::string(key) == "allow" ? policy.network_allow : policy.network_deny;
                for (const Json& item : network[key]) {
                    if (!item.is_string()) fail(where, "must be an array of host patterns");
                    if (auto bad = bad_pattern(item.get<std::string>())) fail(where, *bad);
                    list.push_back(item.get<std::string>());
                }
            }
            policy.network = false;
        } else {
            policy.network = get_bool(network, "network");
        }
    }
    if (root.contains("cgroups")) policy.cgroups = get_bool(root["cgroups"], "cgroups");
    if (root.contains("limits")) read_limits(root["limits"], policy.limits);
    if (root.contains("env")) policy.env = get_env(root["env"]);
    if (root.contains("cwd")) policy.cwd = get_absolute(root["cwd"], "cwd");
    if (root.contains("hostname")) policy.hostname = get_string(root["hostname"], "hostname");
    if (root.contains("inner_uid")) {
        const std::uint64_t uid = get_uint(root["inner_uid"], "inner_uid");
        if (uid == 0 || uid > 65533) fail("inner_uid", "must be in [1, 65533]");
        policy.inner_uid = static_cast<std::uint32_t>(uid);
    }
    if (root.contains("root_host_uid")) {
        const std::uint64_t uid = get_uint(root["root_host_uid"], "root_host_uid");
        if (uid == 0 || uid > 0xfffffffe) fail("root_host_uid", "must be a non-zero uid");
        policy.root_host_uid = static_cast<std::uint32_t>(uid);
    }
    if (root.contains("require")) policy.required = get_layers(root["require"]);
    if (policy.hostname.empty() || policy.hostname.size() > 64)
        fail("hostname", "must be 1 to 64 characters");
    return policy;
}

bool covered_by_binds(const Policy& policy, const std::string& path) {
    return std::any_of(
        policy.read_only_binds.begin(), policy.read_only_binds.end(), [&](const Bind& b) {
            return path == b.sandbox_path || path.rfind(b.sandbox_path + "/", 0) == 0;
        });
}

void set_env(Policy& policy, const std::string& name, const std::string& value) {
    auto it = std::find_if(policy.env.begin(), policy.env.end(),
                           [&](const auto& kv) { return kv.first == name; });
    if (it != policy.env.end())
        it->second = value;
    else
        policy.env.emplace_back(name, value);
}

std::string policy_to_json(const Policy& policy) {
    Json root;
    root["mode"] = std::string(mode_name(policy.mode));
    root["read_only_binds"] = Json::array();
    for (const auto& bind : policy.read_only_binds)
        root["read_only_binds"].push_back({{"host", bind.host_path},
                                           {"sandbox", bind.sandbox_path},
                                           {"optional", bind.optional}});
    if (!policy.workspace_host.empty()) root["workspace"] = policy.workspace_host;
    root["workspace_path"] = policy.workspace_path;
    if (!policy.protected_paths.empty()) root["protected"] = policy.protected_paths;
    if (!policy.network && (!policy.network_allow.empty() || !policy.network_deny.empty()))
        root["network"] = {{"allow", policy.network_allow}, {"deny", policy.network_deny}};
    else
        root["network"] = policy.network;
    root["cgroups"] = policy.cgroups;
    const Limits& l = policy.limits;
    root["limits"] = {{"wall_ms", l.wall_ms},           {"cpu_seconds", l.cpu_seconds},
                      {"memory_bytes", l.memory_bytes}, {"pids", l.pids},
                      {"file_bytes", l.file_bytes},     {"open_files", l.open_files},
                      {"output_bytes", l.output_bytes}, {"tmp_bytes", l.tmp_bytes},
                      {"tmp_inodes", l.tmp_inodes}};
    root["env"] = Json::object();
    for (const auto& [name, value] : policy.env) root["env"][name] = value;
    root["cwd"] = policy.cwd;
    root["hostname"] = policy.hostname;
    root["inner_uid"] = policy.inner_uid;
    root["root_host_uid"] = policy.root_host_uid;
    root["require"] = Json::array();
    for (Layer layer : policy.required) root["require"].push_back(std::string(layer_name(layer)));
    return root.dump(2);
}

}  // namespace gossamer::sandbox
