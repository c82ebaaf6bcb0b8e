#include "runtime/unified_diff.h"

#include <algorithm>
#include <vector>

namespace gossamer::runtime {
namespace {

struct Line {
    std::string_view text;  // without its '\n'
    bool newline = true;    // false: the text's last line had none
};

std::vector<Line> lines_of(std::string_view text) {
    std::vector<Line> out;
    std::size_t at = 0;
    while (at < text.size()) {
        const auto end = text.find('\n', at);
        if (end == std::string_view::npos) {
            out.push_back({text.substr(at), false});
            break;
        }
        out.push_back({text.substr(at, end - at), true});
        at = end + 1;
    }
    return out;
}

bool binary(std::string_view text) {
    return text.substr(0, 8192).find('\0') != std::string_view::npos;
}

bool same(const Line& a, const Line& b) {
    return a.text == b.text && a.newline == b.newline;
}

enum class Op { keep, remove, add };

// Myers' greedy shortest edit script, then the path traced back through the saved frontiers.
// Past `max_d` edits the whole range is one remove + add (a huge rewrite is not worth more).
std::vector<Op> edit_script(const std::vector<Line>& a, const std::vector<Line>& b) {
    const int n = static_cast<int>(a.size()), m = static_cast<int>(b.size());
    const int max_d = std::min(n + m, 1000);  // trace memory: max_d^2 ints at most
    const int offset = max_d + 1;
    std::vector<int> v(2 * static_cast<std::size_t>(max_d) + 3, 0);
    std::vector<std::vector<int>> trace;
    int found = -1;
    for (int d = 0; d <= max_d && found < 0; ++d) {
        trace.push_back(v);
        for (int k = -d; k <= d; k += 2) {
            int x = (k == -d || (k != d && v[k - 1 + offset] < v[k + 1 + offset]))
                        ? v[k + 1 + offset]
                        : v[k - 1 + offset] + 1;
            int y = x - k;
            while (x < n && y < m && same(a[x], b[y])) ++x, ++y;
            v[k + offset] = x;
            if (x >= n && y >= m) {
                found = d;
                break;
            }
        }
    }
    std::vector<Op> ops;
    if (found < 0) {  // too different: replace everything
        ops.assign(a.size(), Op::remove);
        ops.insert(ops.end(), b.size(), Op::add);
        return ops;
    }
    int x = n, y = m;
    for (int d = found; d > 0; --d) {
        const auto& pv = trace[d];
        const int k = x - y;
        const bool down = k == -d || (k != d && pv[k - 1 + offset] < pv[k + 1 + offset]);
        const int pk = down ? k + 1 : k - 1;
        const int px = pv[pk + offset], py = px - pk;
        while (x > px + (down ? 0 : 1) && y > py + (down ? 1 : 0)) {
            ops.push_back(Op::keep);
            --x, --y;
        }
        ops.push_back(down ? Op::add : Op::remove);
        x = px, y = py;
    }
    while (x > 0 && y > 0) ops.push_back(Op::keep), --x, --y;
    std::reverse(ops.begin(), ops.end());
    return ops;
}

void put(std::string& out, char sign, const Line& line) {
    out += sign;
    out.append(line.text);
    out += '\n';
    if (!line.newline) out += "\\ No newline at end of file\n";
}

}  // namespace

std::string unified_diff(std::string_view before, std::string_view after, const std::string& from,
                         const std::string& to, int context) {
    if (before == after) return {};
    if (binary(before) || binary(after)) return "Binary files " + from + " and " + to + " differ\n";
    const auto a = lines_of(before), b = lines_of(after);
    const auto ops = edit_script(a, b);
    std::string out = "--- " + from + "\n+++ " + to + "\n";
    // Walk the script; a hunk is a run of changes with up to `context` kept lines around
    // them (two changes closer than 2 * context share a hunk).
    std::size_t i = 0;
    int ai = 0, bi = 0;  // positions in a and b at ops[i]
    while (i < ops.size()) {
        if (ops[i] == Op::keep) {
            ++i, ++ai, ++bi;
            continue;
        }
        // Start of a hunk: back up over at most `context` kept lines.
        std::size_t start = i;
        int sa = ai, sb = bi, back = 0;
        while (start > 0 && ops[start - 1] == Op::keep && back < context)
            --start, --sa, --sb, ++back;
        // Extend: include changes and kept runs shorter than 2 * context + 1.
        std::size_t end = i;
        int ea = ai, eb = bi;
        while (end < ops.size()) {
            if (ops[end] != Op::keep) {
                if (ops[end] == Op::remove)
                    ++ea;
                else
                    ++eb;
                ++end;
                continue;
            }
            std::size_t run = end;
            while (run < ops.size() && ops[run] == Op::keep) ++run;
            const auto kept = static_cast<int>(run - end);
            if (run == ops.size() || kept > 2 * context) {
                const int tail = std::min(kept, context);
                end += static_cast<std::size_t>(tail), ea += tail, eb += tail;
                break;
            }
            end = run, ea += kept, eb += kept;
        }
        const int la = ea - sa, lb = eb - sb;
        const auto range = [](int first, int count) {
            std::string r = std::to_string(count == 0 ? first : first + 1);
            if (count != 1) {
                r += ',';
                r += std::to_string(count);
            }
            return r;
        };
        out += "@@ -";
        out += range(sa, la);
        out += " +";
        out += range(sb, lb);
        out += " @@\n";
        int xa = sa, xb = sb;
        for (std::size_t j = start; j < end; ++j) {
            if (ops[j] == Op::keep)
                put(out, ' ', a[static_cast<std::size_t>(xa)]), ++xa, ++xb;
            else if (ops[j] == Op::remove)
                put(out, '-', a[static_cast<std::size_t>(xa++)]);
            else
                put(out, '+', b[static_cast<std::size_t>(xb++)]);
        }
        i = end, ai = ea, bi = eb;
    }
    return out;
}

}  // namespace gossamer::runtime
