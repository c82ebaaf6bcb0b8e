// Built-in tool namespaces assembled from prompts/browser.txt, prompts/browser_tools.txt and
// prompts/python_*.txt. Both python variants have no functions: the model writes raw code to
// `python`, so the namespace is only a description (rendered without "//" prefixes).
#include "harmony/builtin_tools.h"

#include <stdexcept>
#include <string>

#include "harmony/prompts.h"

namespace gossamer::harmony::builtin_tools {
namespace {

// prompts/browser_tools.txt: [{name, description, parameters}], property order kept.
std::vector<ToolDescription> browser_functions() {
    Json tools = Json::parse(prompts::text("browser_tools"));
    std::vector<ToolDescription> out;
    for (const Json& tool : tools)
        out.push_back({tool.at("name").get<std::string>(),
                       tool.at("description").get<std::string>(), tool.at("parameters")});
    return out;
}

ToolNamespace browser_with_sources_line(std::string sources_line) {
    ToolNamespace ns;
    ns.name = "browser";
    ns.description = std::string(prompts::text("browser")) + "\n" + sources_line;
    ns.tools = browser_functions();
    return ns;
}

ToolNamespace python_with(std::string_view prompt) {
    return {"python", std::string(prompts::text(prompt)), {}};
}

}  // namespace

ToolNamespace browser() {
    return browser_with_sources_line("sources=web (default: web)");
}

ToolNamespace browser_with_source(std::string_view source) {
    return browser_with_sources_line("sources=" + std::string(source));
}

ToolNamespace python_stateful() {
    return python_with("python_stateful");
}

ToolNamespace python_stateless() {
    return python_with("python_stateless");
}

}  // namespace gossamer::harmony::builtin_tools
