// `gossamer serve` start-up: what is wrong with its options is exit 2 with a clear message,
// before any model loads, and nothing is left listening. (The protocol: tests/server; the
// real clients: tests/clients.)
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "tests/support/run_gossamer.h"

using gossamer::test::run_gossamer;

TEST_CASE("cli serve: bad options and a busy port are exit 2 with the reason") {
    const auto open = run_gossamer("serve --host 0.0.0.0 --no-store", "");
    CHECK(open.exit_code == 2);
    CHECK(open.err.find("set --api-key") != std::string::npos);
    const auto bad = run_gossamer("serve --host nope --no-store", "");
    CHECK(bad.exit_code == 2);
    CHECK(bad.err.find("not an IP address") != std::string::npos);
    CHECK(run_gossamer("serve --port 70000 --no-store", "").exit_code == 2);
    CHECK(run_gossamer("serve --max-running 0 --no-store", "").exit_code == 2);
    CHECK(run_gossamer("serve --replay /no/such.json --no-store", "").exit_code == 2);
    // A port someone else holds.
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor holder(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    const auto port = holder.local_endpoint().port();
    const auto busy = run_gossamer("serve --no-store --port " + std::to_string(port), "");
    CHECK(busy.exit_code == 2);
    CHECK(busy.err.find("cannot listen on 127.0.0.1:" + std::to_string(port)) != std::string::npos);
    CHECK(busy.out.find("listening") == std::string::npos);
}
