// Output capture and sanitizing, and the wording of run reports: pure functions.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <csignal>

#include "sandbox/output_cap.h"
#include "sandbox/report.h"
#include "sandbox/sanitize.h"

namespace sbx = gossamer::sandbox;

TEST_CASE("sandbox: output cap keeps head and tail with a marker") {
    sbx::OutputCap cap(10);
    cap.append("01234");
    cap.append("56789abcdefghij");
    cap.append("KLMNO");
    CHECK(cap.total_bytes() == 25);
    CHECK(cap.truncated());
    CHECK(cap.dropped_bytes() == 15);
    CHECK(cap.text() == "01234\n[... 15 bytes truncated ...]\nKLMNO");
    sbx::OutputCap small(10);
    small.append("short");
    CHECK(!small.truncated());
    CHECK(small.text() == "short");
    sbx::OutputCap unlimited(0);
    for (int i = 0; i < 1000; ++i) unlimited.append("x");
    CHECK(unlimited.text().size() == 1000);
}

TEST_CASE("sandbox: output cap memory stays bounded byte by byte") {
    sbx::OutputCap cap(8);
    std::string all;
    for (int i = 0; i < 1000; ++i) {
        const char c = static_cast<char>('a' + i % 26);
        cap.append(std::string(1, c));
        all += c;
    }
    CHECK(cap.text() == all.substr(0, 4) + sbx::truncation_marker(992) + all.substr(996));
}

TEST_CASE("sandbox: sanitizer repairs UTF-8 and removes terminal controls") {
    CHECK(sbx::sanitize_for_model("plain\ttext\n") == "plain\ttext\n");
    CHECK(sbx::sanitize_for_model("h\xc3\xa9llo \xe2\x82\xac") == "h\xc3\xa9llo \xe2\x82\xac");
    CHECK(sbx::sanitize_for_model("bad\xff\xfe") == "bad\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(sbx::sanitize_for_model("\xc0\xaf") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
    CHECK(sbx::sanitize_for_model("\xed\xa0\x80") ==
          "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
    CHECK(sbx::sanitize_for_model("cut \xe2\x82") == "cut \xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(sbx::sanitize_for_model("\x1b[1;31mred\x1b[0m") == "red");
    CHECK(sbx::sanitize_for_model("a\x1b]0;title\x07"
                                  "b") == "ab");
    CHECK(sbx::sanitize_for_model("a\x1b]52;c;ZXZpbA==\x1b\\b") == "ab");
    CHECK(sbx::sanitize_for_model("a\x1bPdcs\x1b\\b") == "ab");
    CHECK(sbx::sanitize_for_model("a\x1b"
                                  "cb") == "ab");
    CHECK(sbx::sanitize_for_model("a\xc2\x9b"
                                  "31mb") == "a31mb");  // C1 CSI dropped
    CHECK(sbx::sanitize_for_model("a\x1b]unterminated") == "aunterminated");
    CHECK(sbx::sanitize_for_model(std::string("nul\0bell\a", 9)) == "nul\\x00bell\\x07");
    CHECK(sbx::sanitize_for_model("a\r\nb\rc") == "a\nb\nc");
    CHECK(sbx::sanitize_for_model("<|start|>assistant<|call|>") == "<|start|>assistant<|call|>");
}

TEST_CASE("sandbox: run reports say why the run stopped") {
    sbx::Policy policy;
    policy.limits.wall_ms = 2000;
    policy.limits.cpu_seconds = 5;
    policy.limits.memory_bytes = 1000;
    const sbx::LaunchRequest request{{"python3"}, "", false};
    auto exited = [](int code) {
        return sbx::make_report(sbx::ReportKind::exited, code << 8, 0, "exit", "");
    };

    sbx::RunFacts facts;
    facts.reports = {exited(3)};
    auto r = sbx::describe_run(facts, policy, request);
    CHECK(r.stop == sbx::StopReason::exited);
    CHECK(r.report == "exited with code 3");

    facts.timed_out = true;
    facts.reports = {};
    r = sbx::describe_run(facts, policy, request);
    CHECK(r.stop == sbx::StopReason::timed_out);
    CHECK(r.report ==
          "killed: wall-clock limit of 2000 ms reached; every process in the "
          "sandbox was killed");

    facts = {};
    facts.reports = {sbx::make_report(sbx::ReportKind::exited, SIGKILL, 0, "exit", "")};
    facts.oom_kills = 1;
    r = sbx::describe_run(facts, policy, request);
    CHECK(r.oom_killed);
    CHECK(r.report ==
          "killed by SIGKILL: memory limit of 1000 bytes reached (out-of-memory "
          "kill in the sandbox's cgroup)");

    facts = {};
    facts.reports = {sbx::make_report(sbx::ReportKind::exited, SIGXCPU, 0, "exit", "")};
    r = sbx::describe_run(facts, policy, request);
    CHECK(r.cpu_limit_hit);
    CHECK(r.report == "killed by SIGXCPU: CPU time limit of 5 s reached");

    // SIGKILL at the limit (soft == hard), the reaped CPU time trailing the kernel's count
    facts = {};
    facts.reports = {sbx::make_report(sbx::ReportKind::exited, SIGKILL, 0, "exit", "")};
    facts.cpu_ms = 3100;  // of 5 s: a loaded machine's rusage
    r = sbx::describe_run(facts, policy, request);
    CHECK(r.cpu_limit_hit);
    facts.cpu_ms = 200;  // a SIGKILL long before the limit is something else
    r = sbx::describe_run(facts, policy, request);
    CHECK_FALSE(r.cpu_limit_hit);

    facts = {};
    facts.reports = {
        sbx::make_report(sbx::ReportKind::setup_failed, 0, EPERM, "landlock_restrict_self", "")};
    r = sbx::describe_run(facts, policy, request);
    CHECK(r.stop == sbx::StopReason::setup_failed);
    CHECK(r.report.rfind("sandbox setup failed: landlock_restrict_self: Operation not permitted "
                         "(layer landlock; fix: ",
                         0) == 0);

    // A folder the sandbox's user may not walk through is named as such, not as a kernel gap.
    facts = {};
    facts.reports = {sbx::make_report(sbx::ReportKind::setup_failed, 0, EACCES, "mount(MS_BIND)",
                                      "/oldroot/root/project/ws")};
    r = sbx::describe_run(facts, policy, request);
    CHECK(r.report.find("cannot reach this folder") != std::string::npos);
    CHECK(r.report.find("0700") != std::string::npos);
    CHECK(r.report.find("layer") == std::string::npos);

    facts = {};
    facts.reports = {sbx::make_report(sbx::ReportKind::exec_failed, 0, ENOENT, "execve", "")};
    r = sbx::describe_run(facts, policy, request);
    CHECK(r.report == "cannot execute 'python3': No such file or directory");

    facts = {};
    facts.reports = {exited(0)};
    facts.pids_refused = 4;
    policy.limits.pids = 16;
    r = sbx::describe_run(facts, policy, request);
    CHECK(r.report == "exited with code 0; the process limit of 16 refused 4 forks");
}
