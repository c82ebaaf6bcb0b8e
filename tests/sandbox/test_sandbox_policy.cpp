// Pure parts of the sandbox, tested by value: the default policy, the JSON policy format,
// the mount plan (with a fake host), the seccomp rules, rlimits and the Landlock plan.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>

#include "sandbox/landlock.h"
#include "sandbox/mount_plan.h"
#include "sandbox/policy.h"
#include "sandbox/rlimits.h"
#include "sandbox/seccomp_filter.h"

namespace sbx = gossamer::sandbox;

namespace {

bool binds(const sbx::Policy& policy, const std::string& host) {
    return std::any_of(policy.read_only_binds.begin(), policy.read_only_binds.end(),
                       [&](const sbx::Bind& b) { return b.host_path == host; });
}

bool denies(const std::vector<sbx::SeccompRule>& rules, const std::string& name) {
    return std::any_of(rules.begin(), rules.end(),
                       [&](const sbx::SeccompRule& r) { return r.syscall == name; });
}

sbx::HostEntry fake_host(const std::string& path) {
    using Kind = sbx::HostEntry::Kind;
    if (path == "/usr" || path == "/work/ws") return {Kind::directory, {}};
    if (path == "/bin") return {Kind::symlink, "usr/bin"};
    if (path == "/work/ws/.git" || path == "/work/ws/lib/.git") return {Kind::directory, {}};
    if (path == "/work/ws/link") return {Kind::symlink, "/etc"};
    if (path == "/etc/ld.so.cache") return {Kind::file, {}};
    return {};
}

}  // namespace

TEST_CASE("sandbox: default policy binds the runtime and nothing of the host's secrets") {
    const sbx::Policy policy = sbx::default_policy();
    CHECK(binds(policy, "/usr"));
    CHECK(binds(policy, "/etc/ld.so.cache"));
    for (const char* secret : {"/", "/etc", "/home", "/root", "/run", "/var", "/etc/passwd",
                               "/etc/shadow", "/tmp", "/sys", "/dev"})
        CHECK_MESSAGE(!binds(policy, secret), secret);
    CHECK(!policy.network);
    CHECK(policy.isolation);
    CHECK(policy.workspace_host.empty());
    const auto layers = sbx::required_layers(policy);
    for (auto layer : {sbx::Layer::user_ns, sbx::Layer::pid_ns, sbx::Layer::mount_ns,
                       sbx::Layer::net_ns, sbx::Layer::seccomp, sbx::Layer::rlimits})
        CHECK(std::find(layers.begin(), layers.end(), layer) != layers.end());
}

TEST_CASE("sandbox: policy JSON round-trips and overrides the defaults") {
    const sbx::Policy policy = sbx::policy_from_json(R"({
        "read_only_binds": ["/usr", {"host": "/opt/venv", "sandbox": "/venv", "optional": true}],
        "workspace": "/work/ws", "network": true,
        "limits": {"wall_ms": 5000, "pids": 8},
        "env": {"PATH": "/usr/bin"}, "require": ["landlock", "cgroup_memory"]})");
    CHECK(policy.read_only_binds ==
          std::vector<sbx::Bind>{{"/usr", "/usr", false}, {"/opt/venv", "/venv", true}});
    CHECK(policy.workspace_host == "/work/ws");
    CHECK(policy.network);
    CHECK(policy.limits.wall_ms == 5000);
    CHECK(policy.limits.pids == 8);
    CHECK(policy.limits.cpu_seconds == sbx::Limits{}.cpu_seconds);
    CHECK(policy.env == std::vector<std::pair<std::string, std::string>>{{"PATH", "/usr/bin"}});
    CHECK(policy.required ==
          std::vector<sbx::Layer>{sbx::Layer::landlock, sbx::Layer::cgroup_memory});
    CHECK(sbx::policy_from_json(sbx::policy_to_json(policy)) == policy);
}

