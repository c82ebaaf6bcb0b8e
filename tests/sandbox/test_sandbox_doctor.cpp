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
            layer.layer != sbx::Layer::landlock)
            CHECK_MESSAGE(layer.ok, sbx::layer_name(layer.layer), ": ", layer.detail);
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
    CHECK(nlohmann::json::parse(doctor.out)["layers"]["user_ns"]["ok"] == true);

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
