// The table of tool kinds an agent spec may list (`tools:`): for each, its name, how its YAML
// entry is parsed into the tool's own options type (tools/*/..._options.h hold the defaults,
// once), and how the configured tool is built into a registry. The spec parser and
// agent_setup both go through this table, so adding a tool kind is one row. It must not run
// tools.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/agent_spec.h"

namespace YAML {
class Node;
}

namespace gossamer::runtime {

class SpecReader;
class ToolRegistry;

struct ToolKind {
    std::string_view name;
    bool shorthand;  // may be listed bare ("- python")
    // `cfg`: the entry's mapping (empty for the shorthand); `item`: the list item (for
    // FILE:LINE:COLUMN); `field`: "tools[i]". Throws SpecError.
    void (*parse)(const SpecReader& r, const YAML::Node& cfg, const YAML::Node& item,
                  const std::string& field, ToolsSpec& tools);
    // Adds what the spec configured of this kind (nothing if none). Throws SpecError for a tool
    // that cannot start, naming the spec entry.
    void (*add)(const AgentSpec& spec, ToolRegistry& registry);
};

const std::vector<ToolKind>& tool_kinds();
const ToolKind* find_tool_kind(std::string_view name);

}  // namespace gossamer::runtime
