// `gossamer harmony render`: harmony messages (JSON on stdin) -> token ids and their text.
// A thin shell over harmony::Renderer; the contract is in docs/CLI.md.
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_io.h"
#include "cli/commands.h"
#include "harmony/message.h"
#include "harmony/renderer.h"
#include "harmony/tokenizer.h"

namespace gossamer::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: gossamer harmony render [--for-completion[=ROLE]] [--for-training]\n"
    "                               [--drop-analysis=completed-turns|harmony-first-final|none]\n"
    "                               [--lines]\n"
    "\n"
    "stdin:  {\"messages\": [...]} (harmony's JSON message form)\n"
    "stdout: {\"tokens\": [...], \"text\": \"...\"} and a newline\n"
    "\n"
    "  --lines                  many requests, one JSON object per line; one result line each\n"
    "                           ({\"error\": \"...\"} for a bad line, the others still render)\n"
    "\n"
    "  --for-completion[=ROLE]  end with <|start|>ROLE (default ROLE: assistant)\n"
    "  --for-training           end a final answer with <|return|> instead of <|end|>\n"
    "  --drop-analysis=MODE     chain of thought to leave out (default: completed-turns)\n";

enum class Mode { conversation, completion, training };

struct Request {
    Mode mode = Mode::conversation;
    harmony::Role next_role = harmony::Role::assistant;
    harmony::RenderOptions options;
    bool lines = false;
};

// The value of "--name=value" when arg has that form.
std::optional<std::string_view> flag_value(std::string_view arg, std::string_view name) {
    if (arg.size() <= name.size() || !arg.starts_with(name) || arg[name.size()] != '=')
        return std::nullopt;
    return arg.substr(name.size() + 1);
}

harmony::Role parse_role(std::string_view text) {
    auto role = harmony::role_from_string(text);
    if (!role)
        throw InputError("--for-completion: unknown role '" + std::string(text) +
                         "' (expected user, assistant, system, developer or tool)");
    return *role;
}

harmony::DropAnalysis parse_drop(std::string_view text) {
    auto drop = harmony::drop_analysis_from_string(text);
    if (!drop)
        throw InputError("--drop-analysis: unknown mode '" + std::string(text) +
                         "' (expected completed-turns, harmony-first-final or none)");
    return *drop;
}

void set_mode(Request& request, Mode mode) {
    if (request.mode != Mode::conversation && request.mode != mode)
        throw InputError("--for-completion and --for-training cannot be combined");
    request.mode = mode;
}

Request parse_flags(Args args) {
    Request request;
    for (auto arg : args) {
        if (arg == "--for-completion") {
            set_mode(request, Mode::completion);
        } else if (auto role = flag_value(arg, "--for-completion")) {
            set_mode(request, Mode::completion);
            request.next_role = parse_role(*role);
        } else if (arg == "--for-training") {
            set_mode(request, Mode::training);
        } else if (arg == "--lines") {
            request.lines = true;
        } else if (auto drop = flag_value(arg, "--drop-analysis")) {
            request.options.drop_analysis = parse_drop(*drop);
        } else {
            throw InputError("unknown argument '" + std::string(arg) + "' (see --help)");
        }
    }
    return request;
}

std::vector<harmony::Message> read_messages(const std::string& text, const std::string& where) {
    auto request = parse_json(text, where);
    if (!request.is_object())
        throw InputError(where + " must be a JSON object {\"messages\": [...]}, got " +
                         request.type_name());
    for (const auto& [key, value] : request.items())
        if (key != "messages")
            throw InputError("unknown key '" + key + "' in the request (only \"messages\")");
    auto messages = request.find("messages");
    if (messages == request.end()) throw InputError("missing \"messages\" in the request");
    try {
        return harmony::messages_from_json(*messages);
    } catch (const harmony::MessageFormatError& e) {
        throw InputError(e.what());
    }
}

std::vector<harmony::Token> render(const harmony::Renderer& renderer, const Request& request,
                                   const std::vector<harmony::Message>& messages) {
    switch (request.mode) {
        case Mode::conversation:
            return renderer.render_conversation(messages, request.options);
        case Mode::completion:
            return renderer.render_conversation_for_completion(messages, request.next_role,
                                                               request.options);
        case Mode::training:
            return renderer.render_conversation_for_training(messages, request.options);
    }
    return {};  // unreachable
}

std::string render_line(const harmony::Renderer& renderer, const Request& request,
                        const std::string& text, const std::string& where) {
    auto messages = read_messages(text, where);
    std::vector<harmony::Token> tokens;
    try {
        tokens = render(renderer, request, messages);
    } catch (const harmony::MessageFormatError& e) {
        throw InputError(e.what());
    }
    nlohmann::ordered_json out;
    out["tokens"] = tokens;
    out["text"] = harmony::Tokenizer::o200k_harmony().decode(tokens);
    // The input was valid UTF-8 and every piece is whole, so the text is valid UTF-8.
    return out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

// --lines: one request per line, one result per line, so a training-data generator renders
// thousands of conversations with one tokenizer load.
int render_lines(const harmony::Renderer& renderer, const Request& request) {
    std::istringstream in(read_stdin());
    std::string line, out;
    for (int number = 1; std::getline(in, line); ++number) {
        if (line.empty()) continue;
        try {
            out += render_line(renderer, request, line, "line " + std::to_string(number));
        } catch (const InputError& e) {
            out += nlohmann::json{{"error", e.what()}}.dump() + "\n";
        }
    }
    write_stdout(out);
    return 0;
}

}  // namespace

int cmd_harmony_render(Args args) {
    for (auto arg : args)
        if (arg == "-h" || arg == "--help") {
            write_stdout(kUsage);
            return 0;
        }
    Request request = parse_flags(args);
    harmony::Renderer renderer(harmony::Tokenizer::o200k_harmony());
    if (request.lines) return render_lines(renderer, request);
    write_stdout(render_line(renderer, request, read_stdin(), "standard input"));
    return 0;
}

}  // namespace gossamer::cli
