// Continuous batching over one backend: sequences (conversations, each with its own KV
// cache) receive generation requests from any thread; step() runs one batched forward for
// every sequence that has work (decode tokens first, then prompt chunks up to a token
// budget), samples, and reports each token through the request's callback. Prompts reuse the
// longest cached prefix. A decoding sequence whose context repeats itself feeds a drafted
// continuation with its last token and keeps the prefix its sampler agrees with
// (speculative decoding: exact, since each kept token is the sampler's own draw). The scheduler
// owns caches and sampling state; it must not know about harmony or tools (runtime/ turns tokens
// into messages).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/backend.h"
#include "engine/kv_file.h"
#include "engine/ngram_draft.h"
#include "engine/sampler.h"
#include "engine/token_constraint.h"

namespace gossamer::engine {

using SequenceId = std::uint64_t;

enum class FinishReason {
    Stop,       // a stop token was sampled (it is the last token reported)
    Length,     // max_tokens reached
    Context,    // the sequence reached the context limit
    Cancelled,  // cancel() or close()
    Error,      // invalid request or a backend failure; TokenEvent::error says what
};
const char* to_string(FinishReason reason);

struct GenerationStats {
    int prompt_tokens = 0;
    int reused_tokens = 0;  // prompt tokens whose KV was kept from the sequence's last turn
    // Of reused_tokens, those read from the sequence's saved cache (engine/kv_file.h) because
    // this process had not computed them, and what saving it after this generation wrote.
    int restored_tokens = 0;
    std::uint64_t kv_bytes_written = 0;
    // Speculative decoding (prompt lookup): forwards that verified drafts, the tokens drafted,
    // and how many of them the sampler agreed with (each one a decode step saved).
    int verify_steps = 0;
    int drafted_tokens = 0;
    int accepted_tokens = 0;
    std::vector<std::string> kv_warnings;  // a saved cache not used, or not saved, and why
    int generated_tokens = 0;
    double prefill_seconds = 0;  // submit to first token
    double decode_seconds = 0;   // first token to the last
    // Set by a remote model client (runtime/remote_model.h), never by the engine: the endpoint
    // that finished the generation and how many tries before it failed.
    std::string served_by;
    int retries = 0;
};

struct TokenEvent {
    SequenceId sequence = 0;
    bool has_token = false;  // false only on a final event without a token (cancel, error)
    Sample sample;
    bool done = false;
    FinishReason reason = FinishReason::Stop;  // meaningful when done
    std::string error;                         // when reason == Error
    GenerationStats stats;                     // filled when done
};

struct GenerateRequest {
    std::vector<TokenId> prompt;  // the whole context; the cached prefix is not recomputed
    int max_tokens = 256;
    SamplingParams sampling;
    std::vector<TokenId> stop;  // e.g. <|return|>, <|call|>
    // Masks the pick of each token (structured outputs); told every token sampled. Optional.
    std::shared_ptr<TokenConstraint> constraint;
    // Called on the thread running step(), without the scheduler's lock held: it may call
    // generate() or cancel(). Must not block for long: every sequence waits on it.
    std::function<void(const TokenEvent&)> on_token;
    // Speculative decoding from prompt-lookup drafts (SchedulerOptions::speculation): the
    // output is what plain decoding gives (the same sampler draws, in the same order); false
    // decodes one token per step.
    bool speculate = true;
};

struct SchedulerOptions {
    int max_batch_tokens = 512;  // tokens per step: all decodes, then prompt chunks to fill
    int max_active = 16;         // sequences in one step at most
    int max_context = 0;         // positions per sequence; 0 = the model's (131072)
    // Drafts for speculative decoding (engine/ngram_draft.h); max_tokens 0 turns it off. A
    // sequence drafts at most this many tokens, fewer after rejections, and pauses drafting
    // (1, 2, 4 ... 32 steps) after a draft of which nothing was accepted.
    DraftOptions speculation;
};

class Scheduler {
  public:
    explicit Scheduler(Backend& backend, const SchedulerOptions& options = {});
    ~Scheduler();
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    // All of these are thread-safe.
    SequenceId open();
    // Cancels a running request (its callback gets a Cancelled event) and frees the cache.
    void close(SequenceId id);
    // Queues a request. Throws ModelError for an unknown sequence, one already generating,
    // or invalid sampling parameters; other problems (empty prompt, too long, bad token id)
    // finish the request with an Error event.
    void generate(SequenceId id, GenerateRequest request);
    void cancel(SequenceId id);  // no-op when nothing runs
    bool busy() const;           // a request is queued or running
    // Blocks until there is work or `timeout` passes; returns busy().
    bool wait_for_work(std::chrono::milliseconds timeout);
    int cached_tokens(SequenceId id) const;  // positions in the sequence's KV cache
    // Keeps the sequence's cache in `file` (engine/kv_file.h): its first generation starts from
    // the longest prefix of the prompt the file holds, and each generation's end appends what
    // is new. The file is read and written on the thread running step().
    void persist(SequenceId id, std::shared_ptr<KvFile> file);

    // Runs one batched forward. Call from one thread at a time (the engine thread).
    // Returns false when there was nothing to do.
    bool step();

  private:
    struct Sequence;
    struct Item;
    using Clock = std::chrono::steady_clock;
    // An event and the callback to deliver it to once the lock is released.
    using Delivery = std::pair<std::function<void(const TokenEvent&)>, TokenEvent>;

    struct Restore;
    void admit(std::vector<Delivery>& events, std::vector<Restore>& restores);
    std::string problem(const GenerateRequest& request) const;
    void start(Sequence& s, std::vector<Delivery>& events, KvFile::Restored* restored = nullptr);
    std::vector<Item> plan();
    void finish(Sequence& s, FinishReason reason, std::string error, std::vector<Delivery>& events,
                const Sample* last = nullptr);
    struct PendingSave;
    void save_caches(std::vector<PendingSave>& saves, std::vector<Delivery>& events);
    std::size_t add_draft(Sequence& s, std::size_t room);
    std::optional<FinishReason> ends_after(const Sequence& s, TokenId token, int positions) const;
    static TokenEvent token_event(const Sequence& s, const Sample& sample);
    void continue_with(Sequence& s, const Sample& sample, std::vector<Delivery>& events);
    void verify(Sequence& s, const Item& item, std::span<const float> rows,
                std::vector<Delivery>& events);

    Backend& backend_;
    SchedulerOptions options_;
    int max_context_ = 0;
    mutable std::mutex mutex_;
    std::condition_variable work_;
    SequenceId next_id_ = 1;
    std::map<SequenceId, std::unique_ptr<Sequence>> sequences_;
    std::deque<SequenceId> arrivals_;  // sequences with work, in arrival order
    std::vector<float> logits_;
    std::vector<TokenId> context_;    // scratch: a sequence's tokens for drafting
    std::vector<PendingSave> saves_;  // filled by finish() under the lock, written by step()
};

// Runs `request` on `sequence` by stepping the scheduler on this thread until it finishes;
// returns the tokens and the final event. For the CLI and tests (the runtime steps the
// scheduler on its engine thread instead).
struct GenerateResult {
    std::vector<Sample> samples;
    TokenEvent final_event;
};
GenerateResult generate_now(Scheduler& scheduler, SequenceId sequence, GenerateRequest request);

}  // namespace gossamer::engine
