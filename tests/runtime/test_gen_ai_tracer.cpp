// GenAI spans from a run's events (runtime/gen_ai_tracer.h) and their OTLP/JSON form
// (runtime/otlp_exporter.h): the span tree, the convention's names and attributes, content
// only when asked, W3C traceparent, and the endpoint / header settings from the environment.
#include <doctest/doctest.h>

#include <cstdlib>
#include <regex>

#include "runtime/gen_ai_tracer.h"
#include "runtime/otlp_exporter.h"
#include "runtime/setup_error.h"

namespace rt = gossamer::runtime;
using Json = nlohmann::ordered_json;

namespace {

std::vector<rt::Span> trace_run(bool content, std::string* traceparent_during_call = nullptr) {
    std::vector<rt::Span> spans;
    {
        rt::GenAiTracer tracer({"coder", "gpt-oss-20b", content, "Be brief.", "Fix the tests."},
                               [&](rt::Span s) { spans.push_back(std::move(s)); });
        const auto send = [&](rt::EventBody body) { tracer.on_event({"s1", std::move(body)}); };
        send(rt::SessionStarted{3, 0});
        send(rt::MessageDone{{"assistant", "analysis", {}}, {}, "think"});
        send(rt::MessageDone{
            {"assistant", "commentary", "functions.shell"}, "json", R"({"command":"make"})"});
        send(rt::GenerationDone{1, 100, 20, "stop", 0, 50.0, "", 0, 40, 3, 2, 8192, 6});
        send(rt::ToolStarted{4, "functions.shell", R"({"command":"make"})"});
        if (traceparent_during_call) *traceparent_during_call = tracer.traceparent(4);
        send(rt::ToolFinished{4, "functions.shell", false, 12.0, "Exit code: 2"});
        send(rt::MessageDone{{"assistant", "final", {}}, {}, "done"});
        send(rt::GenerationDone{2, 130, 5, "stop", 0, 20.0, "", 0, 120, 6, 1, 8192, 0});
        rt::SessionFinished end{"final", 2, 25, "done", nullptr, std::nullopt};
        send(end);
        send(rt::Warning{"after the end", {}});  // ignored: the run's trace is over
    }
    return spans;
}

const rt::Span& named(const std::vector<rt::Span>& spans, const std::string& prefix, int nth = 0) {
    for (const auto& s : spans)
        if (s.name.starts_with(prefix) && nth-- == 0) return s;
    FAIL("no span " << prefix);
    return spans.front();
}

}  // namespace

TEST_CASE("telemetry: one invoke_agent span with chat and execute_tool children") {
    std::string traceparent;
    const auto spans = trace_run(false, &traceparent);
    REQUIRE(spans.size() == 4);  // chat, tool, chat, agent (in the order they end)
    const auto& agent = named(spans, "invoke_agent coder");
    const auto& chat1 = named(spans, "chat gpt-oss-20b");
    const auto& chat2 = named(spans, "chat gpt-oss-20b", 1);
    const auto& tool = named(spans, "execute_tool functions.shell");
    CHECK(agent.parent_span_id.empty());
    for (const auto* s : {&chat1, &chat2, &tool}) {
        CHECK(s->trace_id == agent.trace_id);
        CHECK(s->parent_span_id == agent.span_id);
        CHECK(s->attributes["gen_ai.conversation.id"] == "s1");
        CHECK(s->start_ns <= s->end_ns);
    }
    CHECK(std::regex_match(agent.trace_id, std::regex("[0-9a-f]{32}")));
    CHECK(std::regex_match(agent.span_id, std::regex("[0-9a-f]{16}")));
    CHECK(traceparent == "00-" + agent.trace_id + "-" + tool.span_id + "-01");

    CHECK(agent.attributes["gen_ai.operation.name"] == "invoke_agent");
    CHECK(agent.attributes["gen_ai.agent.name"] == "coder");
    CHECK(agent.attributes["gen_ai.conversation.id"] == "s1");
    CHECK(agent.attributes["gen_ai.usage.input_tokens"] == 230);
    CHECK(agent.attributes["gen_ai.usage.output_tokens"] == 25);
    CHECK(agent.attributes["gossamer.stop_reason"] == "final");
    CHECK_FALSE(agent.error);

    CHECK(chat1.kind == 3);  // client
    CHECK(chat1.attributes["gen_ai.operation.name"] == "chat");
    CHECK(chat1.attributes["gen_ai.request.model"] == "gpt-oss-20b");
    CHECK(chat1.attributes["gen_ai.response.finish_reasons"] == Json::array({"stop"}));
    CHECK(chat1.attributes["gen_ai.usage.input_tokens"] == 100);
    CHECK(chat1.attributes["gen_ai.usage.output_tokens"] == 20);
    CHECK(chat1.attributes["gen_ai.usage.cache_read.input_tokens"] == 40);
    CHECK(chat1.attributes["gen_ai.usage.reasoning.output_tokens"] == 6);
    CHECK(chat1.end_ns - chat1.start_ns == 50'000'000);

    CHECK(tool.attributes["gen_ai.operation.name"] == "execute_tool");
    CHECK(tool.attributes["gen_ai.tool.name"] == "functions.shell");
    CHECK(tool.attributes["gen_ai.tool.call.id"] == "s1:4");
    CHECK(tool.attributes["gossamer.tool.outcome"] == "error");
    CHECK(tool.error);

    // No content unless asked.
    for (const auto& s : spans)
        for (const auto& [key, value] : s.attributes.items()) {
            CHECK(key.find("messages") == std::string::npos);
            CHECK(key.find("instructions") == std::string::npos);
            CHECK(key.find("arguments") == std::string::npos);
            CHECK(key.find("result") == std::string::npos);
        }
}

