// `gossamer harmony render`: harmony messages (JSON on stdin) -> token ids and their text.
// A thin shell over harmony::Renderer; the contract is in docs/CLI.md.
#include <optional>
#include <string>
#include <vector>

#include "harmony/message.h"
#include "harmony/renderer.h"
#include "harmony/tokenizer.h"
#include "runtime/cli/cli_io.h"
#include "runtime/cli/commands.h"

namespace gossamer::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: gossamer harmony render [--for-completion[=ROLE]] [--for-training]\n"
    "                               [--drop-analysis=completed-turns|harmony-first-final|none]\n"
    "\n"
    "stdin:  {\"messages\": [...]} (harmony's JSON message form)\n"
    "stdout: {\"tokens\": [...], \"text\": \"...\"} and a newline\n"
    "\n"
    "  --for-completion[=ROLE]  end with <|start|>ROLE (default ROLE: assistant)\n"
    "  --for-training           end a final answer with <|return|> instead of <|end|>\n"
    "  --drop-analysis=MODE     chain of thought to leave out (default: completed-turns)\n";

enum class Mode { conversation, completion, training };

struct Request {
    Mode mode = Mode::conversation;
    harmony::Role next_role = harmony::Role::assistant;
    harmony::RenderOptions options;
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
        } else if (auto drop = flag_value(arg, "--drop-analysis")) {
            request.options.drop_analysis = parse_drop(*drop);
        } else {
            throw InputError("unknown argument '" + std::string(arg) + "' (see --help)");
        }
    }
    return request;
}

std::vector<harmony::Message> read_messages() {
    auto request = parse_json(read_stdin(), "standard input");
    if (!request.is_object())
        throw InputError(std::string("standard input must be a JSON object {\"messages\": [...]}, "
                                     "got ") +
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

}  // namespace

int cmd_harmony_render(Args args) {
    for (auto arg : args)
        if (arg == "-h" || arg == "--help") {
            write_stdout(kUsage);
            return 0;
        }
    Request request = parse_flags(args);
    auto messages = read_messages();
    const auto& tokenizer = harmony::Tokenizer::o200k_harmony();
    harmony::Renderer renderer(tokenizer);
    std::vector<harmony::Token> tokens;
    try {
        tokens = render(renderer, request, messages);
    } catch (const harmony::MessageFormatError& e) {
        throw InputError(e.what());
    }
    nlohmann::ordered_json out;
    out["tokens"] = tokens;
    out["text"] = tokenizer.decode(tokens);
    // The input was valid UTF-8 and every piece is whole, so the text is valid UTF-8.
    write_stdout(out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
    return 0;
}

}  // namespace gossamer::cli
