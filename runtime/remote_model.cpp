#include "runtime/remote_model.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>
#include <optional>

#include "harmony/tokenizer.h"
#include "runtime/setup_error.h"

namespace gossamer::runtime {

using Json = nlohmann::json;

struct RemoteModel::Endpoint {
    std::string url;  // no trailing '/'
    WireShape shape = WireShape::generate;
    bool up = true;
    bool checking = false;
    Clock::time_point busy_until{};  // a 429 asked us to wait
    int in_flight = 0;
    int conversations = 0;  // conversations whose KV prefix lives here
    long generations = 0;
    long failures = 0;
    long tokens = 0;
};

struct RemoteModel::Pending {
    Pending(boost::asio::io_context& io, Conversation c, ModelRequest r, OnToken f)
        : conversation(c), request(std::move(r)), on_token(std::move(f)), retry(io) {}
    Conversation conversation;
    ModelRequest request;
    OnToken on_token;
    std::vector<std::int32_t> got;  // tokens received so far (over every try)
    std::vector<std::string> errors;
    int attempts = 0;   // requests that failed
    int waits = 0;      // rounds with no endpoint up (they count toward max_attempts too)
    int endpoint = -1;  // the one running it (-1: none)
    unsigned call_id = 0;
    std::shared_ptr<HttpStream> call;
    std::optional<WireDecoder> decoder;
    Clock::time_point begun = Clock::now();
    Clock::time_point first_token{};
    int cached = -1;
    bool done = false;
    boost::asio::steady_timer retry;
};

namespace {

// The probe the start-up check tokenizes on both sides: special tokens, text in several
// scripts, digits and whitespace runs.
constexpr std::string_view kProbe =
    "<|start|>assistant<|channel|>final<|message|>gossamer tokenizer probe: héllo wörld, "
    "日本語, 12345 6789\n\t  spaces<|return|>";

std::string trimmed_url(std::string url) {
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (auto problem = endpoint_url_problem(url); !problem.empty())
        throw SetupError("endpoint '" + url + "': " + problem);
    return url;
}

std::string short_body(const std::string& body) {
    Json j = Json::parse(body, nullptr, false);
    if (!j.is_discarded() && j.is_object()) {
        if (auto e = j.find("error"); e != j.end()) {
            if (e->is_object() && e->contains("message") && (*e)["message"].is_string())
                return (*e)["message"];
            if (e->is_string()) return *e;
        }
        if (auto m = j.find("message"); m != j.end() && m->is_string()) return *m;
    }
    return body.substr(0, 200);
}

std::string joined(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
    return out;
}

}  // namespace

std::vector<std::string> RemoteModel::headers() const {
    std::vector<std::string> h{"Accept: text/event-stream, application/json"};
    if (!options_.api_key.empty()) h.push_back("Authorization: Bearer " + options_.api_key);
    return h;
}

HttpStreamRequest RemoteModel::check_request(std::string method, std::string url,
                                             double total_timeout) const {
    HttpStreamRequest r;
    r.method = std::move(method);
    r.url = std::move(url);
    r.headers = headers();
    r.connect_timeout = options_.connect_timeout;
    r.total_timeout = total_timeout;
    return r;
}

RemoteModel::RemoteModel(boost::asio::io_context& io, RemoteOptions options)
    : io_(io), options_(std::move(options)), health_timer_(io) {
    if (options_.endpoints.empty()) throw SetupError("no endpoint given");
    for (auto& url : options_.endpoints) {
        auto e = std::make_unique<Endpoint>();
        e->url = trimmed_url(url);
        e->shape = first_shape(options_.api);
        endpoints_.push_back(std::move(e));
    }
    check_endpoints();
}

template <class F>
void RemoteModel::later(F f) {
    boost::asio::post(io_, [alive = std::weak_ptr<int>(life_), f = std::move(f)]() mutable {
        if (!alive.expired()) f();
    });
}

RemoteModel::~RemoteModel() {
    life_.reset();
    for (auto& [c, p] : active_) {
        p->done = true;
        if (p->call) p->call->cancel();
    }
}

void RemoteModel::check_endpoints() {
    const auto& tokenizer = harmony::Tokenizer::o200k_harmony();
    const auto expected = tokenizer.encode(kProbe, harmony::AllowedSpecial::all_tokens());
    std::vector<std::string> down;
    int smallest_context = 0;
    std::string model = options_.model_name;
    for (auto& e : endpoints_) {
        const auto listing = HttpStream::fetch(check_request("GET", e->url + "/v1/models", 15));
        if (listing.end.status == 0) {
            e->up = false;
            down.push_back(e->url + ": " + listing.end.error);
            continue;
        }
        if (listing.end.status == 401 || listing.end.status == 403)
            throw SetupError(e->url + ": the API key was refused (HTTP " +
                             std::to_string(listing.end.status) +
                             "); set model.api_key_env to the variable that holds it");
        if (listing.end.status != 200)
            throw SetupError(e->url + "/v1/models: HTTP " + std::to_string(listing.end.status) +
                             " " + short_body(listing.end.error_body) + " (is it a " +
                             std::string(to_string(options_.api)) + " server?)");
        Json j = Json::parse(listing.body, nullptr, false);
        if (j.is_discarded() || !j.is_object() || !j.contains("data") || !j["data"].is_array() ||
            j["data"].empty())
            throw SetupError(e->url + "/v1/models: not a model list");
        const Json* entry = nullptr;
        for (const auto& m : j["data"])
            if (m.is_object() && m.contains("id") && m["id"].is_string() &&
                (model.empty() || m["id"] == model))
                entry = &m;
        if (!entry)
            throw SetupError(e->url + " does not serve the model '" + model + "' (it lists " +
                             j["data"].dump() + ")");
        if (model.empty()) model = (*entry)["id"];
        if (auto len = entry->find("max_model_len");
            len != entry->end() && len->is_number_integer())
            smallest_context = smallest_context == 0 ? len->get<int>()
                                                     : std::min(smallest_context, len->get<int>());
        // The tokenizer: the same ids for the probe, where the endpoint can say (vLLM and
        // gossamer serve have POST /tokenize).
        auto tok = check_request("POST", e->url + "/tokenize", 15);
        tok.body = Json{{"model", model}, {"prompt", kProbe}, {"add_special_tokens", false}}.dump();
        const auto ids = HttpStream::fetch(tok);
        Json t = Json::parse(ids.body, nullptr, false);
        if (ids.end.status == 200 && t.is_object() && t.contains("tokens") &&
            t["tokens"].is_array()) {
            std::vector<std::int64_t> got;
            for (const auto& v : t["tokens"])
                got.push_back(v.is_number_integer() ? v.get<std::int64_t>() : -1);
            if (got != std::vector<std::int64_t>(expected.begin(), expected.end()))
                throw SetupError(e->url + ": its tokenizer is not o200k_harmony (a probe of " +
                                 std::to_string(expected.size()) + " tokens came back as " +
                                 t["tokens"].dump().substr(0, 200) +
                                 "); gossamer sends token ids, so they must mean the same");
        } else {
            warnings_.push_back(
                e->url + ": cannot check its tokenizer (POST /tokenize: " +
                (ids.end.status ? "HTTP " + std::to_string(ids.end.status) : ids.end.error) +
                "); it must be o200k_harmony");
        }
    }
    if (down.size() == endpoints_.size()) throw SetupError("no endpoint answered: " + joined(down));
    for (const auto& d : down) warnings_.push_back(d + " (down; it joins when it answers)");
    options_.model_name = model;
    if (options_.context_tokens > 0) {
        if (smallest_context > 0 && options_.context_tokens > smallest_context)
            throw SetupError("context_tokens " + std::to_string(options_.context_tokens) +
                             " is more than an endpoint serves (" +
                             std::to_string(smallest_context) + " tokens)");
        context_window_ = options_.context_tokens;
    } else if (smallest_context > 0) {
        context_window_ = smallest_context;
    }
    if (!down.empty()) schedule_health();
}

ModelClient::Conversation RemoteModel::open() {
    const Conversation c = next_++;
    affinity_[c] = -1;
    return c;
}

void RemoteModel::close(Conversation c) {
    cancel(c);
    if (auto it = affinity_.find(c); it != affinity_.end()) {
        if (it->second >= 0) --endpoints_[static_cast<std::size_t>(it->second)]->conversations;
        affinity_.erase(it);
    }
}

void RemoteModel::generate(Conversation c, ModelRequest request, OnToken on_token) {
    auto p = std::make_shared<Pending>(io_, c, std::move(request), std::move(on_token));
    const char* refused = active_.count(c) ? "a generation is already running on this conversation"
                          : p->request.constraint
                              ? "structured-output constraints need the local engine; remote "
                                "engines sample unconstrained"
                              : nullptr;
    if (refused) {
        boost::asio::post(io_, [p, refused] {
            TokenEvent e;
            e.done = true;
            e.reason = FinishReason::Error;
            e.error = refused;
            p->on_token(e);
        });
        return;
    }
    active_[c] = p;
    dispatch(p);
}

void RemoteModel::cancel(Conversation c) {
    auto it = active_.find(c);
    if (it == active_.end()) return;
    auto p = it->second;
    std::erase(waiting_, p);
    // As the engine does: the Cancelled event comes later, on the loop.
    finish(p, FinishReason::Cancelled);
}

int RemoteModel::pick(const Pending& p) const {
    const auto now = Clock::now();
    auto usable = [&](int i) {
        const auto& e = *endpoints_[static_cast<std::size_t>(i)];
        return e.up && e.in_flight < options_.max_in_flight && e.busy_until <= now;
    };
    if (auto a = affinity_.find(p.conversation);
        a != affinity_.end() && a->second >= 0 && usable(a->second))
        return a->second;
    int best = -1;
    for (int i = 0; i < static_cast<int>(endpoints_.size()); ++i) {
        if (!usable(i)) continue;
        const auto& e = *endpoints_[static_cast<std::size_t>(i)];
        const auto& b = best < 0 ? e : *endpoints_[static_cast<std::size_t>(best)];
        if (best < 0 || e.in_flight < b.in_flight ||
            (e.in_flight == b.in_flight && e.conversations < b.conversations))
            best = i;
    }
    return best;
}

void RemoteModel::dispatch(const std::shared_ptr<Pending>& p) {
    if (p->done) return;
    const int i = pick(*p);
    if (i >= 0) return attempt(p, static_cast<std::size_t>(i));
    const bool any_up =
        std::any_of(endpoints_.begin(), endpoints_.end(), [](const auto& e) { return e->up; });
    const bool any_free = std::any_of(endpoints_.begin(), endpoints_.end(), [&](const auto& e) {
        return e->up && e->in_flight < options_.max_in_flight;
    });
    if (any_up && !any_free) {
        waiting_.push_back(p);  // every endpoint is at its limit: the next to end starts it
        return;
    }
    if (any_up) {
        // The free ones are busy (429): wait for the first to take work again.
        auto soonest = Clock::time_point::max();
        for (const auto& e : endpoints_)
            if (e->up && e->in_flight < options_.max_in_flight)
                soonest = std::min(soonest, e->busy_until);
        p->retry.expires_at(soonest);
    } else {
        if (p->errors.empty() || p->errors.back().find("no endpoint is up") == std::string::npos)
            p->errors.push_back("no endpoint is up");
        if (p->attempts + ++p->waits >= options_.max_attempts) return give_up(p);
        const int round = std::min(p->attempts + p->waits, 20);
        const double base = std::min(options_.backoff_max, options_.backoff_initial * (1 << round));
        std::uniform_real_distribution<double> half(0.5, 1.0);
        p->retry.expires_after(std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(base * half(jitter_))));
    }
    std::weak_ptr<Pending> weak = p;
    p->retry.async_wait(
        [this, weak, alive = std::weak_ptr<int>(life_)](const boost::system::error_code& ec) {
            if (alive.expired()) return;
            if (auto q = weak.lock(); q && !ec) dispatch(q);
        });
}

