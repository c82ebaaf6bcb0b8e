// `gossamer tool browser`: runs browser calls outside an agent and prints the tool messages
// the model would read. stdin: a JSON array of {"recipient": "browser.search", "arguments":
// {...} or "raw JSON text"}; stdout: a JSON array of strings, one per call, in order, from
// one browser (cursors carry over between calls). The contract is in docs/CLI.md; this file
// only maps flags and JSON onto tools/browser.
#include <cstdio>
#include <string>
#include <string_view>

#include "cli/cli_args.h"
#include "cli/cli_io.h"
#include "cli/commands.h"
#include "tools/browser/browser_tool.h"

namespace gossamer::cli {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kUsage =
    "usage: gossamer tool browser [--backend local|searxng|exa|youcom] [--root DIR] [--url URL]\n"
    "         [--allow-private] [--allow-domains A,B] [--deny-domains A,B] [--max-requests N]\n"
    "         [--timeout SECONDS] [--view-tokens N]\n"
    "  stdin:  [{\"recipient\": \"browser.search\", \"arguments\": {\"query\": \"...\"}}, ...]\n"
    "  stdout: [\"<tool message>\", ...]\n";

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = text.find(',', start);
        const std::string item =
            text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!item.empty()) out.push_back(item);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

tools::browser::BrowserOptions options_from(const Parsed& p) {
    tools::browser::BrowserOptions o;
    o.backend = p.get("--backend").value_or("local");
    if (auto root = p.get("--root")) o.root = *root;
    if (auto url = p.get("--url")) o.base_url = *url;
    o.allow_private = p.has("--allow-private");
    if (auto a = p.get("--allow-domains")) o.allow_domains = split_list(*a);
    if (auto d = p.get("--deny-domains")) o.deny_domains = split_list(*d);
    if (auto n = p.get("--max-requests"))
        o.max_requests = static_cast<int>(parse_uint(*n, "--max-requests", 0, 1000000));
    if (auto t = p.get("--timeout"))
        o.total_timeout = std::chrono::milliseconds(
            static_cast<long long>(parse_number(*t, "--timeout", 0.001, 3600) * 1000));
    if (auto v = p.get("--view-tokens"))
        o.view_tokens = static_cast<int>(parse_uint(*v, "--view-tokens", 1, 1000000));
    return o;
}

tools::ToolCall call_from(const Json& item, std::size_t index) {
    const std::string where = "calls[" + std::to_string(index) + "]";
    if (!item.is_object() || !item.contains("recipient") || !item.at("recipient").is_string())
        throw InputError(where +
                         ": expected {\"recipient\": \"browser.<fn>\", \"arguments\": ...}");
    tools::ToolCall call;
    call.recipient = item.at("recipient").get<std::string>();
    if (!call.recipient.starts_with("browser."))
        throw InputError(where + ".recipient: '" + call.recipient + "' is not a browser function");
    call.function = call.recipient.substr(8);
    call.channel = "analysis";
    if (item.contains("arguments")) {
        const Json& a = item.at("arguments");
        call.arguments = a.is_string() ? a.get<std::string>() : a.dump();
    }
    return call;
}

}  // namespace

int cmd_tool_browser(Args args) {
    for (std::string_view a : args)
        if (a == "-h" || a == "--help") {
            write_stdout(kUsage);
            return 0;
        }
    const Parsed p = parse_args(args,
                                {"--backend", "--root", "--url", "--allow-domains",
                                 "--deny-domains", "--max-requests", "--timeout", "--view-tokens"},
                                {"--allow-private"}, 0);
    const Json calls = parse_json(read_stdin(), "standard input");
    if (!calls.is_array()) throw InputError("standard input: expected a JSON array of calls");
    std::vector<tools::ToolCall> parsed;
    for (std::size_t i = 0; i < calls.size(); ++i) parsed.push_back(call_from(calls[i], i));

    std::unique_ptr<tools::browser::BrowserTool> browser;
    try {
        browser = std::make_unique<tools::browser::BrowserTool>(options_from(p));
    } catch (const std::invalid_argument& e) {
        throw InputError(e.what());
    }
    Json out = Json::array();
    for (const auto& call : parsed) out.push_back(browser->run(call).text);
    write_stdout(out.dump(2) + "\n");
    return 0;
}

}  // namespace gossamer::cli
