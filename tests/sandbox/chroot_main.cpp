// gossamer_test_chroot COMMAND ARGS...: runs COMMAND inside a chroot whose root is not a
// mount point (a folder of a tmpfs, the way a debootstrap tree is), built in a private mount
// namespace so the host's mounts are untouched: /usr, /etc, /dev, /proc, /sys, /tmp and the
// folder holding this build are bound in; /bin, /sbin, /lib* are the host's symlinks. The
// kernel refuses new user namespaces to a chrooted process, so the sandbox must make its
// namespaces as real root there. Needs root: exits 77 (ctest's skip) otherwise.
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& what) {
    std::perror(("gossamer_test_chroot: " + what).c_str());
    std::exit(125);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: gossamer_test_chroot COMMAND ARGS...\n");
        return 125;
    }
    if (::geteuid() != 0) {
        std::fprintf(stderr, "gossamer_test_chroot: needs root (skipped)\n");
        return 77;
    }
    // The mount point is made here and removed once the command ends (the child's mounts
    // vanish with its namespace; the folder would stay behind in the host's /tmp).
    char base[] = "/tmp/gossamer-chroot-XXXXXX";
    if (::mkdtemp(base) == nullptr) fail("mkdtemp");
    const pid_t child = ::fork();
    if (child < 0) fail("fork");
    if (child > 0) {
        int status = 0;
        while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
        }
        ::rmdir(base);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (::unshare(CLONE_NEWNS) != 0) fail("unshare(CLONE_NEWNS)");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail("make / private");
    if (::mount("tmpfs", base, "tmpfs", 0, "mode=0755") != 0) fail("mount tmpfs");
    const fs::path root = fs::path(base) / "root";  // a folder, not a mount point
    fs::create_directories(root);
    std::vector<std::string> dirs = {"usr", "etc", "dev", "proc", "sys", "tmp"};
    // the build (and a clone anywhere, /root included) must be reachable at the same path
    const std::string self = fs::canonical("/proc/self/exe").string();
    const std::string top = self.substr(1, self.find('/', 1) - 1);
    if (std::find(dirs.begin(), dirs.end(), top) == dirs.end()) dirs.push_back(top);
    for (const auto& d : dirs) {
        fs::create_directories(root / d);
        const std::string host = "/" + d;
        if (::mount(host.c_str(), (root / d).c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
            fail("bind " + host);
    }
    for (const char* link : {"bin", "sbin", "lib", "lib32", "lib64", "libx32"}) {
        std::error_code ec;
        const fs::path host = fs::path("/") / link;
        if (fs::is_symlink(host, ec)) fs::create_symlink(fs::read_symlink(host), root / link);
    }
    const std::string cwd = fs::current_path().string();
    if (::chroot(root.c_str()) != 0) fail("chroot");
    if (::chdir(cwd.c_str()) != 0 && ::chdir("/") != 0) fail("chdir");
    ::execv(argv[1], argv + 1);
    fail(std::string("execv ") + argv[1]);
}
