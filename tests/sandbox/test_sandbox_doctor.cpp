// `gossamer doctor` and `gossamer sandbox exec` as a binary, and the doctor report itself.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "sandbox/doctor.h"
#include "tests/sandbox/sandbox_support.h"
#include "tests/support/run_gossamer.h"

using namespace gossamer::test;

TEST_CASE("sandbox: doctor probes every layer and runs /bin/true end to end") {
    REQUIRE_SANDBOX();
    const sbx::DoctorReport report = sbx::run_doctor();
    CHECK(report.layers.size() == sbx::kAllLayers.size());
    for (const auto& layer : report.layers)
        if (layer.layer != sbx::Layer::cgroup_memory && layer.layer != sbx::Layer::cgroup_pids &&
            layer.layer != sbx::Layer::landlock &&
            (layer.layer != sbx::Layer::user_ns || sbx::user_namespaces_work()))
            CHECK_MESSAGE(layer.ok, sbx::layer_name(layer.layer), ": ", layer.detail);
    // What auto takes here, and each mode tried for real.
    CHECK(report.automatic ==
          (sbx::user_namespaces_work() ? sbx::Mode::user_namespace : sbx::Mode::root_namespace));
    REQUIRE(report.modes.size() == 3);
    for (const auto& m : report.modes)
        if (m.mode != sbx::Mode::root_namespace || ::geteuid() == 0)
            CHECK_MESSAGE(
                (m.ok || (m.mode == sbx::Mode::user_namespace && !sbx::user_namespaces_work())),
                sbx::mode_name(m.mode), ": ", m.detail);
    CHECK_MESSAGE(report.end_to_end, report.end_to_end_detail);
    const auto json = nlohmann::json::parse(sbx::doctor_json(report));
    CHECK(json["layers"].size() == sbx::kAllLayers.size());
    CHECK(json["end_to_end"]["ok"] == true);
    if (report.landlock_abi == 0) MESSAGE("landlock unavailable on this kernel");
}

TEST_CASE("sandbox: gossamer doctor --json and sandbox exec from the binary") {
    REQUIRE_SANDBOX();
    const Run doctor = run_gossamer("doctor --json", "");
    CHECK_MESSAGE(doctor.exit_code == 0, doctor.err);
    const auto doctor_json = nlohmann::json::parse(doctor.out);
    CHECK(doctor_json["layers"]["user_ns"]["ok"] == sbx::user_namespaces_work());
    CHECK(doctor_json["modes"]["container"]["ok"] == true);
    CHECK(doctor_json["modes"]["container"]["not_isolated"].get<std::string>().find(
              "process table") != std::string::npos);
    CHECK(doctor_json["mode"] ==
          std::string(sbx::mode_name(sbx::user_namespaces_work() ? sbx::Mode::user_namespace
                                                                 : sbx::Mode::root_namespace)));

    const Run hello = run_gossamer("sandbox exec -- sh -c 'echo hi; exit 3'", "");
    CHECK(hello.out == "hi\n");
    CHECK(hello.exit_code == 3);
    CHECK(hello.err.find("exited with code 3") != std::string::npos);

    const Run timeout = run_gossamer("sandbox exec --timeout 0.5 -- sleep 10", "");
    CHECK(timeout.exit_code == 124);

    const Run bad = run_gossamer("sandbox exec --bogus -- true", "");
    CHECK(bad.exit_code == 2);
    const Run unsandboxed = run_gossamer("sandbox exec --unsandboxed -- true", "");
    CHECK(unsandboxed.exit_code == 0);
    CHECK(unsandboxed.err.find("WARNING") != std::string::npos);
}
