// Header parsing for the stream parser, in four steps over the header's tokens:
//   1. lex into words, whitespace runs and special tokens (a word may span tokens:
//      "comment" + "ary"; specials always split words, so `commentary<|constrain|>json` is three
//      pieces without the space insertion harmony does on the decoded string);
//   2. take the <|channel|> value (harmony: up to the first whitespace or '<');
//   3. merge each <|constrain|> with the word after it ("<|constrain|>json");
//   4. read role, recipient and content type from the remaining words (HeaderEnd::message),
//      or keep the words after the leading header words as content (HeaderEnd::salvage).
// Well-formed headers give exactly harmony's parse_header_from_string result.
#include "harmony/header_parser.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "harmony/tokenizer.h"
#include "harmony/utf8.h"

namespace gossamer::harmony {

std::string_view to_string(ParseErrorKind kind) {
    switch (kind) {
        case ParseErrorKind::unexpected_token:
            return "unexpected_token";
        case ParseErrorKind::missing_message:
            return "missing_message";
        case ParseErrorKind::eos_in_header:
            return "eos_in_header";
        case ParseErrorKind::doubled_start:
            return "doubled_start";
        case ParseErrorKind::start_in_content:
            return "start_in_content";
        case ParseErrorKind::special_in_content:
            return "special_in_content";
        case ParseErrorKind::invalid_token:
            return "invalid_token";
        case ParseErrorKind::bad_channel:
            return "bad_channel";
        case ParseErrorKind::doubled_channel:
            return "doubled_channel";
        case ParseErrorKind::missing_role:
            return "missing_role";
        case ParseErrorKind::unexpected_header_text:
            return "unexpected_header_text";
        case ParseErrorKind::call_without_recipient:
            return "call_without_recipient";
    }
    return "unknown";
}

namespace {

constexpr std::string_view kConstrainText = "<|constrain|>";
constexpr std::string_view kToPrefix = "to=";

// Rust's split_ascii_whitespace set, which harmony splits header words on.
bool is_ascii_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

// A run of header bytes between whitespace and special tokens, a run of whitespace, or one
// special token.
struct Piece {
    enum class Kind { word, space, special };
    Kind kind = Kind::word;
    std::string bytes;  // exactly as written (a special token's text); salvaged content uses it
    std::string value;  // the field value: bytes as valid UTF-8; "<|constrain|>json" when merged
    Token special = 0;  // Kind::special only
    std::size_t first = 0;  // header token range [first, last)
    std::size_t last = 0;
    bool used = false;  // taken as a header field
};

std::vector<Piece> lex(std::span<const Token> tokens, const Tokenizer& tokenizer) {
    std::vector<Piece> pieces;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        Token t = tokens[i];
        if (is_special(t)) {
            Piece p;
            p.kind = Piece::Kind::special;
            p.bytes = tokenizer.token_bytes(t);
            p.special = t;
            p.first = i;
            p.last = i + 1;
            pieces.push_back(std::move(p));
            continue;
        }
        // Ids outside the vocabulary read as U+FFFD (the stream parser reports them).
        std::string_view bytes = tokenizer.valid(t) ? tokenizer.token_bytes(t) : utf8::kReplacement;
        for (char c : bytes) {
            auto kind = is_ascii_space(c) ? Piece::Kind::space : Piece::Kind::word;
            if (pieces.empty() || pieces.back().kind != kind) {
                Piece p;
                p.kind = kind;
                p.first = i;
                pieces.push_back(std::move(p));
            }
            pieces.back().bytes += c;
            pieces.back().last = i + 1;
        }
    }
    for (auto& p : pieces) p.value = utf8::to_valid_lossy(p.bytes);
    return pieces;
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

// Content types the model writes as a plain word after the recipient (" json", " code").
bool is_content_type_word(std::string_view word) {
    return word == "json" || word == "code" || word.starts_with(kConstrainText);
}

// A word that can be a bare recipient or content type ("python", "functions.get_weather",
// "code"): garbage such as "2?" or "––commentary" cannot.
bool is_plain_name(std::string_view word) {
    if (word.empty()) return false;
    auto head = static_cast<unsigned char>(word.front());
    if (!(std::isalpha(head) || head == '_')) return false;
    return std::all_of(word.begin(), word.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return std::isalnum(u) || u == '_' || u == '.' || u == '-' || u == ':' || u == '/';
    });
}

// Appends rather than `"'" + std::string(...)`: GCC 12 warns (-Wrestrict) on the latter.
std::string in_quotes(std::string_view text) {
    std::string out = "'";
    out += text;
    out += '\'';
    return out;
}

// The channel a <|channel|> value stands for, and what was wrong with it.
struct ChannelChoice {
    std::optional<std::string> channel;
    std::optional<std::string> problem;
    bool recognised = true;  // false: the value named no channel at all (it is text)
};

ChannelChoice resolve_channel(const std::string& value, const ParseOptions& options) {
    std::optional<std::string> fallback;
    if (!options.fallback_channel.empty()) fallback = options.fallback_channel;
    std::string read_as = fallback ? "read as " + in_quotes(*fallback) : "read as no channel";
    if (value.empty())
        return {fallback, "channel marker present but no channel value found in header; " + read_as,
                true};
    if (options.valid_channels.empty() || contains(options.valid_channels, value))
        return {value, std::nullopt, true};
    // "commentary?", "––commentary", "commentary2": the earliest valid name inside the value.
    std::size_t best = std::string::npos;
    const std::string* found = nullptr;
    for (const auto& name : options.valid_channels) {
        std::size_t at = value.find(name);
        if (at < best) best = at, found = &name;
    }
    if (found)
        return {*found, "unknown channel " + in_quotes(value) + "; read as " + in_quotes(*found)};
    return {fallback, "unknown channel " + in_quotes(value) + "; " + read_as, false};
}

// One <|channel|> marker and the value that followed it.
struct ChannelMark {
    std::string value;
    std::size_t first = 0;  // header token range of marker and value
    std::size_t last = 0;
    std::optional<std::size_t> value_piece;  // the piece the value was cut from
    std::string value_bytes;                 // the bytes cut from it
};

class HeaderReader {
  public:
    HeaderReader(std::span<const Token> tokens, const HeaderContext& context,
                 const ParseOptions& options, const Tokenizer& tokenizer)
        : tokens_(tokens), context_(context), options_(options), pieces_(lex(tokens, tokenizer)) {}

