#include "server/request_parsers.h"

#include <cmath>
#include <limits>
#include <map>

namespace gossamer::server {

namespace {

using harmony::Message;
using harmony::Role;

// Field access that names the parameter when the type is wrong.
const Json* field(const Json& obj, const char* key) {
    const auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
}

std::string text_at(const Json& v, const std::string& param) {
    if (!v.is_string()) throw bad_param(param, "expected a string");
    return v.get<std::string>();
}

std::optional<std::string> opt_text(const Json& obj, const char* key, const std::string& where) {
    const Json* v = field(obj, key);
    if (!v) return std::nullopt;
    return text_at(*v, where.empty() ? key : where + "." + key);
}

bool opt_bool(const Json& obj, const char* key, bool fallback) {
    const Json* v = field(obj, key);
    if (!v) return fallback;
    if (!v->is_boolean()) throw bad_param(key, "expected true or false");
    return v->get<bool>();
}

double number_in(const Json& v, const std::string& param, double lo, double hi) {
    if (!v.is_number()) throw bad_param(param, "expected a number");
    const double x = v.get<double>();
    if (!std::isfinite(x) || x < lo || x > hi)
        throw bad_param(param, "must be between " + Json(lo).dump() + " and " + Json(hi).dump());
    return x;
}

long long integer_in(const Json& v, const std::string& param, long long lo, long long hi) {
    if (!v.is_number_integer()) throw bad_param(param, "expected an integer");
    const auto x = v.is_number_unsigned()
                       ? static_cast<long long>(std::min<std::uint64_t>(
                             v.get<std::uint64_t>(),
                             static_cast<std::uint64_t>(std::numeric_limits<long long>::max())))
                       : v.get<long long>();
    if (x < lo || x > hi)
        throw bad_param(param,
                        "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return x;
}

// A message's content: a string or a list of text parts (input_text, output_text, text,
// reasoning_text); other parts (images, files, audio) are refused by name.
std::string content_text(const Json& content, const std::string& param) {
    if (content.is_string()) return content.get<std::string>();
    if (!content.is_array()) throw bad_param(param, "expected a string or a list of parts");
    std::string out;
    for (std::size_t i = 0; i < content.size(); ++i) {
        const auto& part = content[i];
        const std::string p = param + "[" + std::to_string(i) + "]";
        if (part.is_string()) {
            out += part.get<std::string>();
            continue;
        }
        if (!part.is_object()) throw bad_param(p, "expected a content part object");
        const std::string type = opt_text(part, "type", p).value_or("text");
        if (type == "input_text" || type == "output_text" || type == "text" ||
            type == "reasoning_text" || type == "summary_text") {
            out += opt_text(part, "text", p).value_or("");
        } else if (type == "refusal") {
            out += opt_text(part, "refusal", p).value_or("");
        } else {
            throw ApiError(400,
                           p + ".type: content of type '" + type +
                               "' is not supported by this server (text only)",
                           p + ".type", "unsupported_content");
        }
    }
    return out;
}

void append_instructions(TurnInput& in, const std::string& text) {
    if (text.empty()) return;
    in.instructions = in.instructions ? *in.instructions + "\n\n" + text : text;
}

Message assistant(std::string channel, std::string text) {
    Message m = Message::text(Role::assistant, std::move(text));
    m.channel = std::move(channel);
    return m;
}

Message function_call_message(const std::string& recipient, const std::string& arguments) {
    Message m = assistant("commentary", arguments);
    m.recipient = recipient;
    m.content_type = "<|constrain|>json";
    return m;
}

FunctionTool read_function(const Json& t, const std::string& p, const std::string& ns) {
    FunctionTool f;
    f.ns = ns;
    // Responses: {type, name, description, parameters, strict};
    // Chat: {type, function: {name, description, parameters, strict}}
    const Json& body = field(t, "function") ? t["function"] : t;
    const std::string where = field(t, "function") ? p + ".function" : p;
    const auto name = opt_text(body, "name", where);
    if (!name || name->empty()) throw bad_param(where + ".name", "a function tool needs a name");
    for (char c : *name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
            throw bad_param(where + ".name", "use letters, digits, '_' and '-' only");
    f.name = *name;
    f.description = opt_text(body, "description", where).value_or("");
    if (const Json* params = field(body, "parameters")) {
        if (!params->is_object()) throw bad_param(where + ".parameters", "expected a JSON Schema");
        f.parameters = *params;
    }
    f.strict = opt_bool(body, "strict", false);
    return f;
}

// Calls `f(tool, "tools[i]", type)` for each entry of the `tools` list (type defaults to
// `default_type`).
template <typename F>
void each_tool(const Json& body, const char* default_type, F f) {
    const Json* tools = field(body, "tools");
    if (!tools) return;
    if (!tools->is_array()) throw bad_param("tools", "expected a list");
    for (std::size_t i = 0; i < tools->size(); ++i) {
        const auto& t = (*tools)[i];
        const std::string p = "tools[" + std::to_string(i) + "]";
        if (!t.is_object()) throw bad_param(p, "expected a tool object");
        f(t, p, opt_text(t, "type", p).value_or(default_type));
    }
}

harmony::ReasoningEffort effort_from(const std::string& text, const std::string& param) {
    if (text == "minimal" || text == "low" || text == "none") return harmony::ReasoningEffort::low;
    if (text == "medium") return harmony::ReasoningEffort::medium;
    if (text == "high" || text == "xhigh") return harmony::ReasoningEffort::high;
    throw bad_param(param, "must be low, medium or high");
}

void read_tool_choice(const Json& body, TurnInput& in) {
    const Json* c = field(body, "tool_choice");
    if (!c) return;
    if (c->is_string()) {
        const auto s = c->get<std::string>();
        if (s == "auto")
            in.tool_choice = ToolChoice::automatic;
        else if (s == "none")
            in.tool_choice = ToolChoice::none;
        else if (s == "required")
            in.tool_choice = ToolChoice::required;
        else
            throw bad_param("tool_choice", "must be auto, none, required or a function");
        return;
    }
    if (!c->is_object()) throw bad_param("tool_choice", "expected a string or an object");
    const auto type = opt_text(*c, "type", "tool_choice").value_or("");
    if (type != "function")
        throw ApiError(400, "tool_choice.type: only function choices are supported", "tool_choice");
    const Json& fn = field(*c, "function") ? (*c)["function"] : *c;
    const auto name = opt_text(fn, "name", "tool_choice");
    if (!name) throw bad_param("tool_choice.name", "a function choice needs a name");
    for (const auto& t : in.tools)
        if (t.name == *name) {
            in.tool_choice = ToolChoice::named;
            in.tool_choice_name = recipient_of(t);
            return;
        }
    throw bad_param("tool_choice.name", "no function tool named '" + *name + "'");
}

void read_json_schema(const Json& format, const std::string& p, TurnInput& in) {
    const auto type = opt_text(format, "type", p).value_or("text");
    if (type == "text") return;
    if (type == "json_object") {
        in.output_schema = Json{{"type", "object"}};
        return;
    }
    if (type != "json_schema")
        throw bad_param(p + ".type", "must be text, json_object or json_schema");
    // Responses: {type, name, schema, strict}; Chat: {type, json_schema: {name, schema, strict}}
    const Json& spec = field(format, "json_schema") ? format["json_schema"] : format;
    const Json* schema = field(spec, "schema");
    if (!schema || !schema->is_object())
        throw bad_param(p + ".schema", "expected a JSON Schema object");
    in.output_schema = *schema;
    in.output_schema_name = opt_text(spec, "name", p).value_or("response");
}

const std::string& name_of_call(const TurnInput& in, const std::string& call_id,
                                const std::string& param) {
    if (const std::string* name = find_call(in.call_names, call_id)) return *name;
    throw bad_param(param, "no function_call with call_id '" + call_id +
                               "' comes before it (send the call, or use previous_response_id)");
}

void read_input_item(const Json& item, const std::string& p, TurnInput& in, bool has_previous) {
    if (!item.is_object()) throw bad_param(p, "expected an input item object");
    const std::string type = opt_text(item, "type", p).value_or("message");
    if (type == "message") {
        const auto role = opt_text(item, "role", p);
        if (!role) throw bad_param(p + ".role", "a message needs a role");
        const Json* content = field(item, "content");
        const std::string text = content ? content_text(*content, p + ".content") : "";
        if (*role == "user") {
            in.messages.push_back(Message::text(Role::user, text));
        } else if (*role == "assistant") {
            in.messages.push_back(assistant("final", text));
        } else if (*role == "system" || *role == "developer") {
            append_instructions(in, text);
        } else {
            throw bad_param(p + ".role", "must be user, assistant, system or developer");
        }
    } else if (type == "reasoning") {
        std::string text;
        std::vector<std::int32_t> tokens;
        if (const auto enc = opt_text(item, "encrypted_content", p))
            if (auto decoded = decode_reasoning(*enc))
                text = decoded->text, tokens = decoded->tokens;
        if (text.empty())
            if (const Json* content = field(item, "content"))
                text = content_text(*content, p + ".content");
        if (text.empty()) return;  // a summary-only item carries nothing the model can use
        in.messages.push_back(assistant("analysis", text));
        if (!tokens.empty()) in.verbatim.emplace_back(in.messages.size() - 1, std::move(tokens));
    } else if (type == "function_call") {
        const auto call_id = opt_text(item, "call_id", p);
        const auto name = opt_text(item, "name", p);
        if (!call_id || !name) throw bad_param(p, "a function_call needs call_id and name");
        const std::string ns = opt_text(item, "namespace", p).value_or("functions");
        const std::string recipient = ns + "." + *name;
        in.call_names.emplace_back(*call_id, recipient);
        in.messages.push_back(
            function_call_message(recipient, opt_text(item, "arguments", p).value_or("{}")));
    } else if (type == "function_call_output") {
        const auto call_id = opt_text(item, "call_id", p);
        if (!call_id) throw bad_param(p + ".call_id", "a function_call_output needs call_id");
        const Json* output = field(item, "output");
        const std::string text = output ? content_text(*output, p + ".output") : "";
        // With previous_response_id the call may be in the stored response: resolved there.
        const std::string tool = has_previous && !find_call(in.call_names, *call_id)
                                     ? std::string(kUnresolvedCall) + *call_id
                                     : name_of_call(in, *call_id, p + ".call_id");
        in.messages.push_back(harmony::tool_result(tool, text, "commentary"));
    } else if (type == "web_search_call" || type == "code_interpreter_call") {
        // Server-side tool items sent back: their results are in the reasoning/text around them.
    } else {
        throw ApiError(400, p + ".type: input items of type '" + type + "' are not supported",
                       p + ".type", "unsupported_input");
    }
}

}  // namespace

Json parse_body(std::string_view body) {
    Json j = Json::parse(body, nullptr, false);
    if (j.is_discarded())
        throw ApiError(400, "the request body is not valid JSON", std::nullopt, "invalid_json");
    if (!j.is_object()) throw ApiError(400, "the request body must be a JSON object");
    return j;
}

void read_sampling(const Json& body, engine::SamplingParams& sampling) {
    if (const Json* t = field(body, "temperature"))
        sampling.temperature = static_cast<float>(number_in(*t, "temperature", 0, 2));
    if (const Json* t = field(body, "top_p"))
        sampling.top_p = static_cast<float>(number_in(*t, "top_p", 1e-6, 1));
    if (const Json* t = field(body, "seed"))
        sampling.seed =
            static_cast<std::uint64_t>(integer_in(*t, "seed", std::numeric_limits<long long>::min(),
                                                  std::numeric_limits<long long>::max()));
}

TurnInput parse_responses_request(const Json& body) {
    TurnInput in;
    in.model = opt_text(body, "model", "").value_or("");
    in.instructions = opt_text(body, "instructions", "");
    in.stream = opt_bool(body, "stream", false);
    in.store = opt_bool(body, "store", true);
    in.parallel_tool_calls = opt_bool(body, "parallel_tool_calls", true);
    in.previous_response_id = opt_text(body, "previous_response_id", "");
    read_sampling(body, in.sampling);
    if (const Json* m = field(body, "max_output_tokens"))
        in.max_output_tokens = static_cast<int>(integer_in(*m, "max_output_tokens", 1, 1 << 20));
    if (const Json* r = field(body, "reasoning")) {
        if (!r->is_object()) throw bad_param("reasoning", "expected an object");
        if (const auto e = opt_text(*r, "effort", "reasoning"))
            in.effort = effort_from(*e, "reasoning.effort");
    }
    if (const Json* inc = field(body, "include")) {
        if (!inc->is_array()) throw bad_param("include", "expected a list of strings");
        for (const auto& v : *inc)
            if (v.is_string() && v.get<std::string>() == "reasoning.encrypted_content")
                in.include_reasoning = true;
    }
    if (const Json* meta = field(body, "metadata"); meta && meta->is_object()) in.metadata = *meta;
    each_tool(body, "", [&](const Json& t, const std::string& p, const std::string& type) {
        if (type == "function") {
            in.tools.push_back(read_function(t, p, "functions"));
        } else if (type == "namespace") {
            const auto ns = opt_text(t, "name", p);
            if (!ns || ns->empty() || *ns == "functions" || *ns == "python" || *ns == "browser")
                throw bad_param(p + ".name", "a namespace needs its own name");
            const Json* members = field(t, "tools");
            if (!members || !members->is_array()) throw bad_param(p + ".tools", "expected a list");
            for (std::size_t k = 0; k < members->size(); ++k)
                in.tools.push_back(
                    read_function((*members)[k], p + ".tools[" + std::to_string(k) + "]", *ns));
        } else if (type == "code_interpreter") {
            in.code_interpreter = true;
        } else if (type == "web_search" || type == "web_search_preview") {
            in.web_search = true;
        } else {
            throw ApiError(
                400,
                p + ".type: tools of type '" + type +
                    "' are not supported (function, namespace, code_interpreter, web_search)",
                p + ".type", "unsupported_tool");
        }
    });
    read_tool_choice(body, in);
    if (const Json* text = field(body, "text")) {
        if (!text->is_object()) throw bad_param("text", "expected an object");
        if (const Json* format = field(*text, "format"))
            read_json_schema(*format, "text.format", in);
    }
    const Json* input = field(body, "input");
    if (!input) throw bad_param("input", "required");
    if (input->is_string()) {
        in.messages.push_back(Message::text(Role::user, input->get<std::string>()));
    } else if (input->is_array()) {
        for (std::size_t i = 0; i < input->size(); ++i)
            read_input_item((*input)[i], "input[" + std::to_string(i) + "]", in,
                            in.previous_response_id.has_value());
    } else {
        throw bad_param("input", "expected a string or a list of items");
    }
    if (in.messages.empty() && !in.previous_response_id)
        throw bad_param("input", "needs at least one user message");
    return in;
}

TurnInput parse_chat_request(const Json& body) {
    TurnInput in;
    in.store = false;
    in.model = opt_text(body, "model", "").value_or("");
    in.stream = opt_bool(body, "stream", false);
    in.parallel_tool_calls = opt_bool(body, "parallel_tool_calls", true);
    read_sampling(body, in.sampling);
    for (const char* key : {"max_completion_tokens", "max_tokens"})
        if (const Json* m = field(body, key)) {
            in.max_output_tokens = static_cast<int>(integer_in(*m, key, 1, 1 << 20));
            break;
        }
    if (const Json* n = field(body, "n");
        n && !(n->is_number_integer() && n->get<long long>() == 1))
        throw ApiError(400, "n: only n = 1 is supported", "n");
    if (const auto e = opt_text(body, "reasoning_effort", ""))
        in.effort = effort_from(*e, "reasoning_effort");
    each_tool(body, "function", [&](const Json& t, const std::string& p, const std::string& type) {
        if (type != "function")
            throw ApiError(400, p + ".type: only function tools are supported here", p + ".type",
                           "unsupported_tool");
        in.tools.push_back(read_function(t, p, "functions"));
    });
    read_tool_choice(body, in);
    if (const Json* format = field(body, "response_format")) {
        if (!format->is_object()) throw bad_param("response_format", "expected an object");
        read_json_schema(*format, "response_format", in);
    }
    const Json* messages = field(body, "messages");
    if (!messages || !messages->is_array() || messages->empty())
        throw bad_param("messages", "a non-empty list of messages is required");
    for (std::size_t i = 0; i < messages->size(); ++i) {
        const auto& m = (*messages)[i];
        const std::string p = "messages[" + std::to_string(i) + "]";
        if (!m.is_object()) throw bad_param(p, "expected a message object");
        const auto role = opt_text(m, "role", p);
        if (!role) throw bad_param(p + ".role", "a message needs a role");
        const Json* content = field(m, "content");
        const std::string text = content ? content_text(*content, p + ".content") : "";
        if (*role == "system" || *role == "developer") {
            append_instructions(in, text);
        } else if (*role == "user") {
            in.messages.push_back(Message::text(Role::user, text));
        } else if (*role == "assistant") {
            for (const char* key : {"reasoning_content", "reasoning"})
                if (const auto r = opt_text(m, key, p); r && !r->empty()) {
                    in.messages.push_back(assistant("analysis", *r));
                    break;
                }
            const Json* calls = field(m, "tool_calls");
            if (calls && !calls->is_array()) throw bad_param(p + ".tool_calls", "expected a list");
            if (!text.empty() || !calls || calls->empty())
                in.messages.push_back(
                    assistant(calls && !calls->empty() ? "commentary" : "final", text));
            if (calls)
                for (std::size_t k = 0; k < calls->size(); ++k) {
                    const auto& c = (*calls)[k];
                    const std::string cp = p + ".tool_calls[" + std::to_string(k) + "]";
                    if (!c.is_object() || !field(c, "function"))
                        throw bad_param(cp, "expected {id, type, function}");
                    const auto id = opt_text(c, "id", cp).value_or("");
                    const auto name = opt_text(c["function"], "name", cp + ".function");
                    if (!name) throw bad_param(cp + ".function.name", "required");
                    in.call_names.emplace_back(id, "functions." + *name);
                    in.messages.push_back(function_call_message(
                        "functions." + *name,
                        opt_text(c["function"], "arguments", cp + ".function").value_or("{}")));
                }
        } else if (*role == "tool") {
            const auto id = opt_text(m, "tool_call_id", p);
            if (!id) throw bad_param(p + ".tool_call_id", "a tool message needs tool_call_id");
            in.messages.push_back(harmony::tool_result(name_of_call(in, *id, p + ".tool_call_id"),
                                                       text, "commentary"));
        } else {
            throw bad_param(p + ".role", "must be system, developer, user, assistant or tool");
        }
    }
    return in;
}

GenerateRequest parse_generate_request(const Json& body, int vocab_size) {
    GenerateRequest r;
    r.model = opt_text(body, "model", "").value_or("");
    r.stream = opt_bool(body, "stream", false);
    r.request_id = opt_text(body, "request_id", "");
    for (const char* key : {"cache_salt", "conversation"})
        if (const auto k = opt_text(body, key, "")) r.cache_key = *k;
    const Json* ids = field(body, "token_ids");
    if (!ids || !ids->is_array() || ids->empty())
        throw bad_param("token_ids", "a non-empty list of token ids is required");
    r.token_ids.reserve(ids->size());
    for (std::size_t i = 0; i < ids->size(); ++i)
        r.token_ids.push_back(static_cast<std::int32_t>(
            integer_in((*ids)[i], "token_ids[" + std::to_string(i) + "]", 0, vocab_size - 1)));
    const Json* sp = field(body, "sampling_params");
    const Json& s = sp ? *sp : body;
    if (sp && !sp->is_object()) throw bad_param("sampling_params", "expected an object");
    read_sampling(s, r.sampling);
    if (const Json* k = field(s, "top_k")) {
        const auto top_k = integer_in(*k, "sampling_params.top_k", -1, vocab_size);
        r.sampling.top_k = top_k < 0 ? 0 : static_cast<int>(top_k);
    }
    if (const Json* m = field(s, "max_tokens"))
        r.max_tokens = static_cast<int>(integer_in(*m, "sampling_params.max_tokens", 1, 1 << 20));
    if (const Json* stops = field(s, "stop_token_ids")) {
        if (!stops->is_array())
            throw bad_param("sampling_params.stop_token_ids", "expected a list");
        for (std::size_t i = 0; i < stops->size(); ++i)
            r.stop_token_ids.push_back(static_cast<std::int32_t>(
                integer_in((*stops)[i], "sampling_params.stop_token_ids[" + std::to_string(i) + "]",
                           0, vocab_size - 1)));
    }
    if (const Json* lp = field(s, "logprobs")) {
        r.logprobs = static_cast<int>(integer_in(*lp, "sampling_params.logprobs", 0, 20));
        r.sampling.top_logprobs = r.logprobs;
    }
    return r;
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(std::string_view in) {
    std::string out;
    for (std::size_t i = 0; i < in.size(); i += 3) {
        std::uint32_t v = static_cast<std::uint8_t>(in[i]) << 16;
        if (i + 1 < in.size()) v |= static_cast<std::uint8_t>(in[i + 1]) << 8;
        if (i + 2 < in.size()) v |= static_cast<std::uint8_t>(in[i + 2]);
        out += kB64[(v >> 18) & 63];
        out += kB64[(v >> 12) & 63];
        out += i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=';
        out += i + 2 < in.size() ? kB64[v & 63] : '=';
    }
    return out;
}

std::optional<std::string> unbase64(std::string_view in) {
    std::string out;
    std::uint32_t v = 0;
    int bits = 0;
    for (char c : in) {
        if (c == '=') break;
        const char* p = std::char_traits<char>::find(kB64, 64, c);
        if (!p) return std::nullopt;
        v = (v << 6) | static_cast<std::uint32_t>(p - kB64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((v >> bits) & 0xff);
        }
    }
    return out;
}
constexpr std::string_view kReasoningPrefix = "gossamer-r1:";
}  // namespace

std::string encode_reasoning(const std::string& text, const std::vector<std::int32_t>& tokens) {
    const Json j{{"text", text}, {"tokens", tokens}};
    return std::string(kReasoningPrefix) +
           base64(j.dump(-1, ' ', false, Json::error_handler_t::replace));
}

std::optional<DecodedReasoning> decode_reasoning(std::string_view encrypted) {
    if (encrypted.substr(0, kReasoningPrefix.size()) != kReasoningPrefix) return std::nullopt;
    const auto raw = unbase64(encrypted.substr(kReasoningPrefix.size()));
    if (!raw) return std::nullopt;
    const Json j = Json::parse(*raw, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("text") || !j["text"].is_string())
        return std::nullopt;
    DecodedReasoning out;
    out.text = j["text"].get<std::string>();
    if (j.contains("tokens") && j["tokens"].is_array())
        for (const auto& t : j["tokens"])
            if (t.is_number_integer()) out.tokens.push_back(t.get<std::int32_t>());
    return out;
}

}  // namespace gossamer::server