void RemoteModel::attempt(const std::shared_ptr<Pending>& p, std::size_t i) {
    Endpoint& e = *endpoints_[i];
    p->endpoint = static_cast<int>(i);
    ++e.in_flight;
    auto& a = affinity_[p->conversation];
    if (a != static_cast<int>(i)) {
        if (a >= 0) --endpoints_[static_cast<std::size_t>(a)]->conversations;
        a = static_cast<int>(i);
        ++e.conversations;
    }
    // A retry continues from the tokens already received: they are part of the prompt now.
    ModelRequest r;
    r.prompt = p->request.prompt;
    r.prompt.insert(r.prompt.end(), p->got.begin(), p->got.end());
    r.max_tokens = p->request.max_tokens - static_cast<int>(p->got.size());
    r.sampling = p->request.sampling;
    r.stop = p->request.stop;
    HttpStreamRequest http;
    http.url = e.url + std::string(path_of(e.shape));
    http.headers = headers();
    http.body = encode_request(e.shape, r, options_.model_name, options_.stream);
    http.connect_timeout = options_.connect_timeout;
    http.first_byte_timeout = options_.first_token_timeout;
    http.idle_timeout = options_.token_timeout;
    http.total_timeout = options_.generation_timeout;
    p->decoder.emplace(e.shape, options_.stream);
    const unsigned id = ++p->call_id;
    std::weak_ptr<Pending> weak = p;
    auto current = [weak, id]() -> std::shared_ptr<Pending> {
        auto q = weak.lock();
        return q && q->call_id == id && !q->done ? q : nullptr;
    };
    p->call = HttpStream::start(
        streams_, io_.get_executor(), std::move(http), {},
        [this, current, id, alive = std::weak_ptr<int>(life_)](std::string piece) {
            if (alive.expired()) return;
            if (auto q = current()) on_piece(q, id, std::move(piece));
        },
        [this, weak, id, i, alive = std::weak_ptr<int>(life_)](const HttpStreamEnd& end) {
            if (alive.expired()) return;
            auto q = weak.lock();
            if (!q || q->call_id != id) return;
            --endpoints_[i]->in_flight;
            q->endpoint = -1;
            q->call.reset();
            if (!q->done) on_end(q, end);
            pump();
        });
}

