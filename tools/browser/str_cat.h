// cat({...}): string concatenation in one allocation. The browser builds its displays from
// many small pieces; `"literal" + std::string` chains also trip a GCC 12 -Wrestrict false
// positive under -O3. Nothing else belongs here.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace gossamer::tools::browser {

inline std::string cat(std::initializer_list<std::string_view> parts) {
    std::size_t n = 0;
    for (std::string_view p : parts) n += p.size();
    std::string out;
    out.reserve(n);
    for (std::string_view p : parts) out.append(p);
    return out;
}

}  // namespace gossamer::tools::browser
