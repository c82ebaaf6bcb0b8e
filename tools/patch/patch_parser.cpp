#include "tools/patch/patch_parser.h"

#include <string_view>

namespace gossamer::tools::patch {

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at <= text.size()) {
        std::size_t nl = text.find('\n', at);
        if (nl == std::string::npos) nl = text.size();
        std::string line = text.substr(at, nl - at);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        out.push_back(std::move(line));
        at = nl + 1;
    }
    if (!out.empty() && out.back().empty()) out.pop_back();  // the final newline
    return out;
}

bool starts(std::string_view line, std::string_view prefix) {
    return line.substr(0, prefix.size()) == prefix;
}

std::string trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return std::string(s);
}

[[noreturn]] void fail(std::size_t index, const std::string& what) {
    throw PatchError("line " + std::to_string(index + 1) + ": " + what);
}

std::string path_after(const std::string& line, std::string_view header, std::size_t index) {
    std::string path = trimmed(std::string_view(line).substr(header.size()));
    if (path.empty()) fail(index, "missing the path after '" + std::string(header) + "'");
    return path;
}

constexpr std::string_view kBegin = "*** Begin Patch";
constexpr std::string_view kEnd = "*** End Patch";
constexpr std::string_view kAdd = "*** Add File: ";
constexpr std::string_view kDelete = "*** Delete File: ";
constexpr std::string_view kUpdate = "*** Update File: ";
constexpr std::string_view kMove = "*** Move to: ";
constexpr std::string_view kEof = "*** End of File";

}  // namespace

std::vector<FileOp> parse_patch(const std::string& text) {
    const auto lines = lines_of(text);
    std::size_t i = 0, last = lines.size();
    while (i < last && trimmed(lines[i]).empty()) ++i;
    while (last > i && trimmed(lines[last - 1]).empty()) --last;
    if (i >= last || trimmed(lines[i]) != kBegin)
        fail(i < lines.size() ? i : 0, "a patch must start with '*** Begin Patch'");
    if (last - 1 == i || trimmed(lines[last - 1]) != kEnd)
        fail(last - 1, "a patch must end with '*** End Patch'");
    ++i;
    --last;  // [i, last) is the body
    std::vector<FileOp> ops;
    while (i < last) {
        const std::string& line = lines[i];
        if (starts(line, kAdd)) {
            AddFile add{path_after(line, kAdd, i), {}};
            for (++i; i < last && !starts(lines[i], "*** "); ++i) {
                if (lines[i].empty() || lines[i][0] != '+')
                    fail(i, "every line of an added file starts with '+' (got '" +
                                lines[i].substr(0, 40) + "')");
                add.lines.push_back(lines[i].substr(1));
            }
            ops.emplace_back(std::move(add));
        } else if (starts(line, kDelete)) {
            ops.emplace_back(DeleteFile{path_after(line, kDelete, i)});
            ++i;
        } else if (starts(line, kUpdate)) {
            UpdateFile up{path_after(line, kUpdate, i), std::nullopt, {}};
            ++i;
            if (i < last && starts(lines[i], kMove)) {
                up.move_to = path_after(lines[i], kMove, i);
                ++i;
            }
            while (i < last && !(starts(lines[i], "*** ") && lines[i] != kEof)) {
                Hunk h;
                h.line = static_cast<int>(i + 1);
                if (starts(lines[i], "@@")) {
                    h.anchor = trimmed(std::string_view(lines[i]).substr(2));
                    ++i;
                } else if (!up.hunks.empty()) {
                    fail(i, "expected '@@' to start the next hunk, got '" + lines[i].substr(0, 40) +
                                "'");
                }
                for (; i < last && !starts(lines[i], "@@") && !starts(lines[i], "*** "); ++i) {
                    const std::string& l = lines[i];
                    if (l.empty()) {
                        h.lines.push_back({' ', ""});  // a blank context line lost its space
                    } else if (l[0] == ' ' || l[0] == '-' || l[0] == '+') {
                        h.lines.push_back({l[0], l.substr(1)});
                    } else {
                        fail(i, "a hunk line starts with ' ', '-' or '+' (got '" + l.substr(0, 40) +
                                    "')");
                    }
                }
                if (i < last && lines[i] == kEof) h.end_of_file = true, ++i;
                if (h.lines.empty()) fail(static_cast<std::size_t>(h.line - 1), "an empty hunk");
                up.hunks.push_back(std::move(h));
            }
            if (up.hunks.empty() && !up.move_to)
                fail(i - 1, "'*** Update File: " + up.path + "' has no hunks");
            ops.emplace_back(std::move(up));
        } else if (trimmed(line).empty()) {
            ++i;
        } else {
            fail(i, "expected '*** Add File: ', '*** Delete File: ' or '*** Update File: ', got '" +
                        line.substr(0, 60) + "'");
        }
    }
    if (ops.empty()) fail(0, "the patch holds no file operation");
    return ops;
}

}  // namespace gossamer::tools::patch
