// Reading agent-spec YAML strictly: the field path and FILE:LINE:COLUMN of every error
// (SpecError), unknown and duplicate keys refused, numbers checked against their ranges. Used
// by the spec parser and by each tool kind's options parser (tool_kinds.h). Reading only.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include "runtime/agent_spec.h"

namespace gossamer::runtime {

// Walks the YAML tree, remembering the field path for messages.
class SpecReader {
  public:
    explicit SpecReader(std::string origin) : origin_(std::move(origin)) {}

    [[noreturn]] void fail(const YAML::Node& at, const std::string& field,
                           const std::string& what) const {
        const auto mark = at.Mark();
        std::string where = origin_;
        if (mark.line >= 0)
            where += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
        throw SpecError(where + ": " + field + ": " + what);
    }

    // yaml-cpp keeps every duplicate key and lookups see the first: refuse them anywhere.
    void no_duplicate_keys(const YAML::Node& n, const std::string& field) const {
        if (n.IsSequence())
            for (std::size_t i = 0; i < n.size(); ++i)
                no_duplicate_keys(n[i], field + "[" + std::to_string(i) + "]");
        if (!n.IsMap()) return;
        std::set<std::string> seen;
        for (const auto& kv : n) {
            if (!kv.first.IsScalar()) fail(kv.first, field, "a key must be a plain name");
            const std::string key = kv.first.Scalar();
            if (!seen.insert(key).second)
                fail(kv.first, join(field, key), "duplicate key (each key may appear once)");
            no_duplicate_keys(kv.second, join(field, key));
        }
    }

    // "FILE:LINE:COLUMN" of a node.
    std::string where(const YAML::Node& at) const {
        const auto mark = at.Mark();
        if (mark.line < 0) return origin_;
        return origin_ + ":" + std::to_string(mark.line + 1) + ":" +
               std::to_string(mark.column + 1);
    }

    void require_map(const YAML::Node& n, const std::string& field) const {
        if (!n.IsMap()) fail(n, field, "expected a mapping");
    }

    // Every key of `n` must be in `known`.
    void only_keys(const YAML::Node& n, const std::string& field,
                   std::initializer_list<const char*> known) const {
        require_map(n, field);
        for (const auto& kv : n) {
            if (!kv.first.IsScalar()) fail(kv.first, field, "a key must be a plain name");
            const std::string key = kv.first.as<std::string>();
            if (std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; })) {
                std::string list;
                for (const char* k : known) list += std::string(list.empty() ? "" : ", ") + k;
                fail(kv.first, join(field, key), "unknown key (expected one of: " + list + ")");
            }
        }
    }

    std::string text(const YAML::Node& n, const std::string& field) const {
        if (!n.IsScalar()) fail(n, field, "expected a string");
        return n.as<std::string>();
    }

    bool boolean(const YAML::Node& n, const std::string& field) const {
        bool value = false;
        if (!n.IsScalar() || !YAML::convert<bool>::decode(n, value))
            fail(n, field, "expected true or false");
        return value;
    }

    double number(const YAML::Node& n, const std::string& field, double lo, double hi) const {
        double value = 0;
        if (!n.IsScalar() || !YAML::convert<double>::decode(n, value) || !std::isfinite(value))
            fail(n, field, "expected a number");
        if (value < lo || value > hi)
            fail(n, field, "must be in [" + fmt(lo) + ", " + fmt(hi) + "], got " + fmt(value));
        return value;
    }

    int integer(const YAML::Node& n, const std::string& field, long long lo, long long hi) const {
        long long value = 0;
        if (!n.IsScalar() || !YAML::convert<long long>::decode(n, value))
            fail(n, field, "expected an integer");
        if (value < lo || value > hi)
            fail(n, field,
                 "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                     std::to_string(value));
        return static_cast<int>(value);
    }

    std::vector<std::string> texts(const YAML::Node& n, const std::string& field) const {
        if (!n.IsSequence()) fail(n, field, "expected a list of strings");
        std::vector<std::string> out;
        for (std::size_t i = 0; i < n.size(); ++i)
            out.push_back(text(n[i], field + "[" + std::to_string(i) + "]"));
        return out;
    }

    static std::string join(const std::string& field, const std::string& key) {
        return field.empty() ? key : field + "." + key;
    }

  private:
    static std::string fmt(double v) {
        char b[32];
        std::snprintf(b, sizeof b, "%g", v);
        return b;
    }
    std::string origin_;
};

// Calls `f(value_node, field)` for each key present.
template <typename F>
inline void each(const YAML::Node& map, const std::string& field, const char* key, F f) {
    if (const YAML::Node n = map[key]; n && !n.IsNull()) {
        const std::string where = SpecReader::join(field, key);
        f(n, where);
    }
}

}  // namespace gossamer::runtime