    HeaderResult read(HeaderEnd end) {
        result_.has_words = std::any_of(pieces_.begin(), pieces_.end(), [](const Piece& p) {
            return p.kind != Piece::Kind::space;
        });
        take_channel(end);
        merge_constrain();
        take_role(end);
        if (end == HeaderEnd::message) {
            take_channel_word();
            take_fields();
        } else {
            salvage_content();
        }
        normalize_recipient();
        return std::move(result_);
    }

  private:
    using Range = std::pair<std::size_t, std::size_t>;  // header token range [first, last)

    void report(ParseErrorKind kind, std::string what, const std::vector<Range>& ranges) {
        std::vector<bool> offending(tokens_.size(), false);
        for (auto [first, last] : ranges)
            for (std::size_t i = first; i < last && i < tokens_.size(); ++i) offending[i] = true;
        ParseError error{kind, std::move(what), {}, context_.position + tokens_.size()};
        for (std::size_t i = 0; i < tokens_.size(); ++i) {
            if (!offending[i]) continue;
            if (error.tokens.empty()) error.position = context_.position + i;
            error.tokens.push_back(tokens_[i]);
        }
        result_.errors.push_back(std::move(error));
    }
    Range whole_header() const { return {0, tokens_.size()}; }

    Piece* first_candidate() {
        for (auto& p : pieces_)
            if (!p.used && p.kind != Piece::Kind::space) return &p;
        return nullptr;
    }

