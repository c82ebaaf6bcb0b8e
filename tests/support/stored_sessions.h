// Test support: what a session store holds, read through the real binary (`sessions list
// --json`, `sessions export`), as JSON. Throws std::runtime_error with gossamer's stderr when
// the command fails (doctest reports it as the test's failure). For CLI tests only.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/run_gossamer.h"

namespace gossamer::test {

inline nlohmann::json stored_sessions(const std::string& store) {
    const auto r = run_gossamer("sessions list --json --store '" + store + "'", "");
    if (r.exit_code != 0) throw std::runtime_error("sessions list: " + r.err);
    return nlohmann::json::parse(r.out);
}

inline nlohmann::json exported_session(const std::string& store, const std::string& id) {
    const auto r = run_gossamer("sessions export " + id + " --store '" + store + "'", "");
    if (r.exit_code != 0) throw std::runtime_error("sessions export: " + r.err);
    return nlohmann::json::parse(r.out);
}

// The text of a message's content (a plain string, or the first text item).
inline std::string content_text(const nlohmann::json& message) {
    const auto& c = message["content"];
    return c.is_string() ? c.get<std::string>() : c[0]["text"].get<std::string>();
}

// The texts of an exported session's messages with `role` ("tool", "user"), in order.
inline std::vector<std::string> texts_of(const nlohmann::json& exported, const std::string& role) {
    std::vector<std::string> out;
    for (const auto& m : exported["messages"])
        if (m["role"] == role) out.push_back(content_text(m));
    return out;
}

}  // namespace gossamer::test
