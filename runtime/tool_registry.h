// The tools of one agent, by the recipient names the model uses: "python", "browser.search",
// "functions.read_file". Function tools from every source share the "functions" namespace
// (rendered in the developer message); built-in tools get their own namespace (rendered in
// the system message). Name collisions are refused when a tool is added. Routing only: it
// must not run calls (the agent loop does, with timeouts and the store).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "harmony/message.h"
#include "tools/tool.h"

namespace gossamer::runtime {

struct ToolRoute {
    tools::Tool* tool = nullptr;
    std::string function;                                   // empty for a namespace-only tool
    const harmony::ToolDescription* description = nullptr;  // null for a namespace-only tool
    bool is_function = false;                               // in the "functions" namespace
};

class ToolRegistry {
  public:
    // Throws std::invalid_argument naming the clash (same namespace, or same function name).
    void add(std::shared_ptr<tools::Tool> tool);
    std::optional<ToolRoute> route(const std::string& recipient) const;
    // What to render: built-in namespaces (system message) and the merged "functions".
    std::optional<harmony::ToolNamespaces> system_tools() const;
    std::optional<harmony::ToolNamespaces> developer_tools() const;
    std::vector<std::string> recipients() const;  // every name the model may address
    void cancel_all();
    void for_each(const std::function<void(tools::Tool&)>& f) const {
        for (const auto& e : entries_) f(*e.tool);
    }
    // The first tool's rewrite of a final answer (browser citations), or nullopt.
    std::optional<tools::AnnotatedAnswer> annotate_final(const std::string& answer) const;

  private:
    struct Entry {
        std::shared_ptr<tools::Tool> tool;
        harmony::ToolNamespace ns;
    };
    std::vector<Entry> entries_;
};

}  // namespace gossamer::runtime
