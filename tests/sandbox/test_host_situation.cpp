// Why user namespaces fail, in words a user can act on (sandbox/host_situation.h): each
// situation from its facts (pure), and for real: `gossamer doctor` and `gossamer run` under a
// seccomp filter that denies user namespaces the way Docker's default profile does (clone
// and unshare with CLONE_NEWUSER refused, clone3 ENOSYS).
#include <doctest/doctest.h>
#include <fcntl.h>
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
                   const std::string& dir) {
    const std::string out = dir + "/out", err = dir + "/err";
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(o, 1), ::dup2(e, 2);
        setup();
        std::vector<char*> argv{const_cast<char*>(GOSSAMER_BINARY)};
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(GOSSAMER_BINARY, argv.data());
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

// gossamer ARGS with a Docker-like filter: user namespaces refused, clone3 unknown.
Ran under_docker_like_filter(const std::vector<std::string>& args, const std::string& dir) {
    return gossamer_after(
        [] {
            scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
            seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
            seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
            seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
            ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            if (seccomp_load(ctx) != 0) ::_exit(120);
        },
        args, dir);
}

// gossamer ARGS chrooted into a recursive bind of / (in a private mount namespace, so the
// host's mounts are untouched): the kernel refuses new user namespaces to a chrooted process.
Ran in_chroot(const std::vector<std::string>& args, const std::string& dir) {
    const std::string root = dir + "/root";
    std::filesystem::create_directories(root);
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

TEST_CASE("host situation: doctor and run under a Docker-like seccomp filter say why and how") {
    gossamer::test::TempDir dir("situation");
    const auto doctor = under_docker_like_filter({"doctor", "--json"}, dir.path.string());
    const auto report = nlohmann::json::parse(doctor.out);
    CHECK_FALSE(report["layers"]["user_ns"]["ok"].get<bool>());
    REQUIRE(report["situation"].size() >= 1);
    const std::string what = report["situation"][0]["what"];
    CHECK(what.find("seccomp") != std::string::npos);
    CHECK(report["situation"][0]["fix"].get<std::string>().find("seccomp=unconfined") !=
          std::string::npos);

    // An agent whose tool needs the sandbox is refused before anything is made, with the fix.
    std::ofstream(dir.path / "agent.yaml")
        << "name: p\nmodel: {reasoning_effort: low}\ntools: [python]\ntask: hi\n";
    std::ofstream(dir.path / "replay.json") << R"(["<|channel|>final<|message|>hi<|return|>"])";
    const auto store = (dir.path / "s.db").string();
    const auto run =
        under_docker_like_filter({"run", (dir.path / "agent.yaml").string(), "--replay",
                                  (dir.path / "replay.json").string(), "--store", store},
                                 dir.path.string());
    CHECK(run.code == 2);
    CHECK(run.err.find("user_ns") != std::string::npos);
    CHECK(run.err.find("seccomp=unconfined") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(store));  // no session, no store
}

TEST_CASE("host situation: inside a chroot the doctor names the chroot") {
    if (::geteuid() != 0) return;  // making the chroot needs root (CI runs as root)
    gossamer::test::TempDir dir("chroot");
    const auto doctor = in_chroot({"doctor", "--json"}, dir.path.string());
    REQUIRE_MESSAGE(!doctor.out.empty(), "exit " << doctor.code << ": " << doctor.err);
    const auto report = nlohmann::json::parse(doctor.out);
    CHECK_FALSE(report["layers"]["user_ns"]["ok"].get<bool>());
    REQUIRE(report["situation"].size() >= 1);
    CHECK(report["situation"][0]["what"].get<std::string>().find("inside a chroot") !=
          std::string::npos);
    CHECK(report["situation"][0]["fix"].get<std::string>().find("outside the chroot") !=
          std::string::npos);
}
