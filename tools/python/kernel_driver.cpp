#include "tools/python/kernel_driver.h"

namespace gossamer::tools::python {

std::string_view kernel_driver_source() {
    static constexpr std::string_view source = R"PY(
import ast, linecache, os, sys, traceback

def _gossamer_kernel(cap):
    chan_in, chan_out = os.dup(0), os.dup(1)  # the request and reply channels, kept private
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    try:
        out = os.memfd_create("cell-output")
    except (AttributeError, OSError):
        import tempfile
        out = os.dup(tempfile.TemporaryFile().fileno())
    os.dup2(out, 1)
    os.dup2(out, 2)
    sys.stdout.reconfigure(line_buffering=True)  # stdout and stderr stay in order
    names = {"__name__": "__main__", "__builtins__": __builtins__}
    requests = os.fdopen(chan_in, "rb", buffering=0)
    count = 0
    kernel_pid = os.getpid()
    while True:
        header = _read_line(requests)
        if not header:
            os._exit(0)
        code = _read_exact(requests, int(header)).decode("utf-8", "replace")
        count += 1
        os.ftruncate(out, 0)
        os.lseek(out, 0, os.SEEK_SET)
        _run_cell(code, names, "<cell %d>" % count)
        if os.getpid() != kernel_pid:  # a child forked by the cell must not answer
            os._exit(0)
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()
            except Exception:
                pass
        _reply(chan_out, out, cap)

def _read_line(f):
    line = b""
    while not line.endswith(b"\n"):
        c = f.read(1)
        if not c:
            return b""
        line += c
    return line

def _read_exact(f, n):
    data = b""
    while len(data) < n:
        chunk = f.read(n - len(data))
        if not chunk:
            os._exit(0)
        data += chunk
    return data

def _run_cell(code, names, filename):
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    try:
        tree = ast.parse(code, filename, "exec")
    except (SyntaxError, ValueError) as e:
        traceback.print_exception(type(e), e, None)
        return
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    try:
        exec(compile(tree, filename, "exec"), names)
        if last is not None:
            value = eval(compile(last, filename, "eval"), names)
            if value is not None:
                sys.displayhook(value)
    except SystemExit as e:
        print("SystemExit: %r (the kernel keeps running)" % (e.code,), file=sys.stderr)
    except BaseException as e:
        traceback.print_exception(type(e), e, e.__traceback__.tb_next)

def _reply(chan, out, cap):
    total = os.lseek(out, 0, os.SEEK_END)
    if cap and total > cap:
        half = cap // 2
        data = os.pread(out, half, 0) + os.pread(out, half, total - half)
    else:
        data = os.pread(out, total, 0) if total else b""
    frame = b"\0GOSSAMER:%d:%d\n" % (len(data), total) + data
    while frame:
        frame = frame[os.write(chan, frame):]

_gossamer_kernel(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
)PY";
    return source;
}

}  // namespace gossamer::tools::python
