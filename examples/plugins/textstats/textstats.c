/* An example gossamer native plugin (include/gossamer/plugin.h): text statistics.
 *   word_count {text}            -> {"words": n, "lines": n, "characters": n}
 *   slow_upper {text, delay_ms}  -> the text in upper case, completed later from another
 *                                   thread (a slow tool never blocks the agent's event loop)
 * Build: part of the CMake build (target gossamer_plugin_textstats), or by hand:
 *   cc -shared -fPIC -I include -o libtextstats.so examples/plugins/textstats/textstats.c -lpthread
 * Use in an agent spec:  tools: [{plugin: {path: path/to/libtextstats.so}}]
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gossamer/plugin.h"

/* The smallest JSON reading this example needs: the string value of "key" (no escapes
 * beyond \" and \\) and an integer value. A real plugin would use a JSON library. */
static char* json_string(const char* json, const char* key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\"", key);
    const char* p = strstr(json, pattern);
    if (!p) return NULL;
    p = strchr(p + strlen(pattern), '"');
    if (!p) return NULL;
    char* out = malloc(strlen(p) + 1);
    size_t n = 0;
    for (++p; *p && *p != '"'; ++p) {
        if (*p == '\\' && p[1]) {
            ++p;
            out[n++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = 0;
    return out;
}

static long json_integer(const char* json, const char* key, long fallback) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\"", key);
    const char* p = strstr(json, pattern);
    if (!p || !(p = strchr(p + strlen(pattern), ':'))) return fallback;
    return strtol(p + 1, NULL, 10);
}

static void word_count(const char* args, gossamer_call* call, gossamer_complete_fn complete) {
    char* text = json_string(args, "text");
    if (!text) {
        complete(call, 1, "missing \"text\"");
        return;
    }
    long words = 0, lines = text[0] ? 1 : 0, chars = 0;
    int in_word = 0;
    for (const unsigned char* c = (const unsigned char*)text; *c; ++c) {
        if ((*c & 0xC0) != 0x80) ++chars; /* count UTF-8 characters, not bytes */
        if (*c == '\n') ++lines;
        if (isspace(*c)) in_word = 0;
        else if (!in_word) in_word = 1, ++words;
    }
    char result[160];
    snprintf(result, sizeof result, "{\"words\": %ld, \"lines\": %ld, \"characters\": %ld}", words, lines, chars);
    free(text);
    complete(call, 0, result);
}

struct slow_job {
    char* text;
    long delay_ms;
    gossamer_call* call;
    gossamer_complete_fn complete;
};

static void* slow_worker(void* arg) {
    struct slow_job* job = arg;
    struct timespec t = {job->delay_ms / 1000, (job->delay_ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
    for (char* c = job->text; *c; ++c) *c = (char)toupper((unsigned char)*c);
    job->complete(job->call, 0, job->text);
    free(job->text);
    free(job);
    return NULL;
}

static void slow_upper(const char* args, gossamer_call* call, gossamer_complete_fn complete) {
    struct slow_job* job = malloc(sizeof *job);
    job->text = json_string(args, "text");
    job->delay_ms = json_integer(args, "delay_ms", 100);
    job->call = call;
    job->complete = complete;
    if (!job->text) job->text = strdup("");
    pthread_t thread;
    if (pthread_create(&thread, NULL, slow_worker, job) != 0) {
        free(job->text);
        free(job);
        complete(call, 1, "could not start a worker thread");
        return;
    }
    pthread_detach(thread);
}

static void invoke(void* state, const char* tool, const char* args, gossamer_call* call,
                   gossamer_complete_fn complete) {
    (void)state;
    if (strcmp(tool, "word_count") == 0) word_count(args, call, complete);
    else if (strcmp(tool, "slow_upper") == 0) slow_upper(args, call, complete);
    else complete(call, 1, "unknown tool");
}

static const gossamer_tool tools[] = {
    {"word_count", "Counts words, lines and characters of a text.",
     "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}},\"required\":[\"text\"],"
     "\"additionalProperties\":false}"},
    {"slow_upper", "Returns the text in upper case after a delay (a slow tool).",
     "{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"},\"delay_ms\":{\"type\":\"integer\","
     "\"minimum\":0,\"maximum\":60000}},\"required\":[\"text\"]}"},
};

static const gossamer_plugin plugin = {GOSSAMER_PLUGIN_ABI_VERSION, "textstats", 2, tools, NULL, invoke, NULL};

const gossamer_plugin* gossamer_plugin_entry(unsigned host_abi_version) {
    return host_abi_version == GOSSAMER_PLUGIN_ABI_VERSION ? &plugin : NULL;
}
