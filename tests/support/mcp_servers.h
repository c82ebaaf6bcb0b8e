// Test support: where the real MCP servers from npm live (tests/mcp, installed by
// scripts/run-tests.sh with `npm ci`) and the example plugin built by CMake.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

namespace gossamer::test {

inline std::string mcp_server(const std::string& name) {  // "everything", "filesystem"
    const auto path = std::filesystem::path(GOSSAMER_TEST_DATA) / ".." / "mcp" / "node_modules" /
                      ".bin" / ("mcp-server-" + name);
    REQUIRE_MESSAGE(
        std::filesystem::exists(path),
        "MCP test server missing: run `npm ci --prefix tests/mcp` (scripts/run-tests.sh does)");
    return std::filesystem::canonical(path).string();
}

}  // namespace gossamer::test
