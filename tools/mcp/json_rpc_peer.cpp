#include "tools/mcp/json_rpc_peer.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace gossamer::tools {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct JsonRpcPeer::Pending {
    ReplyHandler done;
    std::chrono::milliseconds timeout;
    Clock::time_point hard_deadline;
    std::unique_ptr<asio::steady_timer> timer;
};

JsonRpcPeer::JsonRpcPeer(NotificationHandler on_notification, RequestHandler on_request,
                         LogHandler on_log)
    : work_(asio::make_work_guard(io_)),
      on_notification_(std::move(on_notification)),
      on_request_(std::move(on_request)),
      on_log_(std::move(on_log)) {}

JsonRpcPeer::~JsonRpcPeer() {
    shut_down();
}

void JsonRpcPeer::start_thread() {
    thread_ = std::thread([this] { io_.run(); });
}

void JsonRpcPeer::shut_down() {
    if (!thread_.joinable()) return;
    asio::post(io_, [this] {
        for (auto& [id, p] : pending_) p->timer->cancel();
        work_.reset();
    });
    thread_.join();
    // Whatever is still pending learns the server is gone (on this thread, the loop stopped).
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& [id, p] : pending)
        p->done(RpcReply{false, {}, Json{{"code", -32001}, {"message", "the server was stopped"}}});
}

bool JsonRpcPeer::alive() const {
    std::lock_guard lock(mutex_);
    return !gone_;
}

void JsonRpcPeer::log(const std::string& line) const {
    if (on_log_) on_log_(line);
}

bool JsonRpcPeer::pending(std::int64_t id) const {
    return pending_.count(id) > 0;
}

void JsonRpcPeer::fail(std::int64_t id, const std::string& why) {
    complete(id, RpcReply{false, {}, Json{{"code", -32001}, {"message", why}}});
}

void JsonRpcPeer::gone(const std::string& why) {
    {
        std::lock_guard lock(mutex_);
        if (gone_) return;
        gone_ = true;
        gone_why_ = why;
    }
    auto pending = std::move(pending_);
    pending_.clear();
    for (auto& [id, p] : pending) {
        p->timer->cancel();
        p->done(RpcReply{false, {}, Json{{"code", -32001}, {"message", why}}});
    }
}

void JsonRpcPeer::receive(const Json& message) {
    if (message.is_array()) {  // a batch (2025-03-26)
        for (const Json& one : message) receive(one);
        return;
    }
    if (!message.is_object()) return;
    const bool has_id = message.contains("id") && !message["id"].is_null();
    if (message.contains("method") && message["method"].is_string()) {
        const std::string method = message["method"];
        const Json params = message.value("params", Json::object());
        if (!has_id) {
            if (on_notification_) on_notification_(method, params);
            return;
        }
        Json reply{{"jsonrpc", "2.0"}, {"id", message["id"]}};
        try {
            if (!on_request_) throw std::runtime_error("method not found");
            reply["result"] = on_request_(method, params);
        } catch (const std::exception& e) {
            reply["error"] = Json{{"code", -32601}, {"message", e.what()}};
        }
        send(reply);
        return;
    }
    if (!has_id || !message["id"].is_number_integer()) return;
    const std::int64_t id = message["id"].get<std::int64_t>();
    if (message.contains("error"))
        complete(id, RpcReply{false, {}, message["error"]});
    else
        complete(id, RpcReply{true, message.value("result", Json::object()), {}});
}

void JsonRpcPeer::complete(std::int64_t id, RpcReply reply) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;  // late reply to an abandoned or timed-out request
    auto p = it->second;
    pending_.erase(it);
    p->timer->cancel();
    p->done(std::move(reply));
}

void JsonRpcPeer::arm(std::int64_t id) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    auto& p = *it->second;
    const auto deadline = std::min(Clock::now() + p.timeout, p.hard_deadline);
    p.timer->expires_at(deadline);
    p.timer->async_wait([this, id](boost::system::error_code ec) {
        if (ec) return;
        auto found = pending_.find(id);
        if (found == pending_.end() || Clock::now() < found->second->timer->expiry()) return;
        complete(id, RpcReply{false, {}, Json{{"code", -32000}, {"message", "timed out"}}});
    });
}

std::int64_t JsonRpcPeer::request(const std::string& method, Json params,
                                  std::chrono::milliseconds timeout,
                                  std::chrono::milliseconds hard_cap, ReplyHandler done) {
    std::int64_t id;
    {
        std::lock_guard lock(mutex_);
        id = next_id_++;
    }
    asio::post(io_, [this, id, method, params = std::move(params), timeout, hard_cap,
                     done = std::move(done)]() mutable {
        std::string why;
        {
            std::lock_guard lock(mutex_);
            if (gone_) why = gone_why_;
        }
        if (!why.empty())
            return done(RpcReply{false, {}, Json{{"code", -32001}, {"message", why}}});
        auto p = std::make_shared<Pending>();
        p->done = std::move(done);
        p->timeout = timeout;
        p->hard_deadline = Clock::now() + hard_cap;
        p->timer = std::make_unique<asio::steady_timer>(io_);
        pending_[id] = p;
        arm(id);
        send(Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}});
    });
    return id;
}

void JsonRpcPeer::notify(const std::string& method, Json params) {
    asio::post(io_, [this, method, params = std::move(params)] {
        if (alive()) send(Json{{"jsonrpc", "2.0"}, {"method", method}, {"params", params}});
    });
}

void JsonRpcPeer::extend(std::int64_t id) {
    asio::post(io_, [this, id] { arm(id); });
}

void JsonRpcPeer::abandon(std::int64_t id, const std::string& why) {
    asio::post(io_, [this, id, why] {
        complete(id, RpcReply{false, {}, Json{{"code", -32800}, {"message", why}}});
    });
}

}  // namespace gossamer::tools
