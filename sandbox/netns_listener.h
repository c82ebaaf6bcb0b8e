// A listening TCP socket on 127.0.0.1:PORT inside another process's network namespace (a
// sandbox's, whose loopback is brought up too), made by a short-lived helper process that
// joins the sandbox's user namespace (when it has its own) and network namespace and hands
// the socket back. What connects to it comes from inside the sandbox only; the socket is
// served from the host (egress_proxy.h). Parent side; throws std::runtime_error saying why.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace gossamer::sandbox {

int listen_in_netns(pid_t pid, std::uint16_t port);

}  // namespace gossamer::sandbox
