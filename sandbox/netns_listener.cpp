#include "sandbox/netns_listener.h"

#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <string>

namespace gossamer::sandbox {
namespace {

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

int open_ns(pid_t pid, const char* kind) {
    const std::string path = "/proc/" + std::to_string(pid) + "/ns/" + kind;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("open " + path + ": " + std::strerror(errno));
    return fd;
}

// One byte carrying one descriptor (SCM_RIGHTS), on the stack: usable after clone.
struct FdMessage {
    char byte = 0;
    iovec iov{};
    alignas(cmsghdr) char space[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msghdr& header() {
        iov = {&byte, 1};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = space;
        msg.msg_controllen = sizeof space;
        return msg;
    }
};

bool same_file(int a, int b) {
    struct stat x {
    }, y{};
    return ::fstat(a, &x) == 0 && ::fstat(b, &y) == 0 && x.st_dev == y.st_dev &&
           x.st_ino == y.st_ino;
}

// In the helper (a copy of a threaded process: raw syscalls only). Exit codes say the step.
[[noreturn]] void helper(int user_ns, int net_ns, bool join_user, std::uint16_t port, int channel) {
    if (join_user && ::setns(user_ns, CLONE_NEWUSER) != 0) ::_exit(10);
    if (::setns(net_ns, CLONE_NEWNET) != 0) ::_exit(11);
    const int control = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (control < 0) ::_exit(12);
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, "lo", 3);
    if (::ioctl(control, SIOCGIFFLAGS, &ifr) != 0) ::_exit(13);
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (::ioctl(control, SIOCSIFFLAGS, &ifr) != 0) ::_exit(14);
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0) ::_exit(15);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) ::_exit(16);
    if (::listen(listener, 64) != 0) ::_exit(17);
    FdMessage m;
    m.byte = 1;
    msghdr& msg = m.header();
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &listener, sizeof(int));
    if (::sendmsg(channel, &msg, 0) != 1) ::_exit(18);
    ::_exit(0);
}

}  // namespace

int listen_in_netns(pid_t pid, std::uint16_t port) {
    Fd user{open_ns(pid, "user")}, net{open_ns(pid, "net")}, self{open_ns(::getpid(), "user")};
    const bool join_user = !same_file(user.fd, self.fd);
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
        throw std::runtime_error(std::string("socketpair: ") + std::strerror(errno));
    Fd ours{pair[0]}, theirs{pair[1]};
    const long child = ::syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr);
    if (child < 0) throw std::runtime_error(std::string("clone: ") + std::strerror(errno));
    if (child == 0) helper(user.fd, net.fd, join_user, port, theirs.fd);
    ::close(theirs.fd), theirs.fd = -1;
    FdMessage m;
    msghdr& msg = m.header();
    ssize_t n;
    while ((n = ::recvmsg(ours.fd, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
    }
    int status = 0;
    while (::waitpid(static_cast<pid_t>(child), &status, 0) < 0 && errno == EINTR) {
    }
    const cmsghdr* cmsg = n == 1 ? CMSG_FIRSTHDR(&msg) : nullptr;
    if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS) {
        static const char* steps[] = {
            "setns(user)",      "setns(net)", "socket", "SIOCGIFFLAGS lo", "SIOCSIFFLAGS lo up",
            "socket(listener)", "bind",       "listen", "sendmsg"};
        const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        throw std::runtime_error(std::string("could not listen inside the sandbox's network "
                                             "namespace: ") +
                                 (code >= 10 && code <= 18 ? steps[code - 10] : "the helper died") +
                                 " failed");
    }
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
    return fd;
}

}  // namespace gossamer::sandbox