bool RemoteModel::drop_call(Pending& p) {
    if (!p.call) return false;
    p.call->cancel();
    ++p.call_id;  // whatever that call still says is stale
    if (p.endpoint >= 0) --endpoints_[static_cast<std::size_t>(p.endpoint)]->in_flight;
    p.endpoint = -1;
    p.call.reset();
    return true;
}

void RemoteModel::on_piece(const std::shared_ptr<Pending>& p, unsigned call, std::string piece) {
    std::vector<WireChunk> chunks;
    try {
        chunks = p->decoder->feed(piece);
    } catch (const WireError& e) {
        return failed(p, std::string("malformed answer: ") + e.what(), true, true, std::nullopt);
    }
    for (const auto& c : chunks) {
        if (p->done || p->call_id != call) return;
        deliver(p, c);
    }
}

void RemoteModel::on_end(const std::shared_ptr<Pending>& p, const HttpStreamEnd& end) {
    if (end.cancelled) return;  // ours: a failure already handled, or the generation ended
    if (end.status == 0) return failed(p, end.error, true, true, std::nullopt);
    if (end.status == 429)
        return failed(p, "HTTP 429 " + short_body(end.error_body), false, true,
                      end.retry_after.value_or(0));
    if (end.status == 408 || end.status >= 500)
        return failed(p, "HTTP " + std::to_string(end.status) + " " + short_body(end.error_body),
                      true, true, std::nullopt);
    if (end.status < 200 || end.status >= 300)
        return failed(p, "HTTP " + std::to_string(end.status) + " " + short_body(end.error_body),
                      false, false, std::nullopt);
    if (!end.error.empty()) return failed(p, end.error, true, true, std::nullopt);
    try {
        for (const auto& c : p->decoder->end()) {
            if (p->done) return;
            deliver(p, c);
        }
    } catch (const WireError& w) {
        return failed(p, std::string("malformed answer: ") + w.what(), true, true, std::nullopt);
    }
}

