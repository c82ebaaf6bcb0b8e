// One JSON-RPC 2.0 conversation with an MCP server, whatever carries it: ids, pending
// requests with a deadline that progress may extend up to a hard cap, dispatch of what comes
// in (replies, notifications, server requests, which it answers), and failing everything
// pending when the peer is gone. A transport (json_rpc_process.h: stdio; mcp_http.h:
// Streamable HTTP) derives from it, sends what send() is given and hands every message it
// receives to receive(). Runs its own Boost.Asio thread; callbacks run on it. Must not know
// MCP methods (mcp_client.h does).
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

namespace gossamer::tools {

using Json = nlohmann::ordered_json;

// result: the "result" member; error: the "error" object ({code, message, data?}) or a
// transport error ({code: -32000 timeout / -32001 peer gone / -32800 cancelled, message}).
struct RpcReply {
    bool ok = false;
    Json result;
    Json error;
};

class JsonRpcPeer {
  public:
    using ReplyHandler = std::function<void(RpcReply)>;
    using NotificationHandler = std::function<void(const std::string& method, const Json& params)>;
    // Returns the result for a server-to-client request, or throws to answer with an error.
    using RequestHandler = std::function<Json(const std::string& method, const Json& params)>;
    using LogHandler = std::function<void(const std::string& line)>;

    virtual ~JsonRpcPeer();
    JsonRpcPeer(const JsonRpcPeer&) = delete;
    JsonRpcPeer& operator=(const JsonRpcPeer&) = delete;

    // Sends a request; `done` runs on the peer's thread exactly once. `timeout` restarts on
    // extend(id) calls but never passes `hard_cap` from the start. Returns the request id.
    std::int64_t request(const std::string& method, Json params, std::chrono::milliseconds timeout,
                         std::chrono::milliseconds hard_cap, ReplyHandler done);
    void notify(const std::string& method, Json params);
    // Restarts request `id`'s timeout (a progress notification arrived for it).
    void extend(std::int64_t id);
    // Completes request `id` now with an error (cancellation); later replies are ignored.
    void abandon(std::int64_t id, const std::string& why);

    bool alive() const;
    virtual std::string exit_description() const = 0;  // "exited with status 1", "HTTP 404"
    virtual int pid() const { return -1; }             // a local server's process, else -1
    // The client's handshake ended with `version` (a transport that sends it, or opens a
    // stream only once a session exists, acts on it here). Any thread.
    virtual void handshake_done(const std::string& version) { (void)version; }

  protected:
    JsonRpcPeer(NotificationHandler on_notification, RequestHandler on_request, LogHandler on_log);

    // Transport side, on the peer's thread: send one message (a request carries an "id").
    virtual void send(const Json& message) = 0;
    // A message (or a batch) that arrived; call on the peer's thread (post() from others).
    void receive(const Json& message);
    // The peer is gone: every pending request fails with `why`; later requests fail at once.
    void gone(const std::string& why);
    // Request `id` fails with `why` (-32001), the peer stays (an HTTP error for one request).
    void fail(std::int64_t id, const std::string& why);
    // Whether request `id` still waits for its reply (a stream that ended early resumes).
    bool pending(std::int64_t id) const;
    void log(const std::string& line) const;
    // Derived destructors call this first: stops the thread after failing what is pending.
    void shut_down();

    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    // Started by the derived constructor once its transport is ready.
    void start_thread();

  private:
    struct Pending;
    void complete(std::int64_t id, RpcReply reply);
    void arm(std::int64_t id);

    mutable std::mutex mutex_;
    bool gone_ = false;
    std::string gone_why_;
    std::int64_t next_id_ = 1;
    std::map<std::int64_t, std::shared_ptr<Pending>> pending_;
    NotificationHandler on_notification_;
    RequestHandler on_request_;
    LogHandler on_log_;
    std::thread thread_;
};

}  // namespace gossamer::tools
