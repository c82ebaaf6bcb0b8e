// A native plugin (include/gossamer/plugin.h) loaded with dlopen: checks the entry point and
// the ABI version, validates the tool table, and runs calls with a completion callback.
// Used inside `gossamer plugin serve` (its own process, so a crash cannot take the agent
// down); it must not be loaded into the agent's process.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "gossamer/plugin.h"

namespace gossamer::tools {

struct PluginError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct PluginToolInfo {
    std::string name;
    std::string description;
    std::string parameters_json;
};

class PluginLibrary {
  public:
    // Throws PluginError naming the file: cannot open, no entry point, entry returned NULL,
    // ABI mismatch, bad tool table (missing names, invalid JSON schema, duplicates).
    explicit PluginLibrary(const std::string& path);
    ~PluginLibrary();
    PluginLibrary(const PluginLibrary&) = delete;
    PluginLibrary& operator=(const PluginLibrary&) = delete;

    const std::string& name() const { return name_; }
    const std::vector<PluginToolInfo>& tools() const { return tools_; }
    // `done(is_error, text)` runs exactly once, on whatever thread the plugin completes on.
    void invoke(const std::string& tool, const std::string& arguments_json,
                std::function<void(bool, std::string)> done);

  private:
    void* handle_ = nullptr;
    const gossamer_plugin* plugin_ = nullptr;
    std::string name_;
    std::vector<PluginToolInfo> tools_;
};

}  // namespace gossamer::tools
