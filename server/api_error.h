// The error every endpoint answers with, in OpenAI's shape:
// {"error": {"message", "type", "param", "code"}} with its HTTP status. Request parsers
// throw it; the router turns it into the answer. Data only.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

namespace gossamer::server {

struct ApiError : std::runtime_error {
    int status = 400;
    std::string type = "invalid_request_error";
    std::optional<std::string> param;
    std::optional<std::string> code;

    ApiError(int status_, std::string message, std::optional<std::string> param_ = std::nullopt,
             std::optional<std::string> code_ = std::nullopt,
             std::string type_ = "invalid_request_error")
        : std::runtime_error(std::move(message)),
          status(status_),
          type(std::move(type_)),
          param(std::move(param_)),
          code(std::move(code_)) {}

    nlohmann::json body() const {
        return {{"error",
                 {{"message", what()},
                  {"type", type},
                  {"param", param ? nlohmann::json(*param) : nlohmann::json()},
                  {"code", code ? nlohmann::json(*code) : nlohmann::json()}}}};
    }
};

// 400 naming the parameter ("input[2].call_id: ...").
inline ApiError bad_param(const std::string& param, const std::string& what) {
    return ApiError(400, param + ": " + what, param);
}

}  // namespace gossamer::server