void RemoteModel::failed(const std::shared_ptr<Pending>& p, std::string why, bool down,
                         bool retryable, std::optional<double> retry_after) {
    if (p->done) return;
    // The endpoint that failed: the one running it, or (after on_end cleared it) the last.
    const int i = affinity_.count(p->conversation) ? affinity_[p->conversation] : -1;
    Endpoint* e = i >= 0 ? endpoints_[static_cast<std::size_t>(i)].get() : nullptr;
    if (drop_call(*p)) later([this] { pump(); });
    p->errors.push_back((e ? e->url + ": " : std::string()) + why);
    if (e) {
        ++e->failures;
        if (down) mark_down(static_cast<std::size_t>(i));
        if (retry_after) {
            const double wait = *retry_after > 0 ? *retry_after : options_.backoff_initial;
            e->busy_until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                               std::chrono::duration<double>(wait));
        }
        // vLLM without the token endpoint (404 on /inference/v1/generate): /v1/completions.
        if (!retryable && options_.api == EngineApi::vllm && e->shape == WireShape::generate &&
            why.rfind("HTTP 404", 0) == 0) {
            e->shape = WireShape::completions;
            p->errors.pop_back();
            return dispatch(p);
        }
    }
    if (!retryable) return finish(p, FinishReason::Error, joined(p->errors));
    if (++p->attempts + p->waits >= options_.max_attempts) return give_up(p);
    dispatch(p);  // another endpoint now if one is free, else backoff (or the queue)
}

