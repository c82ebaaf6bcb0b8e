// gossamer_sandbox_probe: tries one system call inside the sandbox and reports its result,
// the idea of bubblewrap's try-syscall (the code is ours). `probe NAME` prints
// "NAME rc=R errno=E (text)" and exits with the errno (0 when the call succeeded), so a
// test asserts the exact errno a filter returned. Not part of the library; tests only.
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/io_uring.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace {

long call(std::string_view name) {
    if (name == "ptrace") return ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    if (name == "ptrace_attach") return ::ptrace(PTRACE_ATTACH, 1, nullptr, nullptr);
    if (name == "process_vm_readv") {
        char buffer[8];
        iovec local{buffer, sizeof buffer}, remote{buffer, sizeof buffer};
        return ::process_vm_readv(1, &local, 1, &remote, 1, 0);
    }
    if (name == "unshare_user") return ::unshare(CLONE_NEWUSER);
    if (name == "unshare_mount") return ::unshare(CLONE_NEWNS);
    if (name == "clone_newuser")
        return ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (name == "clone3") return ::syscall(SYS_clone3, nullptr, 0);
    if (name == "setns") return ::setns(0, 0);
    if (name == "mount") return ::mount("tmpfs", "/tmp", "tmpfs", 0, nullptr);
    if (name == "umount") return ::umount2("/proc", MNT_DETACH);
    if (name == "pivot_root") return ::syscall(SYS_pivot_root, "/tmp", "/tmp");
    if (name == "chroot") return ::chroot("/tmp");
    if (name == "keyctl") return ::syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0);
    if (name == "add_key") return ::syscall(SYS_add_key, "user", "x", "y", 1, -3);
    if (name == "request_key") return ::syscall(SYS_request_key, "user", "x", nullptr, 0);
    if (name == "bpf") return ::syscall(SYS_bpf, 0, nullptr, 0);
    if (name == "perf_event_open") return ::syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0);
    if (name == "userfaultfd") return ::syscall(SYS_userfaultfd, 0);
    if (name == "io_uring_setup") {
        io_uring_params params{};
        return ::syscall(SYS_io_uring_setup, 4, &params);
    }
    if (name == "kexec_load") return ::syscall(SYS_kexec_load, 0, 0, nullptr, 0);
    if (name == "init_module") return ::syscall(SYS_init_module, nullptr, 0, "");
    if (name == "open_by_handle_at") return ::syscall(SYS_open_by_handle_at, -1, nullptr, 0);
    if (name == "personality") return ::syscall(SYS_personality, 0x0040000 /* ADDR_NO_RANDOMIZE */);
    if (name == "settimeofday") {
        timeval tv{0, 0};
        return ::settimeofday(&tv, nullptr);
    }
    if (name == "clock_settime") {
        timespec ts{0, 0};
        return ::clock_settime(CLOCK_REALTIME, &ts);
    }
    if (name == "sethostname") return ::sethostname("x", 1);
    if (name == "tiocsti") {
        char c = 'x';
        return ::ioctl(0, TIOCSTI, &c);
    }
    if (name == "tiocsti_high") {  // CVE-2019-10063: the kernel ignores the high bits
        char c = 'x';
        return ::syscall(SYS_ioctl, 0, TIOCSTI | (1ul << 32), &c);
    }
    if (name == "tioclinux") {
        char c = 0;
        return ::ioctl(0, TIOCLINUX, &c);
    }
    if (name == "socket_inet") return ::socket(AF_INET, SOCK_STREAM, 0);
    if (name == "socket_inet6") return ::socket(AF_INET6, SOCK_DGRAM, 0);
    if (name == "socket_raw") return ::socket(AF_INET, SOCK_RAW, 1);
    if (name == "socket_packet") return ::socket(AF_PACKET, SOCK_RAW, 0);
    if (name == "socket_netlink") return ::socket(AF_NETLINK, SOCK_RAW, 0);
    if (name == "socket_vsock") return ::socket(AF_VSOCK, SOCK_STREAM, 0);
    if (name == "socket_inet_high")
        return ::syscall(SYS_socket, AF_INET | (1ul << 32), SOCK_STREAM, 0);
    if (name == "socket_unix") return ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (name == "mknod") return ::mknod("/tmp/sda", S_IFBLK | 0600, makedev(8, 0));
    if (name == "nnp")
        return ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : (errno = EINVAL, -1);
    if (name == "capget") {
        __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
        __user_cap_data_struct data[2] = {};
        if (::syscall(SYS_capget, &header, data) != 0) return -1;
        const bool none =
            !data[0].effective && !data[1].effective && !data[0].permitted && !data[1].permitted;
        return none ? 0 : (errno = EPERM, -1);  // EPERM here means "capabilities held"
    }
    if (name == "int80") {  // getpid through the i386 entry: must be killed by the arch check
        long rc = 20;
        asm volatile("int $0x80" : "+a"(rc) : : "memory");
        return rc;
    }
    if (name == "x32") return ::syscall(0x40000000 | SYS_getpid);
    if (name == "kill_init") return ::kill(1, SIGKILL) == 0 && ::kill(1, 0) == 0 ? 0 : -1;
    if (name == "setrlimit_raise") {
        rlimit lim{};
        ::getrlimit(RLIMIT_NOFILE, &lim);
        lim.rlim_max += 1024;
        lim.rlim_cur = lim.rlim_max;
        return ::setrlimit(RLIMIT_NOFILE, &lim);
    }
    errno = ENOSYS;
    std::fprintf(stderr, "probe: unknown call '%.*s'\n", static_cast<int>(name.size()),
                 name.data());
    return -2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: gossamer_sandbox_probe NAME\n");
        return 255;
    }
    errno = 0;
    const long rc = call(argv[1]);
    const int err = rc < 0 ? errno : 0;
    std::printf("%s rc=%ld errno=%d (%s)\n", argv[1], rc, err, std::strerror(err));
    return err;
}
