// `gossamer harmony parse`: model output token ids -> harmony messages, through the lenient
// stream parser, as JSON. The contract is in docs/CLI.md; this file only maps flags and JSON.
#include <optional>
#include <string>
#include <string_view>

#include "cli/cli_io.h"
#include "cli/commands.h"
#include "harmony/message.h"
#include "harmony/stream_parser.h"

namespace gossamer::cli {
namespace {

constexpr std::string_view kUsage =
    "usage: gossamer harmony parse [--role=ROLE | --no-role]\n"
    "  stdin:  JSON array of token ids sampled after the prompt's <|start|>ROLE\n"
    "          (--role, default assistant), or whole messages from <|start|> on (--no-role)\n"
    "  stdout: {\"messages\": [...], \"message_info\": [...], \"errors\": [...]}\n";

struct Flags {
    std::optional<harmony::Role> role = harmony::Role::assistant;
    bool help = false;
};

Flags parse_flags(Args args) {
    Flags flags;
    bool role_given = false;
    bool no_role = false;
    for (std::string_view arg : args) {
        if (arg == "-h" || arg == "--help") {
            flags.help = true;
        } else if (arg == "--no-role") {
            no_role = true;
            flags.role.reset();
        } else if (arg.starts_with("--role=")) {
            std::string_view name = arg.substr(std::string_view("--role=").size());
            auto role = harmony::role_from_string(name);
            if (!role)
                throw InputError("unknown role '" + std::string(name) +
                                 "' (expected user, assistant, system, developer or tool)");
            role_given = true;
            flags.role = role;
        } else {
            throw InputError("unknown argument '" + std::string(arg) + "'");
        }
    }
    if (role_given && no_role) throw InputError("--role and --no-role exclude each other");
    return flags;
}

harmony::Json stop_json(std::optional<harmony::Token> stop) {
    if (!stop) return nullptr;  // the input ended inside the message
    return harmony::special_token_name(*stop).value_or(std::to_string(*stop));
}

// Per-message facts that are not part of harmony's message model, parallel to "messages" so
// that "messages" stays valid `harmony render` input.
harmony::Json info_json(const harmony::ParsedMessage& parsed) {
    harmony::Json info = {{"stop", stop_json(parsed.stop)}, {"is_call", parsed.is_call}};
    if (parsed.original_recipient) info["original_recipient"] = *parsed.original_recipient;
    return info;
}

harmony::Json error_json(const harmony::ParseError& error) {
    return {{"kind", harmony::to_string(error.kind)},
            {"what", error.what},
            {"tokens", error.tokens},
            {"position", error.position}};
}

}  // namespace

int cmd_harmony_parse(Args args) {
    Flags flags = parse_flags(args);
    if (flags.help) {
        write_stdout(kUsage);
        return 0;
    }
    auto ids = parse_token_array(parse_json(read_stdin(), "standard input"), "standard input");

    harmony::StreamParser parser(flags.role);
    for (harmony::Token id : ids) parser.process(id);
    parser.process_eos();

    harmony::Json messages = harmony::Json::array();
    harmony::Json info = harmony::Json::array();
    harmony::Json errors = harmony::Json::array();
    for (const auto& parsed : parser.messages()) {
        messages.push_back(harmony::message_to_json(parsed.message));
        info.push_back(info_json(parsed));
    }
    for (const auto& error : parser.errors()) errors.push_back(error_json(error));
    harmony::Json out = {{"messages", std::move(messages)},
                         {"message_info", std::move(info)},
                         {"errors", std::move(errors)}};
    write_stdout(out.dump() + "\n");
    return 0;
}

}  // namespace gossamer::cli
