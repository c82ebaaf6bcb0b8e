#include "tools/plugin/plugin_library.h"

#include <dlfcn.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <set>

// The opaque call object of the ABI: the host's completion state.
struct gossamer_call {
    std::function<void(bool, std::string)> done;
    std::atomic<bool> completed{false};
};

namespace gossamer::tools {

namespace {

extern "C" void complete_call(gossamer_call* call, int is_error, const char* result) {
    if (!call || call->completed.exchange(true)) return;  // a second completion is ignored
    auto done = std::move(call->done);
    std::string text = result ? result : "";
    delete call;
    done(is_error != 0, std::move(text));
}

bool valid_name(const std::string& n) {
    if (n.empty() || n.size() > 64) return false;
    for (char c : n)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
    return true;
}

}  // namespace

PluginLibrary::PluginLibrary(const std::string& path) {
    // A bare name would be searched on the library path: it names a file here.
    const std::string file = path.find('/') == std::string::npos ? "./" + path : path;
    handle_ = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) throw PluginError(path + ": cannot load: " + ::dlerror());
    auto fail = [&](const std::string& why) {
        ::dlclose(handle_);
        handle_ = nullptr;
        throw PluginError(path + ": " + why);
    };
    void* symbol = ::dlsym(handle_, GOSSAMER_PLUGIN_ENTRY);
    if (!symbol) fail("not a gossamer plugin (no " GOSSAMER_PLUGIN_ENTRY " symbol)");
    auto entry = reinterpret_cast<gossamer_plugin_entry_fn>(symbol);
    plugin_ = entry(GOSSAMER_PLUGIN_ABI_VERSION);
    if (!plugin_) fail("the plugin refused to load (its entry point returned NULL)");
    if (plugin_->abi_version != GOSSAMER_PLUGIN_ABI_VERSION)
        fail("built for plugin ABI " + std::to_string(plugin_->abi_version) +
             ", this gossamer speaks " + std::to_string(GOSSAMER_PLUGIN_ABI_VERSION) +
             "; rebuild it against this gossamer/plugin.h");
    if (!plugin_->invoke) fail("the plugin has no invoke function");
    if (plugin_->tool_count > 0 && !plugin_->tools) fail("the plugin's tool table is NULL");
    name_ = plugin_->name ? plugin_->name : "plugin";
    std::set<std::string> seen;
    for (unsigned i = 0; i < plugin_->tool_count; ++i) {
        const gossamer_tool& t = plugin_->tools[i];
        const std::string name = t.name ? t.name : "";
        if (!valid_name(name))
            fail("tool " + std::to_string(i) + " has an invalid name '" + name + "'");
        if (!seen.insert(name).second) fail("two tools are named '" + name + "'");
        std::string schema = t.parameters_json ? t.parameters_json : "{\"type\":\"object\"}";
        try {
            if (!nlohmann::json::parse(schema).is_object())
                fail("tool '" + name + "': the schema is not a JSON object");
        } catch (const nlohmann::json::exception& e) {  // also numbers out of range
            fail("tool '" + name + "': the schema is not valid JSON: " + e.what());
        }
        tools_.push_back({name, t.description ? t.description : "", schema});
    }
}

PluginLibrary::~PluginLibrary() {
    if (plugin_ && plugin_->destroy) plugin_->destroy(plugin_->state);
    if (handle_) ::dlclose(handle_);
}

void PluginLibrary::invoke(const std::string& tool, const std::string& arguments_json,
                           std::function<void(bool, std::string)> done) {
    auto* call = new gossamer_call;
    call->done = std::move(done);
    plugin_->invoke(plugin_->state, tool.c_str(), arguments_json.c_str(), call, complete_call);
}

}  // namespace gossamer::tools
