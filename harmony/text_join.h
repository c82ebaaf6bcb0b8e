// join(): the one string helper the renderer and the schema printer share. Nothing else
// belongs here; text rules that are harmony's own live in the file that renders them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gossamer::harmony {

// parts[0] + separator + parts[1] + ...; "" for no parts.
inline std::string join(const std::vector<std::string>& parts, std::string_view separator) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i > 0) out += separator;
        out += parts[i];
    }
    return out;
}

}  // namespace gossamer::harmony
