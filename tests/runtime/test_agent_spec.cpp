// Agent specs: a full spec parses into every field; mistakes name file, line and field.
#include <doctest/doctest.h>

#include "runtime/agent_spec.h"

using namespace gossamer::runtime;

namespace {

std::string error_of(const std::string& yaml) {
    try {
        parse_agent_spec(yaml, "a.yaml", "/base");
    } catch (const SpecError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("agent spec: every field of a full spec") {
    const auto spec = parse_agent_spec(R"(
name: researcher
model:
  path: models/20b
  backend: cpu
  reasoning_effort: high
  sampling: {temperature: 0.7, top_p: 0.95, top_k: 40, seed: 7}
  threads: 8
instructions: |
  Cite sources.
system: {date: 2026-01-02, knowledge_cutoff: 2024-06, identity: You are Ada.}
tools:
  - python: {mode: stateless, timeout: 30, idle_timeout: 600, memory_mb: 512, network: false}
  - browser: {backend: local, root: docs, max_requests: 20, deny_domains: [example.com]}
  - workspace_files
  - plugin: {path: plugins/libweather.so}
  - mcp: {name: fs, command: [npx, server-filesystem, /data], timeout: 10}
limits: {max_turns: 9, max_output_tokens: 5000, wall_time: 60, tool_timeout: 15, context_tokens: 32768}
task: Find out.
outputs: {final_answer: out/answer.md, report: out/report.json}
)",
                                       "a.yaml", "/base");
    CHECK(spec.name == "researcher");
    CHECK(spec.model.path == "models/20b");
    CHECK(spec.model.reasoning_effort == gossamer::harmony::ReasoningEffort::high);
    CHECK(spec.model.sampling.temperature == doctest::Approx(0.7));
    CHECK(spec.model.sampling.top_p == doctest::Approx(0.95));
    CHECK(spec.model.sampling.top_k == 40);
    CHECK(spec.model.sampling.seed == 7);
    CHECK(spec.model.threads == 8);
    CHECK(spec.instructions == "Cite sources.\n");
    CHECK(spec.system.date == "2026-01-02");
    CHECK(spec.system.identity == "You are Ada.");
    REQUIRE(spec.tools.python);
    CHECK(spec.tools.python->mode == gossamer::tools::python::Mode::stateless);
    CHECK(spec.tools.python->memory_mb == 512);
    CHECK(spec.tools.python->idle_timeout == std::chrono::milliseconds(600000));
    REQUIRE(spec.tools.browser);
    CHECK(spec.tools.browser->root == "docs");
    CHECK(spec.tools.browser->deny_domains == std::vector<std::string>{"example.com"});
    CHECK(spec.tools.workspace_files);
    CHECK(spec.tools.plugins.at(0).path == "plugins/libweather.so");
    CHECK(spec.tools.mcp.at(0).command.size() == 3);
    CHECK(spec.limits.max_turns == 9);
    CHECK(spec.limits.context_tokens == 32768);
    CHECK(spec.task == "Find out.");
    CHECK(resolve(spec, *spec.outputs.final_answer) == "/base/out/answer.md");
}

TEST_CASE("agent spec: defaults are the model card's and the design's") {
    const auto spec = parse_agent_spec("name: x\nmodel: {path: m}\ntask: t\n", "a.yaml", "/");
    CHECK(spec.model.sampling.temperature == 1.0f);
    CHECK(spec.model.sampling.top_p == 1.0f);
    CHECK(spec.model.reasoning_effort == gossamer::harmony::ReasoningEffort::medium);
    CHECK(spec.system.knowledge_cutoff == "2024-06");
    CHECK(spec.limits.max_turns == 50);
    CHECK_FALSE(spec.tools.python);
}

TEST_CASE("agent spec: mistakes name the file, line, column and field") {
    CHECK(
        error_of("name: x\nmodel: {path: m}\ntask: t\nmodle: 3\n") ==
        "a.yaml:4:1: modle: unknown key (expected one of: name, model, instructions, system, "
        "tools, hooks, workspace, limits, task, task_file, outputs, telemetry, sandbox, context)");
    CHECK(error_of("name: x\nmodel:\n  path: m\n  sampling: {temperature: hot}\ntask: t\n")
              .find("a.yaml:4:27: model.sampling.temperature: expected a number") == 0);
    CHECK(error_of("name: x\nmodel: {path: m, backend: tpu}\ntask: t\n")
              .find("model.backend: must be cpu, cuda or auto") != std::string::npos);
    CHECK(error_of("name: x\nmodel: {path: m}\ntools: [ruby]\n")
              .find("a.yaml:3:9: tools[0]: unknown tool 'ruby'") == 0);
    CHECK(error_of("name: x\nmodel: {path: m}\ntools:\n  - python: {mode: eager}\n")
              .find("tools[0].python.mode") != std::string::npos);
    CHECK(error_of("name: x\nmodel: {path: m}\ntools:\n  - browser: {}\n").find("needs `root:`") !=
          std::string::npos);
    CHECK(error_of("name: x\nmodel: {path: m}\ntask: a\ntask_file: b\n").find("not both") !=
          std::string::npos);
    CHECK(error_of("model: {path: m}\n").find("name: required") != std::string::npos);
    CHECK(error_of("name: x\n").find("model: required") != std::string::npos);
    CHECK(error_of("- a\n- b\n").find("must be a mapping") != std::string::npos);
    CHECK(error_of("name: x\nmodel: {path: m}\nlimits: {max_turns: 1.5}\n")
              .find("limits.max_turns: expected an integer") != std::string::npos);
    CHECK(error_of("name: [x\n").find("a.yaml:2:1: invalid YAML") == 0);
}

TEST_CASE("agent spec: remote endpoints, their API, key variable and limits") {
    const auto spec = parse_agent_spec(R"(
name: remote
model:
  endpoints: [http://10.0.0.5:8000, "https://vllm.example/v1/"]
  api: vllm
  api_key_env: VLLM_API_KEY
  name: openai/gpt-oss-120b
  remote: {max_in_flight: 4, max_attempts: 3, stream: false, connect_timeout_seconds: 2,
           first_token_timeout_seconds: 30, token_timeout_seconds: 10, generation_timeout_seconds: 90}
task: t
)",
                                       "a.yaml", "/base");
    const auto& r = spec.model.remote;
    CHECK(r.endpoints ==
          std::vector<std::string>{"http://10.0.0.5:8000", "https://vllm.example/v1/"});
    CHECK(r.api == EngineApi::vllm);
    CHECK(spec.model.api_key_env == "VLLM_API_KEY");
    CHECK(r.model_name == "openai/gpt-oss-120b");
    CHECK(r.max_in_flight == 4);
    CHECK(r.max_attempts == 3);
    CHECK_FALSE(r.stream);
    CHECK(r.connect_timeout == 2);
    CHECK(r.first_token_timeout == 30);
    CHECK(r.token_timeout == 10);
    CHECK(r.generation_timeout == 90);
    // The defaults are RemoteOptions' own.
    const auto plain = parse_agent_spec("name: x\nmodel: {}\ntask: t\n", "a.yaml", "/base");
    CHECK(plain.model.remote.endpoints.empty());
    CHECK(plain.model.remote.api == EngineApi::gossamer);
    CHECK(plain.model.remote.max_in_flight == RemoteOptions{}.max_in_flight);

    CHECK(
        error_of("name: x\nmodel: {endpoints: [ftp://x]}\n")
            .find("a.yaml:2:20: model.endpoints: 'ftp://x': must be an http:// or https:// URL") ==
        0);
    CHECK(error_of("name: x\nmodel: {endpoints: ['http://u:secret@h:1']}\n")
              .find("must not hold a user or password") != std::string::npos);
    CHECK(error_of("name: x\nmodel: {endpoints: []}\n").find("at least one URL") !=
          std::string::npos);
    CHECK(error_of("name: x\nmodel: {api: tgi}\n")
              .find("model.api: must be gossamer, vllm or sglang") != std::string::npos);
    CHECK(error_of("name: x\nmodel: {api_key_env: 'MY-KEY'}\n").find("environment variable") !=
          std::string::npos);
    CHECK(error_of("name: x\nmodel: {remote: {retries: 3}}\n")
              .find("model.remote.retries: unknown key") != std::string::npos);
    CHECK(error_of("name: x\nmodel: {remote: {max_in_flight: 0}}\n").find("must be in [1") !=
          std::string::npos);
}

TEST_CASE("agent spec: shell, its options and limits") {
    const auto plain =
        parse_agent_spec("name: x\nmodel: {}\ntools: [shell]\ntask: t\n", "a.yaml", "/base");
    REQUIRE(plain.tools.shell);
    CHECK(plain.tools.shell->timeout == std::chrono::seconds(60));
    CHECK_FALSE(plain.tools.shell->network);
    const auto set = parse_agent_spec(
        "name: x\nmodel: {}\ntools:\n  - shell: {timeout: 5, max_timeout: 30, memory_mb: 512, "
        "pids: 32, network: true, max_output_bytes: 1000, extra_read_only: [tools], "
        "protected: [secrets]}\ntask: t\n",
        "a.yaml", "/base");
    REQUIRE(set.tools.shell);
    CHECK(set.tools.shell->timeout == std::chrono::seconds(5));
    CHECK(set.tools.shell->max_timeout == std::chrono::seconds(30));
    CHECK(set.tools.shell->memory_mb == 512);
    CHECK(set.tools.shell->pids == 32);
    CHECK(set.tools.shell->network);
    CHECK(set.tools.shell->max_output_bytes == 1000);
    CHECK(set.tools.shell->extra_read_only == std::vector<std::string>{"tools"});
    CHECK(set.tools.shell->protected_names ==
          std::vector<std::string>{".git", ".gossamer", "secrets"});
    CHECK(error_of("name: x\nmodel: {}\ntools:\n  - shell: {timeout: 50, max_timeout: 10}\n")
              .find("longer than max_timeout") != std::string::npos);
    CHECK(error_of("name: x\nmodel: {}\ntools:\n  - shell: {cwd: a}\n").find("unknown key") !=
          std::string::npos);
    CHECK(error_of("name: x\nmodel: {}\ntools: [shell, shell]\n").find("listed twice") !=
          std::string::npos);
}

TEST_CASE("agent spec: hooks, their defaults and their errors") {
    const auto spec = parse_agent_spec(
        "name: x\nmodel: {}\ntask: t\nhooks:\n  pre_tool:\n    - {match: 'functions.*', "
        "command: [./gate.py, --strict], timeout: 5}\n  post_tool:\n    - command: grep -q ok\n"
        "  on_finish:\n    - {match: final, command: [/bin/true], sandboxed: false}\n",
        "a.yaml", "/base");
    REQUIRE(spec.hooks.pre_tool.size() == 1);
    CHECK(spec.hooks.pre_tool[0].match == "functions.*");
    CHECK(spec.hooks.pre_tool[0].command == std::vector<std::string>{"./gate.py", "--strict"});
    CHECK(spec.hooks.pre_tool[0].timeout_seconds == 5);
    CHECK(spec.hooks.pre_tool[0].sandboxed);
    REQUIRE(spec.hooks.post_tool.size() == 1);
    CHECK(spec.hooks.post_tool[0].match == "*");
    CHECK(spec.hooks.post_tool[0].command ==
          std::vector<std::string>{"/bin/sh", "-c", "grep -q ok"});
    CHECK(spec.hooks.post_tool[0].timeout_seconds == 30);
    REQUIRE(spec.hooks.on_finish.size() == 1);
    CHECK_FALSE(spec.hooks.on_finish[0].sandboxed);
    CHECK(error_of("name: x\nmodel: {}\nhooks: {before: []}\n").find("unknown key") !=
          std::string::npos);
    CHECK(error_of("name: x\nmodel: {}\nhooks: {pre_tool: [{match: x}]}\n")
              .find("needs `command:`") != std::string::npos);
    CHECK(error_of("name: x\nmodel: {}\nhooks: {pre_tool: {command: [x]}}\n")
              .find("expected a list of hooks") != std::string::npos);
    CHECK(error_of("name: x\nmodel: {}\nhooks: {pre_tool: [{command: [x], timeout: 0}]}\n")
              .find("must be in") != std::string::npos);
}

TEST_CASE("agent spec: workspace.from and output schemas") {
    const auto spec = parse_agent_spec("name: x\nmodel: {}\nworkspace: {from: repo}\ntask: t\n",
                                       "a.yaml", "/base");
    CHECK(spec.workspace.from == std::optional<std::string>("repo"));
    CHECK(error_of("name: x\nmodel: {}\nworkspace: {copy: repo}\n").find("unknown key") !=
          std::string::npos);
    CHECK(error_of("name: x\nmodel: {}\noutputs: {schema: /nonexistent.json}\n")
              .find("cannot read the output schema") != std::string::npos);
}

TEST_CASE("agent spec: apply_patch and its protected names") {
    const auto plain =
        parse_agent_spec("name: x\nmodel: {}\ntools: [apply_patch]\ntask: t\n", "a.yaml", "/base");
    REQUIRE(plain.tools.apply_patch);
    CHECK(plain.tools.apply_patch->protected_names ==
          std::vector<std::string>{".git", ".gossamer"});
    const auto more = parse_agent_spec(
        "name: x\nmodel: {}\ntools:\n  - apply_patch: {protected: [secrets, .env]}\ntask: t\n",
        "a.yaml", "/base");
    REQUIRE(more.tools.apply_patch);
    CHECK(more.tools.apply_patch->protected_names ==
          std::vector<std::string>{".git", ".gossamer", "secrets", ".env"});
    CHECK(error_of("name: x\nmodel: {}\ntools:\n  - apply_patch: {protected: [a/b]}\n")
              .find("a file or folder name") != std::string::npos);
    CHECK(
        error_of("name: x\nmodel: {}\ntools:\n  - apply_patch: {mode: x}\n").find("unknown key") !=
        std::string::npos);
}

TEST_CASE("agent spec: sandbox mode reaches every sandboxed tool, server and hook") {
    const auto plain =
        parse_agent_spec("name: x\nmodel: {}\ntask: t\ntools: [python]\n", "a.yaml", "/");
    CHECK(plain.sandbox.mode == gossamer::sandbox::Mode::automatic);
    const auto spec = parse_agent_spec(
        "name: x\nmodel: {}\ntask: t\nsandbox: {mode: container}\ntools:\n  - python\n"
        "  - shell\n  - mcp: {name: m, command: [srv], sandboxed: true}\n"
        "hooks:\n  pre_tool: [{command: [check]}]\n",
        "a.yaml", "/");
    using gossamer::sandbox::Mode;
    CHECK(spec.sandbox.mode == Mode::container);
    CHECK(spec.tools.python->sandbox_mode == Mode::container);
    CHECK(spec.tools.shell->sandbox_mode == Mode::container);
    CHECK(spec.tools.mcp.at(0).sandbox_mode == Mode::container);
    CHECK(spec.hooks.pre_tool.at(0).sandbox_mode == Mode::container);
    CHECK(error_of("name: x\nmodel: {}\ntask: t\nsandbox: {mode: none}\n")
              .find("sandbox.mode: one of auto, userns, root, container") != std::string::npos);
    CHECK(error_of("name: x\nmodel: {}\ntask: t\nsandbox: {network: true}\n").find("unknown key") !=
          std::string::npos);
    // --sandbox is kept in the stored copy of the spec (a resumed session keeps the mode)
    const std::string stored =
        spec_with_sandbox_mode("name: x\nmodel: {}\ntask: t\n", Mode::root_namespace);
    CHECK(parse_agent_spec(stored, "a.yaml", "/").sandbox.mode == Mode::root_namespace);
}

TEST_CASE("agent spec: a remote MCP server by URL, its headers and bearer token variable") {
    const auto spec = parse_agent_spec(
        "name: x\nmodel: {}\ntask: t\ntools:\n  - mcp: {name: r, url: 'https://mcp.example/mcp', "
        "headers: {X-Team: a}, bearer_token_env: TOKEN}\n",
        "a.yaml", "/");
    REQUIRE(spec.tools.mcp.size() == 1);
    CHECK(spec.tools.mcp[0].url == "https://mcp.example/mcp");
    CHECK(spec.tools.mcp[0].headers ==
          std::vector<std::pair<std::string, std::string>>{{"X-Team", "a"}});
    CHECK(spec.tools.mcp[0].bearer_token_env == "TOKEN");
    const auto mcp = [](const std::string& entry) {
        return error_of("name: x\nmodel: {}\ntask: t\ntools:\n  - mcp: " + entry + "\n");
    };
    CHECK(mcp("{url: 'ftp://h/mcp'}").find("http:// or https://") != std::string::npos);
    CHECK(mcp("{url: 'https://u:p@h/mcp'}").find("no credentials in the URL") != std::string::npos);
    CHECK(mcp("{url: 'https://h/mcp', command: [x]}").find("not both") != std::string::npos);
    CHECK(mcp("{url: 'https://h/mcp', sandboxed: true}").find("local server") != std::string::npos);
    CHECK(mcp("{command: [x], bearer_token_env: T}").find("remote server") != std::string::npos);
    CHECK(mcp("{url: 'https://h/mcp', headers: {'Bad Name': v}}").find("not a valid HTTP header") !=
          std::string::npos);
    CHECK(mcp("{name: n}").find("needs `command:`") != std::string::npos);
}

TEST_CASE("agent spec: network by domain for python, shell and sandboxed MCP servers") {
    const auto spec = parse_agent_spec(
        "name: x\nmodel: {}\ntask: t\ntools:\n"
        "  - python: {network: {allow: [pypi.org, '*.pythonhosted.org'], deny: [x.pypi.org]}}\n"
        "  - shell: {network: true}\n"
        "  - mcp: {command: [srv], sandboxed: true, network: {allow: [api.example.com]}}\n",
        "a.yaml", "/");
    CHECK_FALSE(spec.tools.python->network);
    CHECK(spec.tools.python->network_allow ==
          std::vector<std::string>{"pypi.org", "*.pythonhosted.org"});
    CHECK(spec.tools.python->network_deny == std::vector<std::string>{"x.pypi.org"});
    CHECK(spec.tools.shell->network);
    CHECK(spec.tools.mcp.at(0).network_allow == std::vector<std::string>{"api.example.com"});
    const auto python = [](const std::string& network) {
        return error_of("name: x\nmodel: {}\ntask: t\ntools:\n  - python: {network: " + network +
                        "}\n");
    };
    CHECK(python("{allow: ['*']}").find("not a host name") != std::string::npos);
    CHECK(python("{deny: [a.com]}").find("give the domains") != std::string::npos);
    CHECK(python("{allow: [a.com], via: proxy}").find("unknown key") != std::string::npos);
}

TEST_CASE("agent spec: telemetry endpoint and content flag") {
    const auto off = parse_agent_spec("name: x\nmodel: {}\ntask: t\n", "a.yaml", "/");
    CHECK_FALSE(off.telemetry.otlp_endpoint);
    CHECK_FALSE(off.telemetry.content);
    const auto on = parse_agent_spec(
        "name: x\nmodel: {}\ntask: t\ntelemetry: {otlp_endpoint: 'http://127.0.0.1:4318', "
        "content: true}\n",
        "a.yaml", "/");
    CHECK(on.telemetry.otlp_endpoint == "http://127.0.0.1:4318");
    CHECK(on.telemetry.content);
    CHECK(error_of("name: x\nmodel: {}\ntask: t\ntelemetry: {otlp_endpoint: 'grpc://h:4317'}\n")
              .find("telemetry.otlp_endpoint") != std::string::npos);
    CHECK(error_of("name: x\nmodel: {}\ntask: t\ntelemetry: {headers: {a: b}}\n").find("headers") !=
          std::string::npos);
}
