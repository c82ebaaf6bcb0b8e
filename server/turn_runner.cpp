#include "server/turn_runner.h"

#include <boost/asio/post.hpp>

#include "harmony/special_tokens.h"
#include "runtime/json_constraint.h"
#include "server/random_id.h"

namespace gossamer::server {

namespace {

using harmony::Message;
using harmony::Role;
namespace tok = harmony::tok;

// The tokens that open `header`'s message up to its content (its render without the end
// token): a prompt that ends with them makes the model write only the content.
std::vector<std::int32_t> opening_of(const harmony::Renderer& renderer, const Message& header) {
    auto tokens = renderer.render_message(header);
    tokens.pop_back();  // <|end|> or <|call|>
    return {tokens.begin(), tokens.end()};
}

}  // namespace

std::vector<Message> TurnRunner::head_messages(const TurnInput& input,
                                               const runtime::ToolRegistry* builtin,
                                               const std::string& date) {
    std::vector<Message> head;
    harmony::SystemContent system;
    system.reasoning_effort = input.effort;
    if (!date.empty()) system.conversation_start_date = date;
    if (builtin && (input.code_interpreter || input.web_search))
        if (auto namespaces = builtin->system_tools())
            for (auto& [name, ns] : *namespaces)
                if ((name == "python" && input.code_interpreter) ||
                    (name == "browser" && input.web_search))
                    harmony::add_tool_namespace(system.tools, ns);
    Message sys;
    sys.role = Role::system;
    sys.content.push_back(std::move(system));
    head.push_back(std::move(sys));

    harmony::DeveloperContent developer;
    developer.instructions = input.instructions;
    if (input.output_schema) {
        std::string format = "# Response Formats\n\n## " + input.output_schema_name + "\n\n" +
                             input.output_schema->dump();
        developer.instructions =
            developer.instructions ? *developer.instructions + "\n\n" + format : format;
    }
    if (input.tool_choice != ToolChoice::none)
        for (const auto& tool : input.tools) {
            if (!developer.tools) developer.tools.emplace();
            auto& ns = (*developer.tools)[tool.ns];
            ns.name = tool.ns;
            ns.tools.push_back({tool.name, tool.description, tool.parameters});
        }
    if (developer.instructions || developer.tools) {
        Message dev;
        dev.role = Role::developer;
        dev.content.push_back(std::move(developer));
        head.push_back(std::move(dev));
    }
    return head;
}

TurnRunner::TurnRunner(TurnContext context, TurnInput input, std::vector<Segment> history,
                       TurnObserver& observer)
    : ctx_(std::move(context)),
      input_(std::move(input)),
      observer_(observer),
      conversation_(std::move(history)) {
    head_ = head_messages(input_, ctx_.builtin_tools, ctx_.date);
    auto head = ctx_.renderer.render_conversation(head_);
    head_tokens_.assign(head.begin(), head.end());
    const int vocab = ctx_.model.vocab_size();
    for (std::size_t i = 0; i < input_.messages.size(); ++i) {
        Segment s{input_.messages[i], {}};
        for (const auto& [index, tokens] : input_.verbatim)
            if (index == i) {
                bool valid = !tokens.empty();
                for (auto t : tokens) valid = valid && t >= 0 && t < vocab;
                if (valid) s.tokens = tokens;
            }
        if (s.tokens.empty()) {
            auto rendered = ctx_.renderer.render_message(s.message);
            s.tokens.assign(rendered.begin(), rendered.end());
        }
        conversation_.push_back(std::move(s));
    }
    const auto plain = ctx_.renderer.render_conversation_for_completion({}, Role::assistant);
    plain_opener_.assign(plain.begin(), plain.end());
    opener_ = plain_opener_;
    if (input_.tool_choice == ToolChoice::named ||
        (input_.tool_choice == ToolChoice::required && input_.tools.size() == 1)) {
        // The header of the call is part of the prompt: the model writes only the arguments.
        Message call = Message::text(Role::assistant, "");
        call.channel = "commentary";
        call.recipient = input_.tool_choice == ToolChoice::named
                             ? input_.tool_choice_name
                             : recipient_of(input_.tools.front());
        call.content_type = "<|constrain|>json";
        opener_ = opening_of(ctx_.renderer, call);
    }
}

TurnRunner::~TurnRunner() {
    if (conv_) ctx_.pool.drop(*conv_);
}

std::shared_ptr<engine::TokenConstraint> TurnRunner::constraint() {
    if (!input_.output_schema && input_.tools.empty()) return nullptr;
    runtime::JsonTargets targets;
    targets.final_answer = input_.output_schema;
    for (const auto& t : input_.tools)
        if (t.strict) targets.functions[recipient_of(t)] = t.parameters.value_or(Json::object());
    auto c =
        std::make_shared<runtime::JsonConstraint>(ctx_.renderer.tokenizer(), std::move(targets));
    // The prompt's opening of the message (a forced call's or answer's header) is part of
    // what the constraint reads.
    for (auto t : opener_) c->accept(t);
    return c;
}

std::vector<std::int32_t> TurnRunner::prompt() const {
    std::vector<Message> messages;
    for (const auto& s : conversation_) messages.push_back(s.message);
    const auto keep = harmony::messages_to_keep(messages, harmony::DropAnalysis::completed_turns);
    std::vector<std::int32_t> out = head_tokens_;
    for (std::size_t i = 0; i < conversation_.size(); ++i) {
        if (!keep[i]) continue;
        const auto& t = conversation_[i].tokens;
        out.insert(out.end(), t.begin(), t.end());
        // A finished turn's answer ends with <|end|> in the conversation (harmony).
        if (!t.empty() && t.back() == static_cast<std::int32_t>(tok::kReturn))
            out.back() = static_cast<std::int32_t>(tok::kEnd);
    }
    out.insert(out.end(), opener_.begin(), opener_.end());
    return out;
}

void TurnRunner::start() {
    begun_ = std::chrono::steady_clock::now();
    generate();
}

void TurnRunner::generate() {
    if (finished_) return;
    if (++rounds_ >= ctx_.max_rounds && rounds_ > 1) {
        // The last round: the prompt opens the final channel, so the model answers now
        // instead of calling server-side tools without end.
        Message answer = Message::text(Role::assistant, "");
        answer.channel = "final";
        opener_ = opening_of(ctx_.renderer, answer);
    }
    runtime::ModelRequest request;
    request.prompt = prompt();
    const int window = ctx_.model.context_window();
    const int room = window - static_cast<int>(request.prompt.size());
    const int limit =
        ctx_.max_prompt_tokens > 0 ? std::min(ctx_.max_prompt_tokens, window - 1) : window - 1;
    if (static_cast<int>(request.prompt.size()) > limit) {
        result_.error_status = 400;
        result_.error_code = "context_length_exceeded";
        return finish(
            TurnEnd::failed,
            "the conversation is " + std::to_string(request.prompt.size()) +
                " tokens; this server takes at most " + std::to_string(limit) +
                (limit == window - 1 ? " (the context window)" : " (--max-request-tokens)"));
    }
    const int budget = input_.max_output_tokens > 0
                           ? input_.max_output_tokens - result_.usage.output_tokens
                           : room;
    if (budget <= 0) return finish(TurnEnd::incomplete_length);
    request.max_tokens = std::min(budget, room);
    request.sampling = input_.sampling;
    request.stop = {static_cast<std::int32_t>(tok::kReturn), static_cast<std::int32_t>(tok::kCall),
                    static_cast<std::int32_t>(tok::kEndOfText)};
    request.constraint = constraint();
    if (!conv_) conv_ = ctx_.pool.take(request.prompt);
    parser_ = std::make_unique<harmony::StreamParser>(std::nullopt);
    generated_.assign(opener_.begin(), opener_.end());
    message_start_ = 0;
    parsed_ = 0;
    open_item_.reset();
    content_seen_ = false;
    for (auto t : opener_) parser_->process(static_cast<harmony::Token>(t));
    if (parser_->state() == harmony::StreamParser::State::content) {
        Message header = Message::text(Role::assistant, "");
        header.channel = parser_->current_channel();
        header.recipient = parser_->current_recipient();
        content_seen_ = true;
        begin_item(header);
    }
    held_ = request.prompt;
    held_.resize(held_.size() - opener_.size());
    input_tokens_this_round_ = static_cast<int>(request.prompt.size());
    generating_ = true;
    const auto serial = ++serial_;
    std::weak_ptr<TurnRunner> weak = weak_from_this();
    ctx_.model.generate(*conv_, std::move(request), [weak, serial](const runtime::TokenEvent& e) {
        auto self = weak.lock();
        if (!self || self->serial_ != serial) return;
        self->on_token(e);
    });
}

void TurnRunner::begin_item(const Message& header) {
    OutputItem item;
    item.channel = header.channel.value_or("");
    if (harmony::is_tool_call(header)) {
        const std::string& r = *header.recipient;
        const auto route = ctx_.builtin_tools ? ctx_.builtin_tools->route(r) : std::nullopt;
        const bool python = r == "python" || r.rfind("python.", 0) == 0;
        const bool browser = r.rfind("browser.", 0) == 0;
        if (route && ((python && input_.code_interpreter) || (browser && input_.web_search))) {
            item.kind = python ? ItemKind::code_interpreter_call : ItemKind::web_search_call;
            item.id = random_id(python ? "ci_" : "ws_", 24);
            item.name = r;
        } else {
            bool known = false;
            for (const auto& t : input_.tools)
                if (recipient_of(t) == r) known = true, item.ns = t.ns, item.name = t.name;
            if (!known) return;  // answered with an error when the call is complete
            item.kind = ItemKind::function_call;
            item.id = random_id("fc_", 24);
            item.call_id = random_id("call_", 24);
        }
    } else if (header.channel == "analysis") {
        item.kind = ItemKind::reasoning;
        item.id = random_id("rs_", 24);
    } else {
        item.kind = ItemKind::message;
        item.id = random_id("msg_", 24);
    }
    result_.items.push_back(std::move(item));
    open_item_ = result_.items.size() - 1;
    observer_.item_started(*open_item_, result_.items[*open_item_]);
}

void TurnRunner::on_token(const runtime::TokenEvent& e) {
    if (finished_) return;
    if (e.has_token) {
        if (result_.first_token_ms < 0)
            result_.first_token_ms =
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begun_)
                    .count();
        if (ctx_.inter_token_latency) token_gaps_.tick(*ctx_.inter_token_latency);
        generated_.push_back(e.sample.token);
        parser_->process(static_cast<harmony::Token>(e.sample.token));
        const auto& parsed = parser_->messages();
        for (; parsed_ < parsed.size(); ++parsed_) {
            const auto& p = parsed[parsed_];
            std::size_t end = generated_.size();
            if (p.stop && *p.stop == tok::kStart) --end;  // the next message's <|start|>
            std::vector<std::int32_t> tokens(generated_.begin() + message_start_,
                                             generated_.begin() + end);
            message_start_ = end;
            close_message(p, std::move(tokens));
        }
        if (parser_->state() == harmony::StreamParser::State::content && !open_item_ &&
            parsed_ == parsed.size() && !content_seen_) {
            Message header = Message::text(Role::assistant, "");
            header.channel = parser_->current_channel();
            header.recipient = parser_->current_recipient();
            content_seen_ = true;
            begin_item(header);
        }
        if (const auto& delta = parser_->last_content_delta();
            delta && !delta->empty() && open_item_) {
            auto& item = result_.items[*open_item_];
            item.text += *delta;
            observer_.item_delta(*open_item_, item, *delta);
        }
    }
    if (e.done) on_done(e);
}

