// A child process that speaks newline-delimited JSON-RPC 2.0 on stdin/stdout (the MCP stdio
// transport): spawned with an allowlisted environment; its lines go to the JSON-RPC peer
// (json_rpc_peer.h: ids, deadlines, dispatch), stderr lines to the log callback, and the
// process's death fails everything pending. Transport only: it must not know MCP methods
// (mcp_client.h does).
#pragma once

#include "tools/mcp/json_rpc_peer.h"

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace gossamer::tools {

struct ProcessSpec {
    std::vector<std::string> argv;                         // argv[0] searched along PATH
    std::vector<std::pair<std::string, std::string>> env;  // the child's whole environment
    std::string cwd;                                       // empty: inherit
};

class JsonRpcProcess : public JsonRpcPeer {
  public:
    // Spawns the process; throws std::runtime_error when it cannot be started.
    JsonRpcProcess(const ProcessSpec& spec, NotificationHandler on_notification,
                   RequestHandler on_request, LogHandler on_stderr);
    ~JsonRpcProcess() override;  // closes stdin, waits briefly, then SIGTERM, then SIGKILL

    std::string exit_description() const override;  // "exited with status 1", "killed by ..."
    int pid() const override { return pid_; }

  private:
    void send(const Json& message) override;
    void start_reading();
    void start_reading_stderr();
    void on_line(const std::string& line);
    void on_exit();
    void write_next();

    struct Pipes;
    std::unique_ptr<Pipes> pipes_;
    int pid_ = -1;
    mutable std::mutex status_mutex_;
    bool exited_ = false;
    int wait_status_ = 0;
};

// The environment a tool server gets: PATH, HOME, LANG, LC_ALL, TZ, TMPDIR and NODE_PATH from
// ours when set (nothing else: no API keys, tokens or credentials), plus `extra`.
std::vector<std::pair<std::string, std::string>> allowlisted_environment(
    const std::vector<std::pair<std::string, std::string>>& extra = {});

}  // namespace gossamer::tools
