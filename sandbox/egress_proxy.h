// The host side of a sandbox's domain allowlist: an HTTP/HTTPS (CONNECT) proxy on its own
// Boost.Asio thread, accepting on a listening socket that lives in the sandbox's network
// namespace (netns_listener.h), so it is the only thing the sandbox can reach. Each request is
// checked (egress_rules.h): the host before resolution, then the proxy resolves it itself and
// checks every address, and connects to exactly an address it checked (no DNS rebinding
// between check and use). Tunnels are relayed byte for byte; plain HTTP is forwarded once
// with `Connection: close`. Every decision goes to `log`. It must not know sessions or tools.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "sandbox/egress_rules.h"

namespace gossamer::sandbox {

struct EgressDecision {
    bool allowed = false;
    std::string host;
    std::uint16_t port = 0;
    std::string address;  // the address connected to (allowed) or refused
    std::string why;      // refused: the reason
    std::string text() const;  // "allowed CONNECT pypi.org:443 (151.101.0.223)", "denied ..."
};

class EgressProxy {
  public:
    // Takes the listening socket `listener_fd` (owned from now on) and serves until destroyed;
    // `log` is called on the proxy's thread.
    EgressProxy(int listener_fd, EgressRules rules,
                std::function<void(const EgressDecision&)> log);
    ~EgressProxy();  // closes the listener and every connection, joins the thread
    EgressProxy(const EgressProxy&) = delete;
    EgressProxy& operator=(const EgressProxy&) = delete;

    static constexpr std::uint16_t kPort = 3128;       // where it listens inside the sandbox
    static constexpr std::size_t kMaxConnections = 64;  // at once, per sandbox

  private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace gossamer::sandbox
