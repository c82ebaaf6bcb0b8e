// The records the sandbox's init and payload send to the parent over the report pipe: one
// fixed-size record per write (smaller than PIPE_BUF, so each write is atomic). Written from
// the child after clone, where nothing may allocate: plain fixed buffers only.
#pragma once

#include <cstdint>
#include <cstring>

namespace gossamer::sandbox {

enum class ReportKind : std::int32_t {
    setup_failed = 1,  // a setup step failed: `what` names the call, `path` its argument
    exec_failed = 2,   // execve of the command failed (errno in `err`)
    exited = 3,        // the command finished and every other process was reaped: `value`
                       // is the command's wait status; the init exits right after
    started = 4,       // the command's payload process is running (`value` = pid inside)
};

struct ChildReport {
    ReportKind kind = ReportKind::setup_failed;
    std::int32_t value = 0;
    std::int32_t err = 0;     // errno
    std::int64_t cpu_us = 0;  // for `exited`: CPU time of every process the init reaped
    char what[60] = {};       // e.g. "mount(tmpfs)"; a string literal copied in
    char path[188] = {};      // the path or argument involved, truncated
};
static_assert(sizeof(ChildReport) <= 512, "one atomic pipe write");

// Fills a report without allocating (safe after clone in a threaded parent).
inline ChildReport make_report(ReportKind kind, std::int32_t value, std::int32_t err,
                               const char* what, const char* path) {
    ChildReport r;
    r.kind = kind;
    r.value = value;
    r.err = err;
    if (what) std::strncpy(r.what, what, sizeof r.what - 1);
    if (path) std::strncpy(r.path, path, sizeof r.path - 1);
    return r;
}

}  // namespace gossamer::sandbox