void TurnRunner::close_message(const harmony::ParsedMessage& parsed,
                               std::vector<std::int32_t> tokens) {
    content_seen_ = false;
    const Message& m = parsed.message;
    if (!open_item_) begin_item(m);  // a message whose content never streamed
    const int token_count = static_cast<int>(tokens.size());
    conversation_.push_back({m, std::move(tokens)});
    if (!open_item_) {
        pending_calls_.push_back({std::nullopt, conversation_.size() - 1});  // unknown tool
        return;
    }
    const std::size_t index = *open_item_;
    open_item_.reset();
    auto& item = result_.items[index];
    item.text = m.text_content();
    if (item.kind == ItemKind::reasoning) {
        result_.usage.reasoning_tokens += token_count;
        item.tokens = conversation_.back().tokens;
    }
    if (item.kind == ItemKind::code_interpreter_call || item.kind == ItemKind::web_search_call) {
        pending_calls_.push_back({index, conversation_.size() - 1});
        return;  // done once the tool has answered
    }
    observer_.item_done(index, item);
}

void TurnRunner::on_done(const runtime::TokenEvent& e) {
    generating_ = false;
    if (e.reason == runtime::FinishReason::Cancelled) return finish(TurnEnd::cancelled);
    if (e.reason == runtime::FinishReason::Error) return finish(TurnEnd::failed, e.error);
    if (e.reason != runtime::FinishReason::Stop) {
        parser_->process_eos();
        const auto& parsed = parser_->messages();
        for (; parsed_ < parsed.size(); ++parsed_) {
            std::vector<std::int32_t> tokens(generated_.begin() + message_start_, generated_.end());
            message_start_ = generated_.size();
            close_message(parsed[parsed_], std::move(tokens));
        }
    }
    const int generated = static_cast<int>(generated_.size() - opener_.size());
    result_.usage.input_tokens += input_tokens_this_round_;
    result_.usage.cached_tokens += e.stats.reused_tokens;
    result_.usage.output_tokens += generated;
    held_.insert(held_.end(), generated_.begin(), generated_.end());
    opener_ = plain_opener_;  // a forced call header is for the first round

    bool client_call = false, answered = false;
    for (const auto& item : result_.items) {
        client_call = client_call || item.kind == ItemKind::function_call;
        answered = answered || item.kind == ItemKind::message;
    }
    if (client_call) return finish(TurnEnd::completed);
    if (rounds_ >= ctx_.max_rounds) {
        pending_calls_.clear();
        if (answered) return finish(TurnEnd::completed);
        return finish(TurnEnd::failed, "the model did not answer within " +
                                           std::to_string(ctx_.max_rounds) + " generations");
    }
    if (!pending_calls_.empty()) {
        const auto call = pending_calls_.front();
        pending_calls_.clear();
        return run_builtin(call.item, call.message);
    }
    if (answered) return finish(TurnEnd::completed);
    if (e.reason == runtime::FinishReason::Length || e.reason == runtime::FinishReason::Context)
        return finish(TurnEnd::incomplete_length);
    generate();  // only analysis so far: let the model go on
}