    // Step 2. Every marker is cut out with its value; the last non-empty value wins, because
    // it is the one the model settled on right before <|message|>.
    void take_channel(HeaderEnd end) {
        std::vector<ChannelMark> marks;
        for (std::size_t k = 0; k < pieces_.size(); ++k) {
            if (pieces_[k].kind != Piece::Kind::special || pieces_[k].special != tok::kChannel)
                continue;
            pieces_[k].used = true;
            marks.push_back(cut_channel_value(k));
        }
        if (marks.empty()) return;
        const ChannelMark* chosen = &marks.back();
        for (const auto& m : marks)
            if (!m.value.empty()) chosen = &m;
        if (marks.size() > 1) {
            std::string values;
            std::vector<Range> ranges;
            for (const auto& m : marks) {
                values += (values.empty() ? "" : ", ") + in_quotes(m.value);
                ranges.emplace_back(m.first, m.last);
            }
            report(ParseErrorKind::doubled_channel,
                   std::to_string(marks.size()) + " <|channel|> markers in one header (" + values +
                       "); read as " + in_quotes(chosen->value),
                   ranges);
        }
        ChannelChoice choice = resolve_channel(chosen->value, options_);
        result_.header.channel = choice.channel;
        channel_unrecognised_ = !choice.recognised;
        // A header cut short by a stop or the end of the stream may end right after the
        // marker; missing_message / eos_in_header already say so.
        bool cut_short = end == HeaderEnd::salvage && chosen->value.empty();
        if (choice.problem && !cut_short)
            report(ParseErrorKind::bad_channel, *choice.problem, {{chosen->first, chosen->last}});
        // A value that names no channel is text the model wrote ("<|channel|>I must refuse"):
        // when salvaging, give it back to the content instead of losing it.
        if (!choice.recognised && end == HeaderEnd::salvage && chosen->value_piece) {
            Piece& p = pieces_[*chosen->value_piece];
            p.bytes.insert(0, chosen->value_bytes);
            p.value = utf8::to_valid_lossy(p.bytes);
            p.used = false;
        }
    }

    ChannelMark cut_channel_value(std::size_t k) {
        ChannelMark mark;
        mark.first = pieces_[k].first;
        mark.last = pieces_[k].last;
        if (k + 1 < pieces_.size() && pieces_[k + 1].kind == Piece::Kind::word) {
            Piece& word = pieces_[k + 1];
            std::size_t cut = std::min(word.bytes.find('<'), word.bytes.size());
            if (cut == 0) return mark;  // "<|channel|><foo": empty value, as in harmony
            mark.value_bytes = word.bytes.substr(0, cut);
            mark.value = utf8::to_valid_lossy(mark.value_bytes);
            mark.value_piece = k + 1;
            mark.last = word.last;
            word.bytes.erase(0, cut);
            word.value = utf8::to_valid_lossy(word.bytes);
            word.used = word.bytes.empty();
        } else if (k + 2 < pieces_.size() && pieces_[k + 1].kind == Piece::Kind::space &&
                   pieces_[k + 2].kind == Piece::Kind::word &&
                   contains(options_.valid_channels, pieces_[k + 2].value)) {
            // "<|channel|> final": harmony finds an empty value here; the word is unambiguous.
            Piece& word = pieces_[k + 2];
            mark.value = word.value;
            mark.value_bytes = word.bytes;
            mark.value_piece = k + 2;
            mark.last = word.last;
            word.bytes.clear();
            word.used = true;
        }
        return mark;
    }