TEST_CASE("telemetry: content on adds messages, instructions, arguments and results") {
    const auto spans = trace_run(true);
    const auto& agent = named(spans, "invoke_agent");
    CHECK(Json::parse(
              agent.attributes["gen_ai.system_instructions"].get<std::string>())[0]["content"] ==
          "Be brief.");
    CHECK(Json::parse(agent.attributes["gen_ai.input.messages"]
                          .get<std::string>())[0]["parts"][0]["content"] == "Fix the tests.");
    CHECK(Json::parse(agent.attributes["gen_ai.output.messages"]
                          .get<std::string>())[0]["parts"][0]["content"] == "done");
    const auto out1 =
        Json::parse(named(spans, "chat").attributes["gen_ai.output.messages"].get<std::string>());
    CHECK(out1[0]["parts"][0]["type"] == "reasoning");
    CHECK(out1[0]["parts"][1]["type"] == "tool_call");
    CHECK(out1[0]["parts"][1]["name"] == "functions.shell");
    const auto in2 =
        Json::parse(named(spans, "chat", 1).attributes["gen_ai.input.messages"].get<std::string>());
    CHECK(in2[0]["role"] == "tool");
    CHECK(in2[0]["parts"][0]["response"] == "Exit code: 2");
    const auto& tool = named(spans, "execute_tool");
    CHECK(tool.attributes["gen_ai.tool.call.arguments"] == R"({"command":"make"})");
    CHECK(tool.attributes["gen_ai.tool.call.result"] == "Exit code: 2");
}

