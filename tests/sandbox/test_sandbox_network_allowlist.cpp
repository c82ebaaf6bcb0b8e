// Network by domain allowlist (sandbox/egress_rules.h, egress_proxy.h, netns_listener.h): the
// rules by value, then real sandboxes whose only way out is gossamer's proxy, against a local
// HTTP server on the host (python3 -m http.server on 127.0.0.1): the allowed name works (plain
// HTTP and a CONNECT tunnel), and IP literals, the metadata address, a name that resolves to
// loopback when only the name is allowed, dialling direct without the proxy variables, raw and
// packet sockets, and DNS all fail; each decision is in the result.
#include <doctest/doctest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "sandbox/egress_proxy.h"
#include "sandbox/egress_rules.h"
#include "tests/sandbox/sandbox_support.h"

using namespace gossamer::test;
namespace ip = boost::asio::ip;

extern char** environ;

namespace {

sbx::EgressRules rules(std::vector<std::string> allow, std::vector<std::string> deny = {}) {
    return {std::move(allow), std::move(deny)};
}

bool refused(const sbx::EgressRules& r, const char* address) {
    return sbx::refuse_address(r, ip::make_address(address)).has_value();
}

// python3's http.server on 127.0.0.1 (host network), serving DIR; killed on destruction.
struct LocalServer {
    pid_t pid = -1;
    int port = 0;
    explicit LocalServer(const std::string& dir) {
        port = 21000 + (::getpid() % 9000);
        const std::string p = std::to_string(port);
        std::vector<std::string> argv = {"python3", "-m",        "http.server", p,
                                         "--bind",  "127.0.0.1", "--directory", dir};
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        REQUIRE(::posix_spawnp(&pid, "python3", nullptr, nullptr, args.data(), environ) == 0);
        for (int i = 0; i < 100; ++i) {
            if (std::system(
                    ("bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + p + "' 2>/dev/null").c_str()) == 0)
                return;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        FAIL("the local HTTP server did not start");
    }
    ~LocalServer() {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
};

sbx::Policy allowlist_policy(std::vector<std::string> allow) {
    sbx::Policy policy = test_policy();
    policy.network = false;
    policy.network_allow = std::move(allow);
    return policy;
}

bool mentions(const std::vector<std::string>& lines, const std::string& what) {
    for (const auto& l : lines)
        if (l.find(what) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST_CASE("network allowlist: patterns, hosts before resolution, addresses after") {
    CHECK(sbx::host_matches("pypi.org", "PyPI.org."));
    CHECK_FALSE(sbx::host_matches("pypi.org", "files.pypi.org"));
    CHECK(sbx::host_matches("*.githubusercontent.com", "raw.githubusercontent.com"));
    CHECK_FALSE(sbx::host_matches("*.githubusercontent.com", "githubusercontent.com"));
    CHECK_FALSE(sbx::host_matches("*.example.com", "evil-example.com"));
    CHECK(sbx::bad_pattern("*"));
    CHECK(sbx::bad_pattern("a b"));
    CHECK(sbx::bad_pattern("*.x.*"));
    CHECK_FALSE(sbx::bad_pattern("10.0.0.5"));

    const auto r = rules({"pypi.org", "*.pythonhosted.org", "10.0.0.5"}, {"bad.pythonhosted.org"});
    CHECK_FALSE(sbx::refuse_host(r, "pypi.org"));
    CHECK_FALSE(sbx::refuse_host(r, "files.pythonhosted.org"));
    CHECK(sbx::refuse_host(r, "bad.pythonhosted.org")->find("denied") != std::string::npos);
    CHECK(sbx::refuse_host(r, "example.com")->find("not in the allowlist") != std::string::npos);
    CHECK(sbx::refuse_host(r, "1.1.1.1")->find("IP address") != std::string::npos);
    CHECK_FALSE(sbx::refuse_host(r, "10.0.0.5"));  // named in the allowlist
    CHECK(sbx::refuse_host(r, "a..b"));

    for (const char* forbidden :
         {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
          "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1",
          "fd00::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "2002:7f00:1::"}) {
        CAPTURE(forbidden);
        CHECK(refused(r, forbidden));
    }
    for (const char* open : {"151.101.0.223", "172.32.0.1", "2606:4700::1111", "10.0.0.5"}) {
        CAPTURE(open);
        CHECK_FALSE(refused(r, open));
    }
}

TEST_CASE("network allowlist: proxy requests are read strictly") {
    auto c = sbx::parse_proxy_request("CONNECT PyPI.org:443 HTTP/1.1\r\nHost: pypi.org\r\n\r\n");
    REQUIRE(std::holds_alternative<sbx::ProxyRequest>(c));
    CHECK(std::get<sbx::ProxyRequest>(c).tunnel);
    CHECK(std::get<sbx::ProxyRequest>(c).host == "pypi.org");
    CHECK(std::get<sbx::ProxyRequest>(c).port == 443);
    auto v6 = sbx::parse_proxy_request("CONNECT [2606:4700::1111]:443 HTTP/1.1\r\n\r\n");
    REQUIRE(std::holds_alternative<sbx::ProxyRequest>(v6));
    CHECK(std::get<sbx::ProxyRequest>(v6).host == "2606:4700::1111");
    auto g = sbx::parse_proxy_request(
        "GET http://example.com:8080/a?b=1 HTTP/1.1\r\nHost: example.com\r\nProxy-Connection: "
        "keep-alive\r\nProxy-Authorization: x\r\nAccept: */*\r\n\r\n");
    REQUIRE(std::holds_alternative<sbx::ProxyRequest>(g));
    const auto& get = std::get<sbx::ProxyRequest>(g);
    CHECK_FALSE(get.tunnel);
    CHECK(get.port == 8080);
    CHECK(get.forward ==
          "GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    for (const char* bad :
         {"GET /relative HTTP/1.1\r\n\r\n", "CONNECT host HTTP/1.1\r\n\r\n",
          "CONNECT host:99999 HTTP/1.1\r\n\r\n", "GET http://u:p@h/ HTTP/1.1\r\n\r\n",
          "GET http://h/ HTTP/2\r\n\r\n", "get http://h/ HTTP/1.1\r\n\r\n", "nonsense"}) {
        CAPTURE(bad);
        CHECK(std::holds_alternative<std::string>(sbx::parse_proxy_request(bad)));
    }
}

TEST_CASE("network allowlist: policy JSON") {
    const auto policy =
        sbx::policy_from_json(R"({"network": {"allow": ["pypi.org"], "deny": ["x.pypi.org"]}})");
    CHECK_FALSE(policy.network);
    CHECK(sbx::proxied_network(policy));
    CHECK(sbx::policy_from_json(sbx::policy_to_json(policy)) == policy);
    CHECK_THROWS_WITH_AS(sbx::policy_from_json(R"({"network": {"allow": ["*"]}})"),
                         doctest::Contains("network.allow"), sbx::PolicyError);
    CHECK_THROWS_WITH_AS(sbx::policy_from_json(R"({"network": {"allo": []}})"),
                         doctest::Contains("unknown key"), sbx::PolicyError);
}

TEST_CASE("network allowlist: the allowed name works, everything else fails (case 6)") {
    REQUIRE_SANDBOX();
    if (effective_test_mode() == sbx::Mode::container) return;  // refused there (below)
    SandboxTempDir site;
    { std::ofstream(site.path / "hello.txt") << "hello from the host"; }
    LocalServer server(site.path.string());
    const std::string port = std::to_string(server.port);
    // localhost resolves to 127.0.0.1, which the allowlist also names: a local mirror
    auto policy = allowlist_policy({"localhost", "127.0.0.1"});
    const auto fetched = py(R"(
import os, socket, urllib.request
print(urllib.request.urlopen('http://localhost:)" +
                                port + R"(/hello.txt', timeout=10).read().decode())
s = socket.create_connection(('127.0.0.1', 3128), timeout=10)
s.sendall(b'CONNECT localhost:)" +
                                port + R"( HTTP/1.1\r\n\r\n')
print(s.recv(100).split(b'\r\n')[0].decode())
s.sendall(b'GET /hello.txt HTTP/1.0\r\nHost: localhost\r\n\r\n')
data = b''
while True:
    chunk = s.recv(4096)
    if not chunk: break
    data += chunk
print(data.split(b'\r\n\r\n', 1)[1].decode())
)",
                            policy);
    CHECK_MESSAGE(fetched.exit_code == 0, describe(fetched));
    CHECK(fetched.stdout_text ==
          "hello from the host\nHTTP/1.1 200 Connection established\nhello from the host\n");
    CHECK(mentions(fetched.network, "allowed localhost:" + port + " (127.0.0.1)"));

    // only the name: it resolves to loopback (a rebinding), refused after resolution
    const auto rebound =
        py("import urllib.request\ntry:\n    urllib.request.urlopen("
           "'http://localhost:" +
               port +
               "/hello.txt', timeout=10)\n"
               "except Exception as e:\n    print(e)\n",
           allowlist_policy({"localhost"}));
    CHECK_MESSAGE(rebound.stdout_text.find("403") != std::string::npos, describe(rebound));
    CHECK(mentions(rebound.network, "resolves to 127.0.0.1 is loopback"));

    // IP literals, the metadata address, names not listed
    const auto others = py(R"(
import urllib.request
for url in ['http://127.0.0.1:)" +
                               port + R"(/', 'http://169.254.169.254/latest/meta-data/',
            'http://example.com/', 'http://[::1]:)" +
                               port + R"(/']:
    try:
        urllib.request.urlopen(url, timeout=10); print('REACHED', url)
    except Exception as e:
        print(url, getattr(e, 'code', e))
)",
                           allowlist_policy({"localhost"}));
    CHECK_MESSAGE(others.stdout_text.find("REACHED") == std::string::npos, describe(others));
    CHECK(mentions(others.network, "denied 169.254.169.254:80"));
    CHECK(mentions(others.network, "denied example.com:80: example.com is not in the allowlist"));

    // without the proxy: direct connections, DNS, raw and packet sockets all fail
    const auto direct = py(R"(
import os, socket
for k in list(os.environ):
    if 'proxy' in k.lower(): del os.environ[k]
def attempt(what, f):
    try:
        f(); print('OPEN', what)
    except OSError as e:
        print(what, e.errno)
attempt('direct host server', lambda: socket.create_connection(('127.0.0.1', )" +
                               port + R"(), timeout=3))
attempt('direct public', lambda: socket.create_connection(('1.1.1.1', 443), timeout=3))
attempt('dns', lambda: socket.getaddrinfo('example.com', 443))
def udp():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(2)
    u.sendto(b'\x00' * 12, ('8.8.8.8', 53)); u.recv(512)
attempt('dns udp', udp)
attempt('raw', lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
attempt('packet', lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW))
attempt('netlink', lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW))
)",
                           policy);
    CHECK_MESSAGE(direct.exit_code == 0, describe(direct));
    CHECK_MESSAGE(direct.stdout_text.find("OPEN") == std::string::npos, describe(direct));
    check_next_call_works();
}

TEST_CASE("network allowlist: container mode refuses it (no network namespace)") {
    auto policy = allowlist_policy({"pypi.org"});
    policy.mode = sbx::Mode::container;
    const auto r = run_argv({"true"}, policy);
    CHECK(r.stop == sbx::StopReason::refused);
    CHECK(r.report.find("needs a network namespace") != std::string::npos);
}

TEST_CASE("egress proxy: on its own, from the host (also under ThreadSanitizer)") {
    // The proxy without a sandbox: a listener in our own namespace, a local server, clients
    // on threads, one allowed and one denied request each.
    SandboxTempDir site;
    { std::ofstream(site.path / "x.txt") << "payload"; }
    LocalServer server(site.path.string());
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listener >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listener, 16) == 0);
    socklen_t length = sizeof address;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
    const int proxy_port = ntohs(address.sin_port);
    std::mutex mutex;
    std::vector<std::string> decisions;
    {
        sbx::EgressProxy proxy(listener, rules({"localhost", "127.0.0.1"}),
                               [&](const sbx::EgressDecision& d) {
                                   std::lock_guard lock(mutex);
                                   decisions.push_back(d.text());
                               });
        const auto ask = [&](const std::string& head) {
            const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in to{};
            to.sin_family = AF_INET;
            to.sin_port = htons(static_cast<std::uint16_t>(proxy_port));
            to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            std::string reply;
            if (::connect(s, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0 &&
                ::write(s, head.data(), head.size()) == static_cast<ssize_t>(head.size())) {
                char buffer[4096];
                ssize_t n;
                while ((n = ::read(s, buffer, sizeof buffer)) > 0)
                    reply.append(buffer, static_cast<std::size_t>(n));
            }
            ::close(s);
            return reply;
        };
        const std::string port = std::to_string(server.port);
        std::vector<std::thread> clients;
        std::vector<std::string> replies(4);
        for (int i = 0; i < 4; ++i)
            clients.emplace_back([&, i] {
                replies[i] = ask(i % 2 == 0 ? "GET http://localhost:" + port +
                                                  "/x.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"
                                            : "GET http://example.com/ HTTP/1.1\r\n\r\n");
            });
        for (auto& t : clients) t.join();
        CHECK(replies[0].ends_with("payload"));
        CHECK(replies[2].ends_with("payload"));
        CHECK(replies[1].rfind("HTTP/1.1 403", 0) == 0);
        CHECK(replies[3].rfind("HTTP/1.1 403", 0) == 0);
    }  // the proxy stops: its thread joined, its connections closed
    std::lock_guard lock(mutex);
    CHECK(decisions.size() == 4);
}
