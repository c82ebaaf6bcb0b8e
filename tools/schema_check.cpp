#include "tools/schema_check.h"

#include <algorithm>
#include <cmath>

namespace gossamer::tools {
namespace {

using Json = nlohmann::ordered_json;

std::string type_name(const Json& v) {
    switch (v.type()) {
        case Json::value_t::null:
            return "null";
        case Json::value_t::boolean:
            return "boolean";
        case Json::value_t::number_integer:
        case Json::value_t::number_unsigned:
            return "integer";
        case Json::value_t::number_float:
            return "number";
        case Json::value_t::string:
            return "string";
        case Json::value_t::array:
            return "array";
        case Json::value_t::object:
            return "object";
        default:
            return "value";
    }
}

bool is_type(const Json& v, const std::string& type) {
    if (type == "integer")
        return v.is_number_integer() ||
               (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
    if (type == "number") return v.is_number();
    if (type == "string") return v.is_string();
    if (type == "boolean") return v.is_boolean();
    if (type == "object") return v.is_object();
    if (type == "array") return v.is_array();
    if (type == "null") return v.is_null();
    return true;  // unknown type names constrain nothing
}

class Checker {
  public:
    explicit Checker(std::size_t limit) : limit_(limit) {}
    std::vector<std::string> problems;

    void check(const Json& v, const Json& s, const std::string& path) {
        if (!s.is_object() || full()) return;
        if (!type_ok(v, s, path)) return;
        if (auto it = s.find("enum");
            it != s.end() && it->is_array() && std::find(it->begin(), it->end(), v) == it->end())
            return add(path, "must be one of " + it->dump() + ", got " + v.dump());
        if (auto it = s.find("const"); it != s.end() && *it != v)
            return add(path, "must be " + it->dump() + ", got " + v.dump());
        numbers(v, s, path);
        if (v.is_string()) lengths(v, s, path);
        if (v.is_array()) array(v, s, path);
        if (v.is_object()) object(v, s, path);
        alternatives(v, s, path);
    }

  private:
    bool full() const { return problems.size() >= limit_; }
    void add(const std::string& path, const std::string& what) {
        if (!full()) problems.push_back(path + ": " + what);
    }

    bool type_ok(const Json& v, const Json& s, const std::string& path) {
        auto it = s.find("type");
        if (it == s.end()) return true;
        std::vector<std::string> types;
        if (it->is_string()) types.push_back(it->get<std::string>());
        if (it->is_array())
            for (const auto& t : *it)
                if (t.is_string()) types.push_back(t.get<std::string>());
        for (const auto& t : types)
            if (is_type(v, t)) return true;
        if (types.empty()) return true;
        std::string wanted = types[0];
        for (std::size_t i = 1; i < types.size(); ++i) wanted += " or " + types[i];
        add(path, "expected " + wanted + ", got " + type_name(v));
        return false;
    }

    void numbers(const Json& v, const Json& s, const std::string& path) {
        if (!v.is_number()) return;
        const double x = v.get<double>();
        if (auto it = s.find("minimum"); it != s.end() && it->is_number() && x < it->get<double>())
            add(path, "must be >= " + it->dump() + ", got " + v.dump());
        if (auto it = s.find("maximum"); it != s.end() && it->is_number() && x > it->get<double>())
            add(path, "must be <= " + it->dump() + ", got " + v.dump());
    }

    // Lengths count Unicode code points, as JSON Schema does.
    void lengths(const Json& v, const Json& s, const std::string& path) {
        const auto& text = v.get_ref<const std::string&>();
        const auto n = static_cast<std::size_t>(
            std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
        if (auto it = s.find("minLength");
            it != s.end() && it->is_number_unsigned() && n < it->get<std::size_t>())
            add(path, "must have at least " + it->dump() + " characters");
        if (auto it = s.find("maxLength");
            it != s.end() && it->is_number_unsigned() && n > it->get<std::size_t>())
            add(path, "must have at most " + it->dump() + " characters");
    }

    void array(const Json& v, const Json& s, const std::string& path) {
        if (auto it = s.find("minItems");
            it != s.end() && it->is_number_unsigned() && v.size() < it->get<std::size_t>())
            add(path, "must have at least " + it->dump() + " items");
        if (auto it = s.find("maxItems");
            it != s.end() && it->is_number_unsigned() && v.size() > it->get<std::size_t>())
            add(path, "must have at most " + it->dump() + " items");
        if (auto it = s.find("items"); it != s.end() && it->is_object())
            for (std::size_t i = 0; i < v.size(); ++i)
                check(v[i], *it, path + "[" + std::to_string(i) + "]");
    }

    void object(const Json& v, const Json& s, const std::string& path) {
        const Json* properties = nullptr;
        if (auto it = s.find("properties"); it != s.end() && it->is_object()) properties = &*it;
        if (auto it = s.find("required"); it != s.end() && it->is_array())
            for (const auto& name : *it)
                if (name.is_string() && !v.contains(name.get<std::string>()))
                    add(path, "missing required property \"" + name.get<std::string>() + "\"");
        const auto extra = s.find("additionalProperties");
        for (const auto& [key, value] : v.items()) {
            const std::string where = path + "." + key;
            if (properties && properties->contains(key)) {
                check(value, (*properties)[key], where);
            } else if (extra != s.end() && extra->is_boolean() && !extra->get<bool>()) {
                add(path, "unknown property \"" + key + "\"");
            } else if (extra != s.end() && extra->is_object()) {
                check(value, *extra, where);
            }
        }
    }

    // anyOf: one branch must pass; oneOf: exactly one. Branch problems are summarised.
    void alternatives(const Json& v, const Json& s, const std::string& path) {
        for (const char* keyword : {"anyOf", "oneOf"}) {
            auto it = s.find(keyword);
            if (it == s.end() || !it->is_array() || it->empty()) continue;
            std::size_t passing = 0;
            for (const auto& branch : *it) {
                Checker inner(1);
                inner.check(v, branch, path);
                passing += inner.problems.empty();
            }
            const bool any = std::string(keyword) == "anyOf";
            if (passing == 0)
                add(path, "matches none of the allowed forms (" + std::string(keyword) + ")");
            else if (!any && passing > 1)
                add(path, "matches more than one form of oneOf");
        }
    }

    std::size_t limit_;
};

}  // namespace

std::vector<std::string> check_against_schema(const nlohmann::ordered_json& value,
                                              const nlohmann::ordered_json& schema,
                                              std::size_t limit) {
    Checker checker(limit);
    checker.check(value, schema, "$");
    return checker.problems;
}

}  // namespace gossamer::tools
