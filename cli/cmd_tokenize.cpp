// `gossamer tokenize` and `gossamer detokenize`: the tokenizer as a JSON-in/JSON-out tool.
#include <nlohmann/json.hpp>

#include "cli/cli_io.h"
#include "cli/commands.h"
#include "harmony/tokenizer.h"

namespace gossamer::cli {

// stdin: UTF-8 text. stdout: a JSON array of ids and a newline. Without --ordinary,
// special-token strings ("<|start|>") become special tokens; with it they stay text.
int cmd_tokenize(Args args) {
    require_known_flags(args, {"--ordinary"});
    bool ordinary = !args.empty();
    std::string text = read_stdin();
    require_utf8(text, "standard input");
    const auto& tokenizer = harmony::Tokenizer::o200k_harmony();
    auto ids = ordinary ? tokenizer.encode_ordinary(text)
                        : tokenizer.encode(text, harmony::AllowedSpecial::all_tokens());
    write_stdout(nlohmann::json(ids).dump() + "\n");
    return 0;
}

// stdin: a JSON array of ids. stdout: the decoded bytes, exactly (no newline added; special
// tokens as their text; bytes of a character split across ids come out joined).
int cmd_detokenize(Args args) {
    require_known_flags(args, {});
    auto ids = parse_token_array(parse_json(read_stdin(), "standard input"), "standard input");
    write_stdout(harmony::Tokenizer::o200k_harmony().decode(ids));
    return 0;
}

}  // namespace gossamer::cli
