#include "engine/scheduler.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "engine/model_error.h"

namespace gossamer::engine {

struct Scheduler::Sequence {
    SequenceId id = 0;
    std::shared_ptr<KvCache> cache;   // shared with a pending save (PendingSave)
    std::vector<TokenId> cached;      // the tokens whose keys and values the cache holds
    std::shared_ptr<KvFile> kv_file;  // persist(): where the cache is kept on disk
    bool restore_tried = false;       // the file is read once, at the first generation

    // Set by other threads under the lock; acted on by step().
    std::unique_ptr<GenerateRequest> queued;
    bool cancel = false;
    bool closing = false;

    // The running request; only step() touches these.
    bool running = false;
    GenerateRequest request;
    std::unique_ptr<Sampler> sampler;
    std::vector<TokenId>
        pending;          // tokens to feed: the prompt's uncached rest, then the last sample
    std::size_t fed = 0;  // how many of `pending` are in the cache
    // Speculation: the most to draft next, and how many steps drafting still pauses (after a
    // draft of which nothing was accepted).
    int draft_limit = 4;
    int pause = 0, pause_next = 1;
    // Whether it pays: tokens per second of this sequence's plain decode steps and of its
    // verify steps (moving averages of the steps' wall time); drafting stops while verifying
    // is the slower way (a verify feeds 1 + k tokens: on some models it costs nearly k + 1
    // decode steps).
    double plain_rate = 0, verify_rate = 0;
    GenerationStats stats;
    Clock::time_point submitted, first_token;
};

// A sequence's saved cache to read once the lock is released, and what was read.
struct Scheduler::Restore {
    Sequence* sequence = nullptr;
    std::shared_ptr<KvFile> file;
    KvFile::Restored restored;
};

// A cache to append to its file once the lock is released; its final event waits for it so
// the event can say what was written.
struct Scheduler::PendingSave {
    SequenceId id = 0;
    std::shared_ptr<KvFile> file;
    std::shared_ptr<KvCache> cache;
    std::vector<TokenId> tokens;
};

struct Scheduler::Item {
    Sequence* sequence = nullptr;
    std::size_t take = 0;
    LogitsWanted logits = LogitsWanted::None;
    std::size_t draft = 0;  // of take, drafted tokens after the last sample (logits All)
};

const char* to_string(FinishReason reason) {
    switch (reason) {
        case FinishReason::Stop:
            return "stop";
        case FinishReason::Length:
            return "length";
        case FinishReason::Context:
            return "context";
        case FinishReason::Cancelled:
            return "cancelled";
        case FinishReason::Error:
            return "error";
    }
    return "error";
}

namespace {

double seconds(std::chrono::steady_clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

}  // namespace

Scheduler::Scheduler(Backend& backend, const SchedulerOptions& options)
    : backend_(backend), options_(options) {
    const int model_max = backend.config().max_context();
    max_context_ = options.max_context > 0 ? std::min(options.max_context, model_max) : model_max;
    if (options_.max_batch_tokens < 1) options_.max_batch_tokens = 1;
    if (options_.max_active < 1) options_.max_active = 1;
}

Scheduler::~Scheduler() = default;

SequenceId Scheduler::open() {
    std::lock_guard lock(mutex_);
    auto s = std::make_unique<Sequence>();
    s->id = next_id_++;
    s->cache = backend_.new_cache(max_context_);
    const SequenceId id = s->id;
    sequences_.emplace(id, std::move(s));
    return id;
}

void Scheduler::close(SequenceId id) {
    std::lock_guard lock(mutex_);
    auto it = sequences_.find(id);
    if (it == sequences_.end()) return;
    it->second->closing = true;
    work_.notify_all();
}

void Scheduler::generate(SequenceId id, GenerateRequest request) {
    validate(request.sampling);
    std::lock_guard lock(mutex_);
    auto it = sequences_.find(id);
    if (it == sequences_.end() || it->second->closing)
        throw ModelError("generate: unknown sequence " + std::to_string(id));
    Sequence& s = *it->second;
    if (s.running || s.queued)
        throw ModelError("generate: sequence " + std::to_string(id) + " is already generating");
    s.queued = std::make_unique<GenerateRequest>(std::move(request));
    s.submitted = Clock::now();
    s.cancel = false;
    arrivals_.push_back(id);
    work_.notify_all();
}

void Scheduler::cancel(SequenceId id) {
    std::lock_guard lock(mutex_);
    auto it = sequences_.find(id);
    if (it == sequences_.end()) return;
    it->second->cancel = true;
    work_.notify_all();
}

bool Scheduler::busy() const {
    std::lock_guard lock(mutex_);
    return !arrivals_.empty();
}

bool Scheduler::wait_for_work(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    auto has_work = [&] {
        if (!arrivals_.empty()) return true;
        for (const auto& [id, s] : sequences_)
            if (s->closing) return true;
        return false;
    };
    work_.wait_for(lock, timeout, has_work);
    return !arrivals_.empty();
}

void Scheduler::persist(SequenceId id, std::shared_ptr<KvFile> file) {
    std::lock_guard lock(mutex_);
    auto it = sequences_.find(id);
    if (it == sequences_.end() || it->second->closing)
        throw ModelError("persist: unknown sequence " + std::to_string(id));
    it->second->kv_file = std::move(file);
}

int Scheduler::cached_tokens(SequenceId id) const {
    std::lock_guard lock(mutex_);
    auto it = sequences_.find(id);
    return it == sequences_.end() ? 0 : it->second->cache->size();
}

void Scheduler::finish(Sequence& s, FinishReason reason, std::string error,
                       std::vector<Delivery>& events, const Sample* last) {
    TokenEvent e;
    e.sequence = s.id;
    e.has_token = last != nullptr;
    if (last) e.sample = *last;
    e.done = true;
    e.reason = reason;
    e.error = std::move(error);
    if (s.stats.generated_tokens > 0)
        s.stats.decode_seconds = seconds(Clock::now() - s.first_token);
    else
        s.stats.prefill_seconds = seconds(Clock::now() - s.submitted);
    e.stats = s.stats;
    events.emplace_back(std::move(s.request.on_token), std::move(e));
    if (s.kv_file && reason != FinishReason::Error && s.cache->size() > 0)
        saves_.push_back({s.id, s.kv_file, s.cache, s.cached});
    s.running = false;
    s.sampler.reset();
    s.pending.clear();
    s.fed = 0;
    std::erase(arrivals_, s.id);
}

// What is wrong with a request, or "".
std::string Scheduler::problem(const GenerateRequest& request) const {
    const auto& prompt = request.prompt;
    if (prompt.empty()) return "the prompt is empty";
    if (request.max_tokens < 1) return "max_tokens must be >= 1";
    if (static_cast<int>(prompt.size()) >= max_context_)
        return "the prompt has " + std::to_string(prompt.size()) + " tokens; the context holds " +
               std::to_string(max_context_) + " including at least one generated token";
    for (TokenId t : prompt)
        if (t < 0 || t >= backend_.config().vocab_size)
            return "token id " + std::to_string(t) + " is outside the vocabulary";
    return {};
}

// Checks a new request and cuts the cache back to the longest prefix it shares with the
// prompt (at least one prompt token is always recomputed: its logits start generation).
// `restored`: what step() read from the sequence's saved cache for this request.
void Scheduler::start(Sequence& s, std::vector<Delivery>& events, KvFile::Restored* restored) {
    s.running = true;
    s.stats = {};
    const auto& prompt = s.request.prompt;
    s.stats.prompt_tokens = static_cast<int>(prompt.size());
    if (const std::string why = problem(s.request); !why.empty())
        return finish(s, FinishReason::Error, "generate: " + why, events);

    s.sampler = std::make_unique<Sampler>(s.request.sampling);
    if (restored) {
        // A new process: start from what an earlier one saved (checked; never trusted blindly).
        s.cached = std::move(restored->tokens);
        s.stats.restored_tokens = static_cast<int>(s.cached.size());
        if (!restored->warning.empty()) s.stats.kv_warnings.push_back(std::move(restored->warning));
    }
    const auto common = static_cast<std::size_t>(
        std::mismatch(s.cached.begin(), s.cached.end(), prompt.begin(), prompt.end()).first -
        s.cached.begin());
    int keep = static_cast<int>(std::min(common, prompt.size() - 1));
    keep = s.cache->reusable_prefix(keep);
    s.cache->truncate(keep);
    s.cached.resize(static_cast<std::size_t>(keep));
    s.stats.reused_tokens = keep;
    s.stats.restored_tokens = std::min(s.stats.restored_tokens, keep);
    s.pending.assign(prompt.begin() + keep, prompt.end());
    s.fed = 0;
    s.draft_limit = std::min(4, options_.speculation.max_tokens);
    s.pause = 0;
    s.pause_next = 1;
    s.plain_rate = s.verify_rate = 0;
}

// Under the lock: closes, cancels and newly queued requests. A new request whose sequence has
// a saved cache still to read goes to `restores` (running, not started: start() follows).
void Scheduler::admit(std::vector<Delivery>& events, std::vector<Restore>& restores) {
    for (auto it = sequences_.begin(); it != sequences_.end();) {
        Sequence& s = *it->second;
        if (s.queued && !s.running) {
            s.request = std::move(*s.queued);
            s.queued.reset();
            if (s.kv_file && !s.restore_tried && s.cached.empty() && !s.cancel && !s.closing &&
                problem(s.request).empty()) {
                s.restore_tried = true;
                s.running = true;  // generate() refuses a second request meanwhile
                restores.push_back({&s, s.kv_file, {}});
                ++it;
                continue;
            }
            start(s, events);
        }
        if ((s.cancel || s.closing) && s.running) finish(s, FinishReason::Cancelled, {}, events);
        s.cancel = false;
        if (s.closing) {
            std::erase(arrivals_, s.id);
            it = sequences_.erase(it);
        } else {
            ++it;
        }
    }
}

// Decodes first (one token each, cheap and latency-bound), then prompt chunks in arrival
// order until the token budget is spent.
std::vector<Scheduler::Item> Scheduler::plan() {
    std::vector<Item> items;
    std::vector<Sequence*> active;
    for (SequenceId id : arrivals_) {
        auto it = sequences_.find(id);
        if (it != sequences_.end() && it->second->running) active.push_back(it->second.get());
        if (static_cast<int>(active.size()) == options_.max_active) break;
    }
    std::size_t budget = static_cast<std::size_t>(options_.max_batch_tokens);
    // Decoding: one pending token (the last sample). A sequence whose context is fed again
    // after a failed cut (verify()) goes with the prompts.
    auto decoding = [](const Sequence* s) {
        return s->stats.generated_tokens > 0 && s->pending.size() - s->fed == 1;
    };
    std::vector<char> decodes(active.size());
    for (std::size_t i = 0; i < active.size(); ++i) decodes[i] = decoding(active[i]);
    for (std::size_t i = 0; i < active.size(); ++i)
        if (decodes[i]) {
            Sequence* s = active[i];
            const std::size_t draft = add_draft(*s, budget > 1 ? budget - 1 : 0);
            items.push_back(
                {s, 1 + draft, draft > 0 ? LogitsWanted::All : LogitsWanted::Last, draft});
            budget -= std::min<std::size_t>(budget, 1 + draft);
        }
    for (std::size_t i = 0; i < active.size(); ++i) {
        Sequence* s = active[i];
        if (decodes[i] || budget == 0) continue;
        const std::size_t left = s->pending.size() - s->fed;
        const std::size_t take = std::min(left, budget);
        budget -= take;
        items.push_back({s, take, take == left ? LogitsWanted::Last : LogitsWanted::None});
    }
    return items;
}

// Why generation ends after `token` when the cache holds `positions` (its successor needs
// one more), if it does.
std::optional<FinishReason> Scheduler::ends_after(const Sequence& s, TokenId token,
                                                  int positions) const {
    const auto& stop = s.request.stop;
    if (std::find(stop.begin(), stop.end(), token) != stop.end()) return FinishReason::Stop;
    if (s.stats.generated_tokens >= s.request.max_tokens) return FinishReason::Length;
    if (positions + 1 >= max_context_) return FinishReason::Context;
    return std::nullopt;
}

TokenEvent Scheduler::token_event(const Sequence& s, const Sample& sample) {
    TokenEvent e;
    e.sequence = s.id;
    e.has_token = true;
    e.sample = sample;
    return e;
}

// Reports `sample` and makes it the next token to feed.
void Scheduler::continue_with(Sequence& s, const Sample& sample, std::vector<Delivery>& events) {
    events.emplace_back(s.request.on_token, token_event(s, sample));
    s.pending.assign(1, sample.token);
    s.fed = 0;
}

// A prompt-lookup draft appended to the sequence's pending token (its last sample); returns
// its length. None while drafting pauses, when the request opts out, or near its limits.
std::size_t Scheduler::add_draft(Sequence& s, std::size_t room) {
    const auto& opt = options_.speculation;
    if (!s.request.speculate || opt.max_tokens <= 0 || room == 0 || s.pending.size() != 1) return 0;
    if (s.pause > 0) {
        --s.pause;
        return 0;
    }
    if (s.verify_rate > 0 && s.plain_rate > 0 && s.verify_rate < s.plain_rate) {
        s.verify_rate = 0;  // measured again after the pause (the text may start repeating)
        s.pause = 32;
        return 0;
    }
    // Never past max_tokens (the last draft's successor is sampled too) or the context.
    const long left = std::min<long>(s.request.max_tokens - s.stats.generated_tokens - 1,
                                     max_context_ - s.cache->size() - 2);
    long most = std::min<long>({left, static_cast<long>(room), s.draft_limit});
    // Rejected drafts must be cut off again: no more than a sliding ring's slack.
    if (const int ring = s.cache->ring_positions(); ring > 0)
        most = std::min<long>(most, ring - backend_.config().sliding_window);
    if (most <= 0) return 0;
    context_.assign(s.cached.begin(), s.cached.end());
    context_.push_back(s.pending[0]);
    DraftOptions o = opt;
    o.max_tokens = static_cast<int>(most);
    const auto draft = ngram_draft(context_, o);
    s.pending.insert(s.pending.end(), draft.begin(), draft.end());
    return draft.size();
}

bool Scheduler::step() {
    std::vector<Delivery> events;
    std::vector<Item> items;
    std::vector<Restore> restores;
    {
        std::lock_guard lock(mutex_);
        admit(events, restores);
        if (restores.empty()) items = plan();
    }
    if (!restores.empty()) {
        // Saved caches are read outside the lock (a large one takes a second; other threads'
        // calls need not wait): only this thread touches caches, and a sequence leaves
        // sequences_ only in admit(), on this thread.
        for (Restore& r : restores) {
            const auto& prompt = r.sequence->request.prompt;
            r.restored =
                r.file->restore(*r.sequence->cache, prompt, static_cast<int>(prompt.size()) - 1);
        }
        std::lock_guard lock(mutex_);
        for (Restore& r : restores) start(*r.sequence, events, &r.restored);
        items = plan();
    }

    std::string failure;
    double step_seconds = 0;
    if (!items.empty()) {
        std::vector<ForwardItem> batch;
        for (const Item& item : items)
            batch.push_back({item.sequence->cache.get(),
                             std::span<const TokenId>(item.sequence->pending)
                                 .subspan(item.sequence->fed, item.take),
                             item.logits});
        try {
            const auto t0 = Clock::now();
            backend_.forward(batch, logits_);
            step_seconds = seconds(Clock::now() - t0);
        } catch (const std::exception& e) {
            failure = std::string("forward failed: ") + e.what();
        }
    }

    {
        std::lock_guard lock(mutex_);
        const std::size_t vocab = static_cast<std::size_t>(backend_.config().vocab_size);
        std::size_t row = 0;
        for (const Item& item : items) {
            Sequence& s = *item.sequence;
            if (!failure.empty()) {
                s.cache->truncate(0);  // state after a failed forward is unknown: start over
                s.cached.clear();
                finish(s, FinishReason::Error, failure, events);
                continue;
            }
            auto rate = [&](double& average, double tokens) {
                if (step_seconds <= 0) return;
                const double now = tokens / step_seconds;
                average = average == 0 ? now : 0.7 * average + 0.3 * now;
            };
            if (item.draft > 0) {
                const int before = s.stats.generated_tokens;
                verify(s, item, std::span<const float>(logits_).subspan(row * vocab), events);
                rate(s.verify_rate, s.stats.generated_tokens - before);
                row += item.take;
                continue;
            }
            if (s.stats.generated_tokens > 0 && item.take == 1) rate(s.plain_rate, 1);
            s.cached.insert(s.cached.end(), s.pending.begin() + static_cast<std::ptrdiff_t>(s.fed),
                            s.pending.begin() + static_cast<std::ptrdiff_t>(s.fed + item.take));
            s.fed += item.take;
            if (item.logits != LogitsWanted::Last) continue;
            Sample sample;
            try {
                sample =
                    s.sampler->next(std::span<const float>(logits_).subspan(row * vocab, vocab),
                                    s.request.constraint.get());
            } catch (const ModelError& e) {
                ++row;
                finish(s, FinishReason::Error, e.what(), events);
                continue;
            }
            if (s.request.constraint) s.request.constraint->accept(sample.token);
            ++row;
            if (s.stats.generated_tokens++ == 0) {
                s.first_token = Clock::now();
                s.stats.prefill_seconds = seconds(s.first_token - s.submitted);
            }
            if (const auto end = ends_after(s, sample.token, s.cache->size()))
                finish(s, *end, {}, events, &sample);
            else
                continue_with(s, sample, events);
        }
    }

    std::vector<PendingSave> saves;
    {
        std::lock_guard lock(mutex_);
        saves.swap(saves_);
    }
    save_caches(saves, events);
    // Delivered outside the lock so callbacks may call back into the scheduler.
    for (auto& [callback, event] : events)
        if (callback) callback(event);
    return !items.empty() || !events.empty();
}

// A speculative step's rows: row i is the model's next-token distribution after the last
// sample and the first i drafted tokens. Each row is sampled in order exactly as plain
// decoding would (same sampler, same draws, the constraint told each token); while the draw
// equals the next drafted token that token is accepted and the next row is valid, and the
// first draw that differs (or the row after the whole draft) is the step's last token. Cache
// positions of rejected drafts are cut off, so the cache holds exactly the accepted inputs.
void Scheduler::verify(Sequence& s, const Item& item, std::span<const float> rows,
                       std::vector<Delivery>& events) {
    const std::size_t vocab = static_cast<std::size_t>(backend_.config().vocab_size);
    const int before = s.cache->size() - static_cast<int>(item.take);
    ++s.stats.verify_steps;
    s.stats.drafted_tokens += static_cast<int>(item.draft);
    std::size_t emitted = 0, accepted = 0;
    std::optional<FinishReason> end;
    std::string error;
    Sample sample;
    for (std::size_t i = 0; i < item.take; ++i) {
        try {
            sample = s.sampler->next(rows.subspan(i * vocab, vocab), s.request.constraint.get());
        } catch (const ModelError& e) {
            end = FinishReason::Error, error = e.what();
            break;
        }
        if (s.request.constraint) s.request.constraint->accept(sample.token);
        ++emitted;
        ++s.stats.generated_tokens;
        const bool agrees = i + 1 < item.take && sample.token == s.pending[i + 1];
        end = ends_after(s, sample.token, before + static_cast<int>(emitted));
        if (end || !agrees) break;
        ++accepted;
        events.emplace_back(s.request.on_token, token_event(s, sample));
    }
    s.stats.accepted_tokens += static_cast<int>(accepted);
    // The inputs whose successors were drawn: the last sample and the accepted drafts.
    const int keep = before + static_cast<int>(std::max<std::size_t>(emitted, 1));
    s.cached.insert(s.cached.end(), s.pending.begin(),
                    s.pending.begin() + static_cast<std::ptrdiff_t>(keep - before));
    bool recompute = false;
    if (s.cache->reusable_prefix(keep) == keep) {
        s.cache->truncate(keep);
    } else {  // a ring too short to cut back (add_draft avoids it): compute the context again
        s.cache->truncate(0);
        recompute = true;
    }
    // Adapt: longer drafts after full acceptance, shorter after rejections, a pause (growing
    // while it keeps failing) after a draft of which nothing was kept.
    const int max = options_.speculation.max_tokens;
    s.draft_limit =
        std::clamp(static_cast<int>(accepted) + (accepted == item.draft ? 2 : 1), 1, max);
    if (accepted == 0) {
        s.pause = s.pause_next;
        s.pause_next = std::min(32, s.pause_next * 2);
    } else {
        s.pause_next = 1;
    }
    if (end == FinishReason::Error) return finish(s, *end, error, events);
    if (end) return finish(s, *end, {}, events, &sample);
    continue_with(s, sample, events);
    if (recompute) {  // the whole context is fed again as a prompt (plan() chunks it)
        s.pending.insert(s.pending.begin(), s.cached.begin(), s.cached.end());
        s.cached.clear();
    }
}

// Outside the lock, on the stepping thread (the only one that touches caches): appends each
// finished sequence's new positions to its file and puts what happened on its final event.
void Scheduler::save_caches(std::vector<PendingSave>& saves, std::vector<Delivery>& events) {
    for (auto& save : saves) {
        auto saved = save.file->save(*save.cache, save.tokens);
        for (auto& [callback, event] : events) {
            if (event.sequence != save.id || !event.done) continue;
            event.stats.kv_bytes_written += saved.bytes;
            if (!saved.warning.empty()) event.stats.kv_warnings.push_back(saved.warning);
            for (const auto& gone : saved.evicted)
                event.stats.kv_warnings.push_back("removed the saved KV cache " + gone.string() +
                                                  " (least recently used) to stay within the disk "
                                                  "budget");
        }
    }
}

GenerateResult generate_now(Scheduler& scheduler, SequenceId sequence, GenerateRequest request) {
    GenerateResult result;
    bool done = false;
    auto user = std::move(request.on_token);
    request.on_token = [&](const TokenEvent& e) {
        if (e.has_token) result.samples.push_back(e.sample);
        if (e.done) result.final_event = e, done = true;
        if (user) user(e);
    };
    scheduler.generate(sequence, std::move(request));
    while (!done) scheduler.step();
    return result;
}

}  // namespace gossamer::engine