TEST_CASE("telemetry: policy hooks are events on their call's span (or the run's)") {
    std::vector<rt::Span> spans;
    {
        rt::GenAiTracer tracer({"a", "m", false, {}, ""}, [&](rt::Span s) { spans.push_back(s); });
        const auto send = [&](rt::EventBody body) { tracer.on_event({"s", std::move(body)}); };
        send(rt::SessionStarted{});
        send(rt::HookDecided{"pre_tool", "policy.py", 4, "python", "allow", "", 12.0});
        send(rt::ToolStarted{4, "python", "1"});
        send(rt::HookDecided{"post_tool", "redact.sh", 4, "python", "replace", "secret", 3.0});
        send(rt::ToolFinished{4, "python", true, 5.0, "1"});
        send(rt::HookDecided{"pre_tool", "policy.py", 6, "python", "deny", "no", 2.0});
        send(
            rt::HookDecided{"on_finish", "tests.sh", std::nullopt, std::nullopt, "allow", "", 9.0});
        send(rt::SessionFinished{"final", 1, 1, "x", nullptr, std::nullopt});
    }
    REQUIRE(spans.size() == 2);
    const auto& tool = spans[0];
    REQUIRE(tool.events.size() == 2);
    CHECK(tool.events[0].name == "gossamer.hook");
    CHECK(tool.events[0].attributes["gossamer.hook.kind"] == "pre_tool");
    CHECK(tool.events[1].attributes["gossamer.hook.decision"] == "replace");
    CHECK_FALSE(tool.events[1].attributes.contains("gossamer.hook.reason"));  // content off
    const auto& run = spans[1];
    REQUIRE(run.events.size() == 2);
    CHECK(run.events[0].attributes["gossamer.hook.kind"] == "on_finish");
    CHECK(run.events[1].attributes["gossamer.hook.decision"] == "deny");  // its call never ran
    const auto body = rt::otlp_request(spans, "gossamer");
    const auto& otlp_tool = body["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    CHECK(otlp_tool["events"][0]["name"] == "gossamer.hook");
    CHECK(otlp_tool["events"][0]["attributes"][0]["key"] == "gossamer.hook.kind");
}

TEST_CASE("telemetry: a run stopped without its end still closes its spans, as errors") {
    std::vector<rt::Span> spans;
    {
        rt::GenAiTracer tracer({"a", "m", false, {}, ""}, [&](rt::Span s) { spans.push_back(s); });
        tracer.on_event({"s", rt::ToolStarted{2, "python", "1"}});
    }
    REQUIRE(spans.size() == 2);
    CHECK(spans[0].name == "execute_tool python");
    CHECK(spans[0].error);
    CHECK(spans[1].name == "invoke_agent a");
    CHECK(spans[1].error);
}

TEST_CASE("telemetry: OTLP/JSON body and settings from the environment") {
    rt::Span s;
    s.trace_id = std::string(32, 'a'), s.span_id = std::string(16, 'b');
    s.parent_span_id = std::string(16, 'c');
    s.name = "chat m", s.kind = 3, s.start_ns = 1, s.end_ns = 2;
    s.attributes = Json{
        {"str", "x"}, {"int", 5}, {"real", 0.5}, {"flag", true}, {"list", Json::array({"stop"})}};
    s.error = true, s.status_message = "boom";
    const auto body = rt::otlp_request({s}, "gossamer");
    const auto& resource = body["resourceSpans"][0];
    CHECK(resource["resource"]["attributes"][0] ==
          Json{{"key", "service.name"}, {"value", {{"stringValue", "gossamer"}}}});
    const auto& span = resource["scopeSpans"][0]["spans"][0];
    CHECK(span["traceId"] == s.trace_id);
    CHECK(span["parentSpanId"] == s.parent_span_id);
    CHECK(span["kind"] == 3);
    CHECK(span["startTimeUnixNano"] == "1");
    CHECK(span["status"] == Json{{"code", 2}, {"message", "boom"}});
    const auto& a = span["attributes"];
    CHECK(a[0]["value"] == Json{{"stringValue", "x"}});
    CHECK(a[1]["value"] == Json{{"intValue", "5"}});
    CHECK(a[2]["value"] == Json{{"doubleValue", 0.5}});
    CHECK(a[3]["value"] == Json{{"boolValue", true}});
    CHECK(a[4]["value"]["arrayValue"]["values"][0] == Json{{"stringValue", "stop"}});

    ::unsetenv("GOSSAMER_OTLP_ENDPOINT");
    CHECK_FALSE(rt::otlp_options({}).has_value());
    ::setenv("GOSSAMER_OTLP_ENDPOINT", "http://127.0.0.1:4318", 1);
    ::setenv("GOSSAMER_OTLP_HEADERS", "Authorization=Basic%20abc, x-team = a ,bad", 1);
    auto o = rt::otlp_options({});
    REQUIRE(o);
    CHECK(o->url == "http://127.0.0.1:4318/v1/traces");
    CHECK(o->headers == std::vector<std::string>{"Authorization: Basic abc", "x-team: a"});
    rt::TelemetrySpec spec;
    spec.otlp_endpoint = "https://cloud.langfuse.com/api/public/otel/v1/traces";
    CHECK(rt::otlp_options(spec)->url == *spec.otlp_endpoint);  // a path is kept
    spec.otlp_endpoint = "http://h:6006/";
    CHECK(rt::otlp_options(spec)->url == "http://h:6006/v1/traces");
    ::setenv("GOSSAMER_OTLP_ENDPOINT", "grpc://h:4317", 1);
    CHECK_THROWS_AS(rt::otlp_options({}), rt::SetupError);
    ::unsetenv("GOSSAMER_OTLP_ENDPOINT");
    ::unsetenv("GOSSAMER_OTLP_HEADERS");
}
