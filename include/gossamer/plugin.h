/* gossamer native plugin ABI, version 1.
 *
 * A plugin is a shared library exporting one function, gossamer_plugin_entry, that returns a
 * description of its tools and the functions to call them. gossamer loads it with dlopen in
 * a separate process (`gossamer plugin serve`), so a crash inside a plugin ends that process
 * only: the agent is told the call failed and the plugin is started again for the next call.
 * Plain C, no allocation across the boundary: strings passed in are valid only during the
 * call; strings passed out (complete()) are copied before complete() returns.
 *
 * Minimal plugin:
 *
 *   static void hello(void* state, const char* tool, const char* args_json,
 *                     gossamer_call* call, gossamer_complete_fn complete) {
 *       complete(call, 0, "hello");
 *   }
 *   static const gossamer_tool tools[] = {{"hello", "Says hello.", "{\"type\":\"object\"}"}};
 *   static const gossamer_plugin plugin = {GOSSAMER_PLUGIN_ABI_VERSION, "hello", 1, tools,
 *                                          NULL, hello, NULL};
 *   const gossamer_plugin* gossamer_plugin_entry(unsigned host_abi) { return &plugin; }
 */
#ifndef GOSSAMER_PLUGIN_H
#define GOSSAMER_PLUGIN_H

#ifdef __cplusplus
extern "C" {
#endif

#define GOSSAMER_PLUGIN_ABI_VERSION 1u

typedef struct gossamer_tool {
    const char* name;             /* [A-Za-z0-9_-]{1,64}: called as functions.<name> */
    const char* description;      /* shown to the model */
    const char* parameters_json;  /* JSON Schema of the arguments (an object schema) */
} gossamer_tool;

/* Opaque: identifies one call until it is completed. */
typedef struct gossamer_call gossamer_call;

/* Completes a call exactly once, from any thread, at any later time (slow tools need not
 * block). is_error != 0 marks the result as an error the model should react to. `result` is
 * UTF-8 text (JSON or prose) and is copied before this returns. */
typedef void (*gossamer_complete_fn)(gossamer_call* call, int is_error, const char* result);

typedef struct gossamer_plugin {
    unsigned abi_version; /* GOSSAMER_PLUGIN_ABI_VERSION the plugin was built against */
    const char* name;
    unsigned tool_count;
    const gossamer_tool* tools;
    void* state; /* passed back to invoke and destroy */
    /* Starts a call of tool `tool` with `arguments_json` (already checked against the
     * tool's schema). Must eventually call complete(call, ...) exactly once. */
    void (*invoke)(void* state, const char* tool, const char* arguments_json, gossamer_call* call,
                   gossamer_complete_fn complete);
    /* Called once before the library is unloaded, after every call completed; may be NULL. */
    void (*destroy)(void* state);
} gossamer_plugin;

/* The one symbol a plugin exports. `host_abi_version` is the host's ABI version; return
 * NULL to refuse (e.g. an ABI you were not built for). */
typedef const gossamer_plugin* (*gossamer_plugin_entry_fn)(unsigned host_abi_version);
#define GOSSAMER_PLUGIN_ENTRY "gossamer_plugin_entry"

#ifdef __cplusplus
}
#endif

#endif /* GOSSAMER_PLUGIN_H */
