#include "tools/mcp/mcp_content.h"

#include "harmony/utf8.h"
#include "tools/schema_check.h"

namespace gossamer::tools {

namespace {

std::string item_text(const Json& item) {
    const std::string type = item.value("type", std::string());
    if (type == "text") return item.value("text", std::string());
    if (type == "image" || type == "audio") {
        const auto bytes = item.value("data", std::string()).size() * 3 / 4;
        return "[" + type + ": " + item.value("mimeType", std::string("unknown type")) +
               ", about " + std::to_string(bytes) + " bytes, not shown]";
    }
    if (type == "resource_link")
        return "[resource: " + item.value("name", std::string()) + " " +
               item.value("uri", std::string()) + "]";
    if (type == "resource") {
        const Json r = item.value("resource", Json::object());
        if (r.contains("text") && r["text"].is_string())
            return "[resource " + r.value("uri", std::string()) + "]\n" +
                   r["text"].get<std::string>();
        return "[resource " + r.value("uri", std::string()) + ": " +
               r.value("mimeType", std::string("binary")) + ", not shown]";
    }
    return "[" + (type.empty() ? std::string("unknown") : type) + " content, not shown]";
}

}  // namespace

ToolOutput mcp_result_to_output(const Json& result) {
    ToolOutput out;
    out.is_error = result.value("isError", false);
    std::string text;
    bool has_text = false;
    for (const auto& item : result.value("content", Json::array())) {
        if (!item.is_object()) continue;
        if (!text.empty()) text += "\n";
        text += item_text(item);
        has_text = has_text || item.value("type", std::string()) == "text";
    }
    if (result.contains("structuredContent") && !has_text) {
        if (!text.empty()) text += "\n";
        text += result["structuredContent"].dump();
    }
    if (text.empty()) text = out.is_error ? "the tool failed without saying why" : "(no output)";
    out.text = harmony::utf8::to_valid_lossy(text);
    return out;
}

std::optional<std::string> output_schema_problem(const Json& result, const Json& schema) {
    if (result.value("isError", false)) return std::nullopt;
    if (!result.contains("structuredContent"))
        return "the tool declares an outputSchema but returned no structuredContent";
    const auto problems = check_against_schema(result["structuredContent"], schema);
    if (problems.empty()) return std::nullopt;
    std::string why = "the tool's structuredContent does not match its outputSchema:";
    for (const auto& p : problems) why += " " + p + ";";
    return why;
}

}  // namespace gossamer::tools