void RemoteModel::give_up(const std::shared_ptr<Pending>& p) {
    finish(p, FinishReason::Error,
           "every endpoint failed (" + std::to_string(p->attempts + p->waits) +
               " tries): " + joined(p->errors));
}

void RemoteModel::deliver(const std::shared_ptr<Pending>& p, const WireChunk& chunk) {
    if (chunk.cached_tokens >= 0 && p->cached < 0) p->cached = chunk.cached_tokens;
    const auto& stop = p->request.stop;
    auto is_stop = [&](std::int32_t t) {
        return std::find(stop.begin(), stop.end(), t) != stop.end();
    };
    for (const std::int32_t t : chunk.tokens) {
        if (p->got.empty()) p->first_token = Clock::now();
        p->got.push_back(t);
        if (p->endpoint >= 0) ++endpoints_[static_cast<std::size_t>(p->endpoint)]->tokens;
        TokenEvent e;
        e.has_token = true;
        e.sample.token = t;
        const int generated = static_cast<int>(p->got.size());
        const int positions = static_cast<int>(p->request.prompt.size()) + generated;
        // The same ends, in the same order, as the local scheduler.
        if (is_stop(t)) return finish(p, FinishReason::Stop, {}, &e);
        if (generated >= p->request.max_tokens) return finish(p, FinishReason::Length, {}, &e);
        if (positions + 1 >= context_window_) return finish(p, FinishReason::Context, {}, &e);
        p->on_token(e);
        if (p->done) return;
    }
    if (!chunk.finish) return;
    switch (*chunk.finish) {
        case FinishReason::Stop:
            if (chunk.matched_stop && is_stop(*chunk.matched_stop)) {
                // An engine that trimmed the stop token from its ids: it is part of the text.
                TokenEvent e;
                e.has_token = true;
                e.sample.token = *chunk.matched_stop;
                if (p->got.empty()) p->first_token = Clock::now();
                p->got.push_back(e.sample.token);
                return finish(p, FinishReason::Stop, {}, &e);
            }
            return finish(p, FinishReason::Stop);
        case FinishReason::Error:
            return failed(p, chunk.error, false, true, std::nullopt);
        default:
            return finish(p, *chunk.finish);
    }
}