void TurnRunner::run_builtin(std::optional<std::size_t> item_index, std::size_t message_index) {
    const Message call_message = conversation_[message_index].message;
    const std::string recipient = *call_message.recipient;
    auto reply = [this, item_index, recipient,
                  channel = call_message.channel.value_or("commentary")](std::string text,
                                                                         bool ok) {
        if (item_index) {
            auto& item = result_.items[*item_index];
            item.result = text;
            item.ok = ok;
            observer_.item_done(*item_index, item);
        }
        Message result = harmony::tool_result(recipient, std::move(text), channel);
        auto rendered = ctx_.renderer.render_message(result);
        conversation_.push_back({std::move(result), {rendered.begin(), rendered.end()}});
        generate();
    };
    const auto route = ctx_.builtin_tools ? ctx_.builtin_tools->route(recipient) : std::nullopt;
    if (!item_index || !route) {
        std::string known;
        for (const auto& t : input_.tools) known += (known.empty() ? "" : ", ") + recipient_of(t);
        if (input_.code_interpreter) known += std::string(known.empty() ? "" : ", ") + "python";
        return reply("Error: there is no tool '" + recipient +
                         "'. Available: " + (known.empty() ? "none" : known) + ".",
                     false);
    }
    tools::ToolCall call;
    call.recipient = recipient;
    call.function = route->function;
    call.arguments = call_message.text_content();
    call.channel = call_message.channel.value_or("commentary");
    call.content_type = call_message.content_type;
    tools::ToolContext context{
        ctx_.executor, ctx_.session_id, ctx_.workspace,
        std::chrono::milliseconds(static_cast<long long>(ctx_.tool_timeout_seconds * 1000))};
    std::weak_ptr<TurnRunner> weak = weak_from_this();
    route->tool->invoke(call, context, [weak, reply](tools::ToolOutput out) mutable {
        auto self = weak.lock();
        if (!self || self->finished_) return;
        reply(std::move(out.text), !out.is_error);
    });
}

void TurnRunner::cancel() {
    if (finished_) return;
    if (generating_) return ctx_.model.cancel(*conv_);  // on_done finishes
    finish(TurnEnd::cancelled);
}

void TurnRunner::finish(TurnEnd end, std::string error) {
    if (finished_) return;
    finished_ = true;
    if (conv_) {
        if (end == TurnEnd::completed || end == TurnEnd::incomplete_length)
            ctx_.pool.give_back(*conv_, std::move(held_));
        else
            ctx_.pool.drop(*conv_);
        conv_.reset();
    }
    result_.end = end;
    result_.error = std::move(error);
    result_.conversation = conversation_;
    observer_.finished(result_);
}

}  // namespace gossamer::server
