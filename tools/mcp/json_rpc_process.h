// A child process that speaks newline-delimited JSON-RPC 2.0 on stdin/stdout (the MCP stdio
// transport): spawned with an allowlisted environment, driven by its own Boost.Asio thread.
// Requests complete through callbacks (with a deadline that progress notifications may
// extend up to a hard cap), notifications and server requests go to handlers, stderr lines
// to a log callback, and the process's death fails everything pending. Transport only: it
// must not know MCP methods (mcp_client.h does).
#pragma once

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
#include <utility>
#include <vector>

namespace gossamer::tools {

using Json = nlohmann::ordered_json;

struct ProcessSpec {
    std::vector<std::string> argv;                         // argv[0] searched along PATH
    std::vector<std::pair<std::string, std::string>> env;  // the child's whole environment
    std::string cwd;                                       // empty: inherit
};

// result: the "result" member; error: the "error" object ({code, message, data?}) or a
// transport error ({code: -32000 timeout / -32001 process exited, message}).
struct RpcReply {
    bool ok = false;
    Json result;
    Json error;
};

class JsonRpcProcess {
  public:
    using ReplyHandler = std::function<void(RpcReply)>;
    using NotificationHandler = std::function<void(const std::string& method, const Json& params)>;
    // Returns the result for a server-to-client request, or throws to answer with an error.
    using RequestHandler = std::function<Json(const std::string& method, const Json& params)>;

    // Spawns the process; throws std::runtime_error when it cannot be started.
    JsonRpcProcess(const ProcessSpec& spec, NotificationHandler on_notification,
                   RequestHandler on_request, std::function<void(const std::string&)> on_stderr);
    ~JsonRpcProcess();  // closes stdin, waits briefly, then SIGTERM, then SIGKILL
    JsonRpcProcess(const JsonRpcProcess&) = delete;
    JsonRpcProcess& operator=(const JsonRpcProcess&) = delete;

    // Sends a request; `done` runs on the process thread exactly once. `timeout` restarts on
    // extend(id) calls but never passes `hard_cap` from the start. Returns the request id.
    std::int64_t request(const std::string& method, Json params, std::chrono::milliseconds timeout,
                         std::chrono::milliseconds hard_cap, ReplyHandler done);
    void notify(const std::string& method, Json params);
    // Restarts request `id`'s timeout (a progress notification arrived for it).
    void extend(std::int64_t id);
    // Completes request `id` now with an error (cancellation); later replies are ignored.
    void abandon(std::int64_t id, const std::string& why);

    bool alive() const;
    std::string exit_description() const;  // "exited with status 1", "killed by signal 11"
    int pid() const { return pid_; }

  private:
    struct Pending;
    void start_reading();
    void start_reading_stderr();
    void on_line(const std::string& line);
    void on_exit();
    void write(const Json& message);
    void write_next();
    void complete(std::int64_t id, RpcReply reply);
    void arm(std::int64_t id);

    boost::asio::io_context io_;
    struct Pipes;
    std::unique_ptr<Pipes> pipes_;
    int pid_ = -1;
    mutable std::mutex mutex_;
    bool exited_ = false;
    int wait_status_ = 0;
    std::int64_t next_id_ = 1;
    std::map<std::int64_t, std::shared_ptr<Pending>> pending_;
    NotificationHandler on_notification_;
    RequestHandler on_request_;
    std::function<void(const std::string&)> on_stderr_;
    std::thread thread_;
};

// The environment a tool server gets: PATH, HOME, LANG, LC_ALL, TZ, TMPDIR and NODE_PATH from
// ours when set (nothing else: no API keys, tokens or credentials), plus `extra`.
std::vector<std::pair<std::string, std::string>> allowlisted_environment(
    const std::vector<std::pair<std::string, std::string>>& extra = {});

}  // namespace gossamer::tools