    // Step 3. "<|constrain|>json" and "<|constrain|> json" both read as "<|constrain|>json".
    void merge_constrain() {
        for (std::size_t k = 0; k < pieces_.size(); ++k) {
            Piece& c = pieces_[k];
            if (c.used || c.kind != Piece::Kind::special || c.special != tok::kConstrain) continue;
            c.kind = Piece::Kind::word;
            c.value = std::string(kConstrainText);
            std::size_t absorb = 0;
            if (k + 1 < pieces_.size() && !pieces_[k + 1].used &&
                pieces_[k + 1].kind == Piece::Kind::word) {
                absorb = 1;
            } else if (k + 2 < pieces_.size() && pieces_[k + 1].kind == Piece::Kind::space &&
                       !pieces_[k + 2].used && pieces_[k + 2].kind == Piece::Kind::word &&
                       is_plain_name(pieces_[k + 2].value)) {
                absorb = 2;
            }
            if (absorb == 0) continue;
            for (std::size_t j = k + 1; j <= k + absorb; ++j) c.bytes += pieces_[j].bytes;
            c.value += pieces_[k + absorb].value;
            c.last = pieces_[k + absorb].last;
            pieces_.erase(pieces_.begin() + static_cast<std::ptrdiff_t>(k + 1),
                          pieces_.begin() + static_cast<std::ptrdiff_t>(k + 1 + absorb));
        }
    }

    // Step 4a. The role: known, a role word, or (after <|start|>) the name of a speaking tool.
    void take_role(HeaderEnd end) {
        Header& h = result_.header;
        Piece* first = first_candidate();
        bool is_word = first && first->kind == Piece::Kind::word;
        if (context_.role) {
            h.role = *context_.role;
            if (is_word && first->value == to_string(h.role)) first->used = true;
            return;
        }
        if (auto role = is_word ? role_from_string(first->value) : std::nullopt) {
            h.role = *role;
            first->used = true;
            return;
        }
        h.role = context_.default_role;
        if (end != HeaderEnd::message || !context_.explicit_start) return;
        // harmony: an unknown first word names the tool speaking ("browser.search to=assistant");
        // unlike harmony a lone word is accepted ("<|start|>functions.lookup_weather<|message|>").
        if (is_word && !first->value.starts_with(kToPrefix) &&
            !contains(options_.valid_channels, first->value) &&
            !is_content_type_word(first->value)) {
            h.role = Role::tool;
            h.name = first->value;
            first->used = true;
            return;
        }
        report(ParseErrorKind::missing_role,
               "message header did not contain a role; read as " +
                   in_quotes(to_string(context_.default_role)),
               {whole_header()});
    }

    // Step 4b. "<|end|>commentary to=functions.x<|message|>": a channel name as the first word
    // of a header without <|channel|>. (harmony would take it as a tool name or recipient.)
    void take_channel_word() {
        Piece* first = first_candidate();
        if (result_.header.channel || !first || first->kind != Piece::Kind::word ||
            !contains(options_.valid_channels, first->value))
            return;
        first->used = true;
        result_.header.channel = first->value;
        // Without <|start|> the unexpected_token error already tells the story.
        if (context_.explicit_start)
            report(ParseErrorKind::bad_channel,
                   "channel " + in_quotes(first->value) + " written without <|channel|>",
                   {{first->first, first->last}});
    }

