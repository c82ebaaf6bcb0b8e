#include "runtime/events.h"

namespace gossamer::runtime {

nlohmann::ordered_json Event::to_json() const {
    nlohmann::ordered_json out;
    out["event"] = kind;
    out["session"] = session;
    for (const auto& [key, value] : data.items()) out[key] = value;
    return out;
}

}  // namespace gossamer::runtime