TEST_CASE("sandbox: policy JSON refuses unknown keys and bad values, naming them") {
    auto message = [](const char* text) {
        try {
            sbx::policy_from_json(text);
        } catch (const sbx::PolicyError& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    CHECK(message(R"({"netwrok": true})").find("'netwrok': unknown key") != std::string::npos);
    CHECK(message(R"({"limits": {"wal_ms": 1}})").find("'limits.wal_ms'") != std::string::npos);
    CHECK(message(R"({"network": "yes"})").find("'network': must be true or false") !=
          std::string::npos);
    CHECK(message(R"({"workspace": "relative/dir"})").find("absolute") != std::string::npos);
    CHECK(message(R"({"read_only_binds": ["/usr/../etc"]})").find("'..'") != std::string::npos);
    CHECK(message(R"({"require": ["magic"]})").find("unknown layer 'magic'") != std::string::npos);
    CHECK(message(R"({"limits": {"pids": -1}})").find("non-negative") != std::string::npos);
    CHECK(message("[1]") == "policy must be a JSON object");
    CHECK(message("1e309").find("not valid JSON") != std::string::npos);  // found by fuzzing
    CHECK(message(R"({"mode": "jail"})").find("'mode': must be one of auto, userns, root") !=
          std::string::npos);
}

TEST_CASE("sandbox: modes by name, in JSON, and what container mode leaves open") {
    for (auto mode : {sbx::Mode::automatic, sbx::Mode::user_namespace, sbx::Mode::root_namespace,
                      sbx::Mode::container}) {
        CHECK(sbx::mode_from_name(sbx::mode_name(mode)) == mode);
        sbx::Policy policy = sbx::default_policy();
        policy.mode = mode;
        CHECK(sbx::policy_from_json(sbx::policy_to_json(policy)).mode == mode);
    }
    CHECK_FALSE(sbx::mode_from_name("none"));
    CHECK(sbx::policy_from_json("{}").mode == sbx::Mode::automatic);  // never container unasked
    CHECK(sbx::mode_caveats(sbx::Mode::user_namespace).empty());
    CHECK(sbx::mode_caveats(sbx::Mode::container).find("process table") != std::string::npos);
}

TEST_CASE("sandbox: container mode's seccomp rules and Landlock plan") {
    const auto rules = sbx::seccomp_rules(false, true);
    CHECK(denies(rules, "setsid"));
    CHECK(denies(rules, "setpgid"));
    const sbx::SeccompRule every_socket{"socket", sbx::SeccompRule::Match::always, 0, 0, 0, EPERM};
    CHECK(std::find(rules.begin(), rules.end(), every_socket) != rules.end());
    CHECK_FALSE(denies(sbx::seccomp_rules(false), "setsid"));
    const auto online = sbx::seccomp_rules(true, true);
    CHECK(std::find(online.begin(), online.end(), every_socket) == online.end());
    CHECK(sbx::compile_seccomp(rules).size() > 50);

    sbx::Policy policy;
    policy.read_only_binds = {{"/usr", "/usr", false}, {"/opt/venv", "/venv", false}};
    policy.workspace_host = "/work/ws";
    const auto plan = sbx::build_container_landlock_plan(policy, 7, "/tmp/gossamer-sandbox-x");
    const std::uint64_t write_file = 1ull << 1;
    std::vector<std::string> paths;
    for (const auto& rule : plan.rules) {
        paths.push_back(rule.path);
        if (rule.path == "/usr" || rule.path == "/opt/venv") CHECK((rule.access & write_file) == 0);
        if (rule.path == "/work/ws" || rule.path == "/tmp/gossamer-sandbox-x")
            CHECK(rule.access == plan.handled_fs);
    }
    for (const char* open :
         {"/usr", "/opt/venv", "/work/ws", "/tmp/gossamer-sandbox-x", "/dev/null"})
        CHECK_MESSAGE(std::find(paths.begin(), paths.end(), open) != paths.end(), open);
    for (const char* closed : {"/", "/proc", "/tmp", "/dev/shm"})  // host paths: not granted
        CHECK_MESSAGE(std::find(paths.begin(), paths.end(), closed) == paths.end(), closed);
    CHECK(plan.scoped == 3);  // signals and abstract sockets stay inside
}

TEST_CASE("sandbox: mount plan for a small policy, whole value") {
    sbx::Policy policy;
    policy.read_only_binds = {{"/usr", "/usr", false},
                              {"/bin", "/bin", false},
                              {"/etc/ld.so.cache", "/etc/ld.so.cache", false},
                              {"/missing", "/missing", true}};
    policy.workspace_host = "/work/ws";
    policy.limits.tmp_bytes = 1024;
    policy.limits.tmp_inodes = 10;
    using Op = sbx::MountOp;
    const std::vector<sbx::MountStep> expected = {
        {Op::tmpfs, "/newroot", "", "mode=0755,size=1048576,nr_inodes=1024", 0},
        {Op::mkdir, "/newroot/usr", "", "", 0755},
        {Op::bind_ro, "/newroot/usr", "/oldroot/usr", "", 0},
        {Op::symlink, "/newroot/bin", "usr/bin", "", 0},
        {Op::mkdir, "/newroot/etc", "", "", 0755},
        {Op::touch, "/newroot/etc/ld.so.cache", "", "", 0644},
        {Op::bind_ro, "/newroot/etc/ld.so.cache", "/oldroot/etc/ld.so.cache", "", 0},
        {Op::mkdir, "/newroot/workspace", "", "", 0755},
        {Op::bind_rw, "/newroot/workspace", "/oldroot/work/ws", "", 0},
        {Op::mkdir, "/newroot/tmp", "", "", 0755},
        {Op::tmpfs, "/newroot/tmp", "", "mode=1777,size=1024,nr_inodes=10", 0},
        {Op::mkdir, "/newroot/dev", "", "", 0755},
        {Op::tmpfs, "/newroot/dev", "", "mode=0755,size=65536,nr_inodes=64", 0},
        {Op::touch, "/newroot/dev/null", "", "", 0666},
        {Op::bind_dev, "/newroot/dev/null", "/oldroot/dev/null", "", 0},
        {Op::touch, "/newroot/dev/zero", "", "", 0666},
        {Op::bind_dev, "/newroot/dev/zero", "/oldroot/dev/zero", "", 0},
        {Op::touch, "/newroot/dev/full", "", "", 0666},
        {Op::bind_dev, "/newroot/dev/full", "/oldroot/dev/full", "", 0},
        {Op::touch, "/newroot/dev/random", "", "", 0666},
        {Op::bind_dev, "/newroot/dev/random", "/oldroot/dev/random", "", 0},
        {Op::touch, "/newroot/dev/urandom", "", "", 0666},
        {Op::bind_dev, "/newroot/dev/urandom", "/oldroot/dev/urandom", "", 0},
        {Op::symlink, "/newroot/dev/fd", "/proc/self/fd", "", 0},
        {Op::symlink, "/newroot/dev/stdin", "/proc/self/fd/0", "", 0},
        {Op::symlink, "/newroot/dev/stdout", "/proc/self/fd/1", "", 0},
        {Op::symlink, "/newroot/dev/stderr", "/proc/self/fd/2", "", 0},
        {Op::mkdir, "/newroot/dev/shm", "", "", 01777},
        {Op::tmpfs, "/newroot/dev/shm", "", "mode=1777,size=1024,nr_inodes=10", 0},
        {Op::mkdir, "/newroot/proc", "", "", 0755},
        {Op::proc, "/newroot/proc", "", "", 0},
        {Op::write_file, "/newroot/etc/passwd", "", sbx::synthesized_passwd(policy), 0644},
        {Op::write_file, "/newroot/etc/group", "", "root:x:0:\nsandbox:x:1000:\nnogroup:x:65534:\n",
         0644},
        {Op::write_file, "/newroot/etc/hosts", "", "127.0.0.1 localhost sandbox\n::1 localhost\n",
         0644},
        {Op::write_file, "/newroot/etc/hostname", "", "sandbox\n", 0644},
        {Op::remount_ro, "/newroot", "", "", 0},
    };
    const auto plan = sbx::build_mount_plan(policy, fake_host);
    REQUIRE(plan.size() == expected.size());
    for (std::size_t i = 0; i < plan.size(); ++i) CHECK_MESSAGE(plan[i] == expected[i], "step ", i);
}

TEST_CASE("sandbox: mount plan refuses missing sources and reserved paths") {
    sbx::Policy policy;
    policy.read_only_binds = {{"/nope", "/nope", false}};
    CHECK_THROWS_WITH_AS(sbx::build_mount_plan(policy, fake_host),
                         doctest::Contains("'/nope' does not exist"), sbx::PolicyError);
    policy.read_only_binds = {{"/usr", "/proc/usr", false}};
    CHECK_THROWS_WITH_AS(sbx::build_mount_plan(policy, fake_host), doctest::Contains("reserved"),
                         sbx::PolicyError);
    policy.read_only_binds = {};
    policy.workspace_host = "/etc/ld.so.cache";
    CHECK_THROWS_WITH_AS(sbx::build_mount_plan(policy, fake_host),
                         doctest::Contains("not a directory"), sbx::PolicyError);
}

TEST_CASE("sandbox: protected paths are bound read-only after the workspace, checked first") {
    sbx::Policy policy;
    policy.read_only_binds = {};
    policy.workspace_host = "/work/ws";
    policy.protected_paths = {".git", "lib/.git", "missing"};
    const auto plan = sbx::build_mount_plan(policy, fake_host);
    std::vector<sbx::MountStep> protects;
    bool after_workspace = false;
    for (const auto& step : plan) {
        if (step.op == sbx::MountOp::bind_rw) after_workspace = true;
        if (step.op == sbx::MountOp::protect) {
            CHECK(after_workspace);
            protects.push_back(step);
        }
    }
    REQUIRE(protects.size() == 2);  // "missing" has nothing to protect
    CHECK(protects[0].target == "/newroot/workspace/.git");
    CHECK(protects[0].source == "/newroot/workspace");
    CHECK(protects[1].data == "lib/.git");
    for (const char* bad : {"/abs", "a/../b", "./x", "a//b", ""}) {
        policy.protected_paths = {bad};
        CAPTURE(bad);
        CHECK_THROWS_AS(sbx::build_mount_plan(policy, fake_host), sbx::PolicyError);
    }
    policy.protected_paths = {"link"};
    CHECK_THROWS_WITH_AS(sbx::build_mount_plan(policy, fake_host), doctest::Contains("symlink"),
                         sbx::PolicyError);
    policy.workspace_host.clear();
    policy.protected_paths = {".git"};
    CHECK_THROWS_AS(sbx::build_mount_plan(policy, fake_host), sbx::PolicyError);
    const auto json = sbx::policy_to_json([] {
        sbx::Policy p;
        p.workspace_host = "/work/ws";
        p.protected_paths = {".git"};
        return p;
    }());
    CHECK(sbx::policy_from_json(json).protected_paths == std::vector<std::string>{".git"});
}

TEST_CASE("sandbox: seccomp deny list covers the reference cases and compiles") {
    const auto off = sbx::seccomp_rules(false);
    for (const char* name : {"ptrace",
                             "process_vm_readv",
                             "process_vm_writev",
                             "io_uring_setup",
                             "keyctl",
                             "add_key",
                             "request_key",
                             "bpf",
                             "perf_event_open",
                             "mount",
                             "umount2",
                             "pivot_root",
                             "move_mount",
                             "fsopen",
                             "open_tree",
                             "unshare",
                             "setns",
                             "kexec_load",
                             "init_module",
                             "finit_module",
                             "delete_module",
                             "userfaultfd",
                             "personality"})
        CHECK_MESSAGE(denies(off, name), name);
    const sbx::SeccompRule tiocsti{
        "ioctl", sbx::SeccompRule::Match::arg_masked_eq, 1, 0xffffffffu, 0x5412, EPERM};
    CHECK(std::find(off.begin(), off.end(), tiocsti) != off.end());
    const sbx::SeccompRule inet{"socket", sbx::SeccompRule::Match::arg_ne, 0, 0, AF_UNIX, EPERM};
    CHECK(std::find(off.begin(), off.end(), inet) != off.end());
    const auto on = sbx::seccomp_rules(true);
    CHECK(std::find(on.begin(), on.end(), inet) == on.end());
    CHECK(denies(on, "ptrace"));
    CHECK(sbx::compile_seccomp(off).size() > 50);
}

TEST_CASE("sandbox: rlimit plan follows the limits, core always 0") {
    sbx::Limits limits;
    limits.cpu_seconds = 3;
    limits.memory_bytes = 0;  // no limit: left alone
    limits.pids = 10;
    limits.file_bytes = 100;
    limits.open_files = 64;
    CHECK(sbx::rlimit_plan(limits) == std::vector<sbx::RlimitStep>{{RLIMIT_CORE, 0},
                                                                   {RLIMIT_CPU, 3},
                                                                   {RLIMIT_NPROC, 11},
                                                                   {RLIMIT_FSIZE, 100},
                                                                   {RLIMIT_NOFILE, 64}});
}

TEST_CASE("sandbox: landlock plan grants write only to the workspace, /tmp and devices") {
    sbx::Policy policy;
    policy.workspace_host = "/work/ws";
    CHECK(sbx::build_landlock_plan(policy, 0).abi == 0);
    const auto plan = sbx::build_landlock_plan(policy, 7);
    CHECK(plan.abi == 7);
    CHECK(plan.handled_net == 3);  // TCP bind and connect denied without network
    CHECK(plan.scoped == 3);
    const std::uint64_t write_file = 1ull << 1;
    for (const auto& rule : plan.rules) {
        const bool writable_dir =
            rule.path == "/tmp" || rule.path == "/dev/shm" || rule.path == "/workspace";
        if (rule.path == "/" || rule.path.rfind("/usr", 0) == 0)
            CHECK_MESSAGE((rule.access & write_file) == 0, rule.path);
        if (writable_dir) CHECK(rule.access == plan.handled_fs);
    }
    policy.network = true;
    CHECK(sbx::build_landlock_plan(policy, 7).handled_net == 0);
    CHECK(sbx::build_landlock_plan(policy, 3).scoped == 0);
}