void RemoteModel::finish(const std::shared_ptr<Pending>& p, FinishReason reason, std::string error,
                         const TokenEvent* last) {
    if (p->done) return;
    p->done = true;
    p->retry.cancel();
    std::erase(waiting_, p);
    const int served = p->endpoint >= 0                   ? p->endpoint
                       : affinity_.count(p->conversation) ? affinity_[p->conversation]
                                                          : -1;
    drop_call(*p);
    if (auto it = active_.find(p->conversation); it != active_.end() && it->second == p)
        active_.erase(it);
    TokenEvent e = last ? *last : TokenEvent{};
    e.done = true;
    e.reason = reason;
    e.error = std::move(error);
    const auto now = Clock::now();
    auto seconds = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
    e.stats.prompt_tokens = static_cast<int>(p->request.prompt.size());
    e.stats.reused_tokens = std::max(0, p->cached);
    e.stats.generated_tokens = static_cast<int>(p->got.size());
    e.stats.prefill_seconds = seconds((p->got.empty() ? now : p->first_token) - p->begun);
    e.stats.decode_seconds = p->got.empty() ? 0 : seconds(now - p->first_token);
    if (served >= 0) {
        e.stats.served_by = endpoints_[static_cast<std::size_t>(served)]->url;
        if (reason == FinishReason::Stop || reason == FinishReason::Length ||
            reason == FinishReason::Context)
            ++endpoints_[static_cast<std::size_t>(served)]->generations;
    }
    e.stats.retries = p->attempts;
    if (reason == FinishReason::Cancelled) {
        later([p, e] { p->on_token(e); });
    } else {
        p->on_token(e);
    }
    later([this] { pump(); });
}

void RemoteModel::pump() {
    while (!waiting_.empty()) {
        auto p = waiting_.front();
        if (p->done) {
            waiting_.pop_front();
            continue;
        }
        const int i = pick(*p);
        if (i < 0) return;
        waiting_.pop_front();
        attempt(p, static_cast<std::size_t>(i));
    }
}

void RemoteModel::mark_down(std::size_t i) {
    endpoints_[i]->up = false;
    schedule_health();
}

void RemoteModel::schedule_health() {
    if (health_scheduled_) return;
    health_scheduled_ = true;
    health_timer_.expires_after(std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(options_.health_interval)));
    health_timer_.async_wait(
        [this, alive = std::weak_ptr<int>(life_)](const boost::system::error_code& ec) {
            if (ec || alive.expired()) return;
            health_scheduled_ = false;
            bool any_down = false;
            for (std::size_t i = 0; i < endpoints_.size(); ++i) {
                Endpoint& e = *endpoints_[i];
                if (e.up) continue;
                any_down = true;
                if (e.checking) continue;
                e.checking = true;
                auto h = check_request("GET", e.url + "/health", 5);
                h.connect_timeout = std::min(2.0, options_.connect_timeout);
                HttpStream::start(
                    streams_, io_.get_executor(), std::move(h), {}, {},
                    [this, i, alive = std::weak_ptr<int>(life_)](const HttpStreamEnd& end) {
                        if (alive.expired()) return;
                        Endpoint& ep = *endpoints_[i];
                        ep.checking = false;
                        if (end.status == 200 && end.error.empty()) {
                            ep.up = true;
                            ep.busy_until = {};
                            pump();
                        }
                    });
            }
            if (any_down) schedule_health();
        });
}

std::vector<EndpointStats> RemoteModel::stats() const {
    std::vector<EndpointStats> out;
    for (const auto& e : endpoints_)
        out.push_back({e->url, e->up, e->in_flight, e->generations, e->failures, e->tokens});
    return out;
}

}  // namespace gossamer::runtime
