/* A test fixture plugin: `ok` answers, `crash` dereferences NULL. It shows that a crashing
 * plugin ends only its own `gossamer plugin serve` process. Also built with a wrong ABI
 * version (GOSSAMER_TEST_WRONG_ABI) to test the version check. */
#include <signal.h>
#include <stddef.h>
#include <string.h>

#include "gossamer/plugin.h"

static void invoke(void* state, const char* tool, const char* args, gossamer_call* call,
                   gossamer_complete_fn complete) {
    (void)state;
    (void)args;
    if (strcmp(tool, "crash") == 0) raise(SIGSEGV);
    complete(call, 0, "ok");
}

static const gossamer_tool tools[] = {{"ok", "Answers ok.", "{\"type\":\"object\"}"},
                                      {"crash", "Crashes.", "{\"type\":\"object\"}"}};

#ifdef GOSSAMER_TEST_WRONG_ABI
#define ABI 999u
#else
#define ABI GOSSAMER_PLUGIN_ABI_VERSION
#endif

static const gossamer_plugin plugin = {ABI, "crashy", 2, tools, NULL, invoke, NULL};

const gossamer_plugin* gossamer_plugin_entry(unsigned host_abi_version) {
    (void)host_abi_version;
    return &plugin;
}
