// A unified diff of two texts (`diff -u` / git's format: ---/+++ headers, @@ hunks with three
// lines of context, "\ No newline at end of file"), computed with Myers' O(ND) algorithm on
// lines. Binary contents (a NUL in the first 8 KB, as git decides) give git's "Binary files
// ... differ" line. Pure: text in, text out; used by `gossamer sessions diff`.
#pragma once

#include <string>
#include <string_view>

namespace gossamer::runtime {

// "" when the texts are equal. `from` / `to` name the sides ("a/path", "/dev/null").
std::string unified_diff(std::string_view before, std::string_view after, const std::string& from,
                         const std::string& to, int context = 3);

}  // namespace gossamer::runtime
