#include "runtime/tool_registry.h"

namespace gossamer::runtime {

namespace {
constexpr const char* kFunctions = "functions";
}

void ToolRegistry::add(std::shared_ptr<tools::Tool> tool) {
    harmony::ToolNamespace ns = tool->describe();
    for (const auto& e : entries_) {
        if (ns.name != kFunctions && e.ns.name == ns.name)
            throw std::invalid_argument("two tools use the namespace '" + ns.name + "'");
        if (ns.name == kFunctions && e.ns.name == kFunctions)
            for (const auto& a : ns.tools)
                for (const auto& b : e.ns.tools)
                    if (a.name == b.name)
                        throw std::invalid_argument("two tools define the function 'functions." +
                                                    a.name + "'");
    }
    entries_.push_back({std::move(tool), std::move(ns)});
}

std::optional<ToolRoute> ToolRegistry::route(const std::string& recipient) const {
    const auto dot = recipient.find('.');
    const std::string ns = recipient.substr(0, dot);
    const std::string function = dot == std::string::npos ? "" : recipient.substr(dot + 1);
    for (const auto& e : entries_) {
        if (e.ns.name != ns) continue;
        if (e.ns.tools.empty() && function.empty())
            return ToolRoute{e.tool.get(), "", nullptr, ns == kFunctions};
        for (const auto& t : e.ns.tools)
            if (t.name == function) return ToolRoute{e.tool.get(), function, &t, ns == kFunctions};
    }
    return std::nullopt;
}

std::optional<harmony::ToolNamespaces> ToolRegistry::system_tools() const {
    std::optional<harmony::ToolNamespaces> out;
    for (const auto& e : entries_)
        if (e.ns.name != kFunctions) harmony::add_tool_namespace(out, e.ns);
    return out;
}

std::optional<harmony::ToolNamespaces> ToolRegistry::developer_tools() const {
    harmony::ToolNamespace merged;
    merged.name = kFunctions;
    for (const auto& e : entries_)
        if (e.ns.name == kFunctions)
            merged.tools.insert(merged.tools.end(), e.ns.tools.begin(), e.ns.tools.end());
    if (merged.tools.empty()) return std::nullopt;
    std::optional<harmony::ToolNamespaces> out;
    harmony::add_tool_namespace(out, merged);
    return out;
}

std::vector<std::string> ToolRegistry::recipients() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) {
        if (e.ns.tools.empty()) out.push_back(e.ns.name);
        for (const auto& t : e.ns.tools) out.push_back(e.ns.name + "." + t.name);
    }
    return out;
}

std::optional<tools::AnnotatedAnswer> ToolRegistry::annotate_final(
    const std::string& answer) const {
    for (const auto& e : entries_)
        if (auto a = e.tool->annotate_final(answer)) return a;
    return std::nullopt;
}

void ToolRegistry::cancel_all() {
    for (auto& e : entries_) e.tool->cancel();
}

}  // namespace gossamer::runtime
