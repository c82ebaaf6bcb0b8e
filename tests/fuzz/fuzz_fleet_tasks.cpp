// libFuzzer target for the runtime's untrusted text inputs (issue 16): the fleet tasks file
// (runtime/fleet_tasks.h) and the agent spec (runtime/agent_spec.h). The first byte picks:
// even: tasks file; each parsed task is instantiated into a template spec, which must parse
// as an agent spec again (the vars cannot break the YAML; a task's own text may name a var it
// lacks, a SpecError). odd: the bytes as an agent spec.
// Properties: no crash, no sanitizer report, errors only as SpecError.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "runtime/agent_spec.h"
#include "runtime/fleet_tasks.h"

namespace {

constexpr const char* kTemplate = R"(name: "fuzz {{id}}"
model: {reasoning_effort: low}
instructions: "Use {{a}} and {{b}}."
tools: [python]
task: "What is {{a}} * {{b}}?"
outputs:
  report: "out/{{id}}.json"
)";

[[noreturn]] void broken(const char* what) {
    std::fprintf(stderr, "fuzz_fleet_tasks: %s\n", what);
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    namespace rt = gossamer::runtime;
    if ((data[0] & 1) == 0) {
        std::vector<rt::TaskLine> tasks;
        try {
            tasks = rt::parse_task_lines(text, "tasks.jsonl");
        } catch (const rt::SpecError&) {
            return 0;
        }
        for (auto& t : tasks) {
            t.vars.emplace_back("a", "x");  // the template's placeholders, if the line lacks them
            t.vars.emplace_back("b", "y");
            std::string yaml;
            try {
                yaml = rt::instantiate_spec(kTemplate, "agent.yaml", t, tasks.size());
            } catch (const rt::SpecError& e) {
                if (std::string(e.what()).find("has no var") == std::string::npos || !t.task)
                    broken("a parsed task could not fill a template whose vars it has");
                continue;  // its own task text names a var it does not give
            }
            try {
                rt::parse_agent_spec(yaml, "task.yaml", "/tmp");
            } catch (const rt::SpecError& e) {
                std::fprintf(stderr, "%s\n%s\n", yaml.c_str(), e.what());
                broken("an instantiated spec does not parse");
            }
        }
        return 0;
    }
    try {
        rt::parse_agent_spec(text, "agent.yaml", "/tmp");
    } catch (const rt::SpecError&) {
    }
    return 0;
}
