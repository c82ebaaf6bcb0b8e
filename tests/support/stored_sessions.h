// Test support: what a session store holds, read through the real binary (`sessions list
// --json`, `sessions export`), as JSON. Throws std::runtime_error with gossamer's stderr when
// the command fails (doctest reports it as the test's failure). For CLI tests only.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

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

}  // namespace gossamer::test
