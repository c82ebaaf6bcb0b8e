// Why user namespaces fail, in words a user can act on (sandbox/host_situation.h): each
// situation from its facts (pure), and for real: `gossamer doctor` and `gossamer run` under a
// seccomp filter that denies user namespaces the way Docker's default profile does (clone
// and unshare with CLONE_NEWUSER refused, clone3 ENOSYS).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sandbox/host_situation.h"
#include "tests/support/temp_dir.h"

namespace sb = gossamer::sandbox;

namespace {

bool mentions(const std::vector<sb::Situation>& s, const std::string& what,
              const std::string& fix) {
    for (const auto& x : s)
        if (x.what.find(what) != std::string::npos && x.fix.find(fix) != std::string::npos)
            return true;
    return false;
}

struct Ran {
    int code = -1;
    std::string out, err;
};

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// gossamer ARGS in a child that first runs `setup` (which exits with its own code when it
// cannot do its part); stdout and stderr are kept in DIR/out and DIR/err.
Ran gossamer_after(const std::function<void()>& setup, const std::vector<std::string>& args,
                   const std::string& dir, const char* program = GOSSAMER_BINARY) {
    const std::string out = dir + "/out", err = dir + "/err";
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(o, 1), ::dup2(e, 2);
        setup();
        std::vector<char*> argv{const_cast<char*>(program)};
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(program, argv.data());
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

// Who gossamer runs as under the filter: root, or nobody (setup drops to 65534 first).
enum class As { root, nobody };

// gossamer ARGS with a Docker-like filter: user namespaces refused (with `all`: every
// namespace, as Docker's default profile does for a process without CAP_SYS_ADMIN), clone3
// unknown.
Ran under_docker_like_filter(const std::vector<std::string>& args, const std::string& dir,
                             bool all = false, As as = As::root) {
    return gossamer_after(
        [all, as] {
            if (as == As::nobody &&
                (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0))
                ::_exit(119);
            scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
            const unsigned long flags = all ? CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID |
                                                  CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
                                                  CLONE_NEWCGROUP
                                            : CLONE_NEWUSER;
            for (unsigned long flag = 1; flag != 0; flag <<= 1) {
                if (!(flags & flag)) continue;
                seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1,
                                 SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
                seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                 SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
            }
            seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
            ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            if (seccomp_load(ctx) != 0) ::_exit(120);
        },
        args, dir);
}

// An agent whose python tool needs the sandbox, a replay that calls it once (printing 6*7)
// and answers; files readable by nobody.
void write_agent(const std::filesystem::path& dir) {
    std::filesystem::permissions(dir, std::filesystem::perms::all);
    std::ofstream(dir / "agent.yaml")
        << "name: p\nmodel: {reasoning_effort: low}\ntools: [{python: {mode: stateless}}]\n"
           "task: hi\n";
    std::ofstream(dir / "replay.json")
        << R"(["<|channel|>commentary to=python <|constrain|>code<|message|>print(6*7)<|call|>",)"
        << R"( "<|channel|>final<|message|>done<|return|>"])";
}

// The store (and the workspaces beside it) go in STORE_DIR, made open to nobody too.
std::vector<std::string> run_args(const std::filesystem::path& dir, const std::string& store_dir,
                                  std::vector<std::string> more = {}) {
    std::filesystem::create_directories(dir / store_dir);
    std::filesystem::permissions(dir / store_dir, std::filesystem::perms::all);
    std::vector<std::string> args = {
        "run",     (dir / "agent.yaml").string(),       "--replay", (dir / "replay.json").string(),
        "--store", (dir / store_dir / "s.db").string(), "--json"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

// The python call's result in a run's --json events.
bool python_printed_42(const std::string& events) {
    return events.find("\"recipient\":\"python\",\"ok\":true,") != std::string::npos &&
           events.find("\"result\":\"42\\n\"") != std::string::npos;
}

// Whether nobody can run the gossamer binary from where it is (a build under a 0700 home
// cannot be): the cases that run as nobody need it.
bool nobody_can_run_gossamer() {
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(1);
        ::_exit(::access(GOSSAMER_BINARY, X_OK) == 0 ? 0 : 1);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// gossamer ARGS chrooted (in a private mount namespace, so the host's mounts are untouched):
// the kernel refuses new user namespaces to a chrooted process. `mount_point`: the chroot is
// a recursive bind of / (its root is a mount point); else gossamer_test_chroot's folder of a
// tmpfs (its root is not, as with a debootstrap tree).
Ran in_chroot(const std::vector<std::string>& args, const std::string& dir, bool mount_point) {
    const std::string root = dir + "/root";
    std::filesystem::create_directories(root);
    if (!mount_point) {
        std::vector<std::string> wrapped = {GOSSAMER_BINARY};
        wrapped.insert(wrapped.end(), args.begin(), args.end());
        return gossamer_after([] {}, wrapped, dir, GOSSAMER_TEST_CHROOT);
    }
    return gossamer_after(
        [&root] {
            if (::unshare(CLONE_NEWNS) != 0) ::_exit(121);
            if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(122);
            if (::mount("/", root.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) ::_exit(123);
            if (::chroot(root.c_str()) != 0 || ::chdir("/") != 0) ::_exit(124);
        },
        args, dir);
}

}  // namespace

TEST_CASE("host situation: each reason user namespaces fail has its own fix") {
    sb::HostFacts ok;
    CHECK(sb::diagnose(ok).empty());

    sb::HostFacts off;
    off.userns_errno = ENOSPC;
    off.max_user_namespaces = 0;
    CHECK(mentions(sb::diagnose(off), "user.max_user_namespaces = 0",
                   "sysctl -w user.max_user_namespaces=15000"));

    sb::HostFacts debian;
    debian.userns_errno = EPERM;
    debian.unprivileged_userns_clone = 0;
    CHECK(mentions(sb::diagnose(debian), "kernel.unprivileged_userns_clone = 0",
                   "sysctl -w kernel.unprivileged_userns_clone=1"));
    debian.root = true;  // root is not bound by the unprivileged switch
    CHECK_FALSE(mentions(sb::diagnose(debian), "unprivileged_userns_clone", ""));

    sb::HostFacts ubuntu;
    ubuntu.userns_errno = EACCES;
    ubuntu.apparmor_restrict_userns = 1;
    CHECK(mentions(sb::diagnose(ubuntu), "AppArmor restricts", "apparmor_parser -r"));
    CHECK(mentions(sb::diagnose(ubuntu), "Ubuntu 24.04", "userns,"));

    sb::HostFacts docker;
    docker.userns_errno = EPERM;
    docker.container = "docker";
    docker.seccomp_filtered = true;
    CHECK(mentions(sb::diagnose(docker), "the docker container's seccomp profile",
                   "--security-opt seccomp=unconfined"));
    docker.container = "kubernetes";
    CHECK(mentions(sb::diagnose(docker), "kubernetes", "seccompProfile: {type: Unconfined}"));

    sb::HostFacts chroot;
    chroot.userns_errno = EPERM;
    chroot.chrooted = true;
    chroot.root = true;
    const auto c = sb::diagnose(chroot);
    REQUIRE(!c.empty());
    CHECK(c.front().what.find("inside a chroot") != std::string::npos);

    sb::HostFacts hidden;  // root, refused, nothing else in sight: a chroot it cannot see
    hidden.root = true;
    hidden.userns_errno = EPERM;
    CHECK(mentions(sb::diagnose(hidden), "most likely runs inside a chroot", "outside the chroot"));

    sb::HostFacts unknown;
    unknown.userns_errno = EINVAL;
    const auto u = sb::diagnose(unknown);
    REQUIRE(u.size() == 1);
    CHECK(u.front().what.find("clone(CLONE_NEWUSER) fails with") != std::string::npos);
    CHECK(sb::situation_text(u).find(". Fix: ") != std::string::npos);
}

TEST_CASE("host situation: this machine's facts read back (user namespaces work here)") {
    const auto facts = sb::read_host_facts();
    CHECK(facts.userns_errno == 0);  // the rest of the sandbox suite needs them too
    CHECK_FALSE(facts.chrooted);
    CHECK(sb::diagnose(facts).empty());
}

TEST_CASE("host situation: user namespaces denied by a seccomp filter, as root and as a user") {
    if (::geteuid() != 0) return;  // the cases switch users (CI runs as root)
    gossamer::test::TempDir dir("situation");
    write_agent(dir.path);
    const auto doctor = under_docker_like_filter({"doctor", "--json"}, dir.path.string());
    const auto report = nlohmann::json::parse(doctor.out);
    CHECK_FALSE(report["layers"]["user_ns"]["ok"].get<bool>());
    REQUIRE(report["situation"].size() >= 1);
    const std::string what = report["situation"][0]["what"];
    CHECK(what.find("seccomp") != std::string::npos);
    CHECK(report["situation"][0]["fix"].get<std::string>().find("seccomp=unconfined") !=
          std::string::npos);
    // As root the namespaces are made as real root: the sandbox works, the doctor says so.
    CHECK(report["mode"] == "root");
    CHECK(report["modes"]["root"]["ok"].get<bool>());
    CHECK(report["end_to_end"]["ok"].get<bool>());
    const auto as_root = under_docker_like_filter(run_args(dir.path, "root"), dir.path.string());
    CHECK_MESSAGE(as_root.code == 0, as_root.err);
    CHECK_MESSAGE(python_printed_42(as_root.out), as_root.out);

    if (!nobody_can_run_gossamer()) {
        MESSAGE("skipped the unprivileged half: nobody cannot reach " << GOSSAMER_BINARY);
        return;
    }
    // As a user: refused before anything is made, with the fix and the container mode named.
    const auto refused =
        under_docker_like_filter(run_args(dir.path, "user"), dir.path.string(), false, As::nobody);
    CHECK(refused.code == 2);
    CHECK(refused.err.find("user_ns") != std::string::npos);
    CHECK(refused.err.find("seccomp=unconfined") != std::string::npos);
    CHECK(refused.err.find("mode: container") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir.path / "user/s.db"));  // no session, no store
}

TEST_CASE("host situation: no namespace at all (Docker's profile without CAP_SYS_ADMIN)") {
    if (::geteuid() != 0) return;
    gossamer::test::TempDir dir("nons");
    write_agent(dir.path);
    // Root cannot make them either: refused with the way out; asked for, container mode runs.
    const auto refused =
        under_docker_like_filter(run_args(dir.path, "refused"), dir.path.string(), true);
    CHECK(refused.code == 2);
    CHECK(refused.err.find("mode: container") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir.path / "refused/s.db"));
    const auto root = under_docker_like_filter(
        run_args(dir.path, "root", {"--sandbox", "container"}), dir.path.string(), true);
    CHECK_MESSAGE(root.code == 0, root.err);
    CHECK_MESSAGE(python_printed_42(root.out), root.out);
    CHECK(root.err.find("sandbox mode container") != std::string::npos);  // said at start-up
    CHECK(root.err.find("does not isolate") != std::string::npos);
    if (!nobody_can_run_gossamer()) return;
    const auto user =
        under_docker_like_filter(run_args(dir.path, "user", {"--sandbox", "container"}),
                                 dir.path.string(), true, As::nobody);
    CHECK_MESSAGE(user.code == 0, user.err);
    CHECK_MESSAGE(python_printed_42(user.out), user.out);
}

TEST_CASE("host situation: inside a chroot the doctor names it and the sandbox still works") {
    if (::geteuid() != 0) return;  // making the chroot needs root (CI runs as root)
    for (const bool mount_point : {true, false}) {
        CAPTURE(mount_point);
        gossamer::test::TempDir dir("chroot");
        write_agent(dir.path);
        const auto doctor = in_chroot({"doctor", "--json"}, dir.path.string(), mount_point);
        REQUIRE_MESSAGE(!doctor.out.empty(), "exit " << doctor.code << ": " << doctor.err);
        const auto report = nlohmann::json::parse(doctor.out);
        CHECK_FALSE(report["layers"]["user_ns"]["ok"].get<bool>());
        REQUIRE(report["situation"].size() >= 1);
        CHECK(report["situation"][0]["what"].get<std::string>().find("inside a chroot") !=
              std::string::npos);
        CHECK(report["situation"][0]["fix"].get<std::string>().find("outside the chroot") !=
              std::string::npos);
        CHECK(report["mode"] == "root");
        CHECK(report["end_to_end"]["ok"].get<bool>());
        // The agent's python runs: namespaces made as real root, the code as uid 65534.
        const auto run = in_chroot(run_args(dir.path, "s"), dir.path.string(), mount_point);
        CHECK_MESSAGE(run.code == 0, run.err);
        CHECK_MESSAGE(python_printed_42(run.out), run.out);
        const auto id =
            in_chroot({"sandbox", "exec", "--", "id", "-u"}, dir.path.string(), mount_point);
        CHECK_MESSAGE(id.out == "65534\n", id.err);
    }
}