    // Step 4c. harmony reads the last two words as [recipient] [content type]; reading by
    // form instead also accepts them in either order around the channel. `to=X` is always a
    // recipient, `<|constrain|>X`/json/code always a content type (harmony would make a lone
    // "json" the recipient); one bare name is the recipient, a second one the content type.
    // Bare names count only in an otherwise clean header: in "<|channel|>I think we should"
    // they are prose, and prose must never become a tool call.
    void take_fields() {
        Header& h = result_.header;
        Piece* recipient = nullptr;
        Piece* content_type = nullptr;
        std::vector<Piece*> bare;  // bare names taken as recipient or content type
        std::vector<Piece*> leftover;
        auto replace = [&leftover](Piece*& slot, Piece* p) {
            if (slot) leftover.push_back(slot);
            slot = p;
        };
        for (auto& p : pieces_) {
            if (p.used || p.kind == Piece::Kind::space) continue;
            const std::string& v = p.value;
            if (p.kind == Piece::Kind::special) {
                leftover.push_back(&p);
            } else if (v.starts_with(kToPrefix) && v.size() > kToPrefix.size()) {
                std::erase(bare, recipient);  // a replaced bare name is reported below
                replace(recipient, &p);
            } else if (is_content_type_word(v)) {
                replace(content_type, &p);
            } else if (!recipient && is_plain_name(v)) {
                recipient = &p;
                bare.push_back(&p);
            } else if (!content_type && is_plain_name(v)) {
                content_type = &p;
                bare.push_back(&p);
            } else {
                leftover.push_back(&p);
            }
        }
        if (!bare.empty() && (!leftover.empty() || channel_unrecognised_)) {
            for (Piece* p : bare) {
                if (recipient == p) recipient = nullptr;
                if (content_type == p) content_type = nullptr;
                leftover.push_back(p);
            }
        }
        if (recipient) {
            std::string_view v = recipient->value;
            if (v.starts_with(kToPrefix)) v.remove_prefix(kToPrefix.size());
            h.recipient = std::string(v);
        }
        if (content_type) h.content_type = content_type->value;
        if (leftover.empty()) return;
        std::sort(leftover.begin(), leftover.end());  // pieces_ order: pointers into one vector
        std::string text;
        std::vector<Range> ranges;
        for (const Piece* p : leftover) {
            text += (text.empty() ? "" : " ") + p->value;
            ranges.emplace_back(p->first, p->last);
        }
        report(ParseErrorKind::unexpected_header_text,
               "unexpected tokens remaining in message header: \"" + text + "\"", ranges);
    }

    // Step 4 for a header that never reached <|message|>: leading `to=X`, `<|constrain|>X`
    // and (after a recipient) json/code are header words; everything from the first other word
    // on is content, byte for byte (harmony re-joins the words with single spaces).
    void salvage_content() {
        Header& h = result_.header;
        std::size_t start = pieces_.size();
        for (std::size_t k = 0; k < pieces_.size(); ++k) {
            Piece& p = pieces_[k];
            if (p.used || p.kind == Piece::Kind::space) continue;
            const std::string& v = p.value;
            // First come only: a second `to=` is where the text begins.
            if (p.kind == Piece::Kind::word && v.starts_with(kToPrefix) &&
                v.size() > kToPrefix.size() && !h.recipient) {
                h.recipient = v.substr(kToPrefix.size());
            } else if (p.kind == Piece::Kind::word && v.starts_with(kConstrainText) &&
                       !h.content_type) {
                h.content_type = v;
            } else if (p.kind == Piece::Kind::word && h.recipient && !h.content_type &&
                       is_content_type_word(v)) {
                h.content_type = v;
            } else {
                start = k;
                break;
            }
            p.used = true;
        }
        std::string bytes;
        for (std::size_t k = start; k < pieces_.size(); ++k)
            if (!pieces_[k].used) bytes += pieces_[k].bytes;
        if (!bytes.empty()) result_.content = utf8::to_valid_lossy(bytes);
    }

    void normalize_recipient() {
        Header& h = result_.header;
        constexpr std::string_view kFunctions = "functions.";
        if (!options_.normalize_builtin_aliases || !h.recipient ||
            !h.recipient->starts_with(kFunctions))
            return;
        std::string rest = h.recipient->substr(kFunctions.size());
        if (rest != "python" && !rest.starts_with("browser.")) return;
        h.original_recipient = std::exchange(*h.recipient, rest);
    }

    std::span<const Token> tokens_;
    const HeaderContext& context_;
    const ParseOptions& options_;
    std::vector<Piece> pieces_;
    HeaderResult result_;
    bool channel_unrecognised_ = false;  // the <|channel|> value named no channel: prose
};

}  // namespace

HeaderResult parse_header(std::span<const Token> tokens, const HeaderContext& context,
                          HeaderEnd end, const ParseOptions& options, const Tokenizer& tokenizer) {
    return HeaderReader(tokens, context, options, tokenizer).read(end);
}

}  // namespace gossamer::harmony
