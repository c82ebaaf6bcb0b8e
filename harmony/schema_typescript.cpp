// JSON Schema -> harmony's TypeScript-like text. The rules, in the order harmony applies them,
// are written out in docs (harmony.md section 2.5); each quirk below is deliberate, since
// the model was trained on exactly this text.
#include "harmony/schema_typescript.h"

#include <charconv>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "harmony/text_join.h"

namespace gossamer::harmony {
namespace {

// open + body + close. (Also avoids GCC 12's false -Wrestrict on "literal" + std::string&&.)
std::string wrap(std::string_view open, std::string_view body, std::string_view close) {
    std::string out;
    out.reserve(open.size() + body.size() + close.size());
    out.append(open).append(body).append(close);
    return out;
}

// schema[key], or nullptr when schema is not an object or has no such key (serde's
// Value::get). A present null is returned: `"items": null` counts as present.
const Json* member(const Json& schema, const char* key) {
    if (!schema.is_object()) return nullptr;
    auto it = schema.find(key);
    return it == schema.end() ? nullptr : &*it;
}

const std::string* member_string(const Json& schema, const char* key) {
    const Json* value = member(schema, key);
    return value && value->is_string() ? value->get_ptr<const std::string*>() : nullptr;
}

bool is_enum(const Json& schema) {
    const Json* values = member(schema, "enum");
    return values && values->is_array() && !values->empty();
}

bool is_nullable(const Json& schema) {
    const Json* nullable = member(schema, "nullable");
    return nullable && nullable->is_boolean() && nullable->get<bool>();
}

// " | null" is added for nullable schemas unless the type text already mentions null.
std::string with_nullable(std::string type_text, const Json& schema) {
    if (is_nullable(schema) && type_text.find("null") == std::string::npos) type_text += " | null";
    return type_text;
}

// Text after "default: " for a plain property or a property's oneOf variant: strings are
// quoted, except enum strings, which are printed bare (`// default: celsius`).
std::string property_default_text(const Json& value, const Json& schema) {
    if (!value.is_string()) return to_serde_json_text(value);
    const auto& text = value.get_ref<const std::string&>();
    return is_enum(schema) ? text : wrap("\"", text, "\"");
}

// The same for a variant of a oneOf at schema level: here an enum string default keeps the
// JSON quotes (and escapes), and a non-enum string is quoted raw.
std::string inline_variant_default_text(const Json& value, const Json& schema) {
    if (value.is_string() && !is_enum(schema))
        return wrap("\"", value.get_ref<const std::string&>(), "\"");
    return to_serde_json_text(value);
}

std::string comment_suffix(const std::vector<std::string>& comments) {
    return comments.empty() ? std::string() : " // " + join(comments, " ");
}

// A oneOf as the whole schema: each variant on its own line, "\n{indent} | {type}".
std::string inline_one_of(const Json& variants, const std::string& indent) {
    std::string out;
    for (const Json& variant : variants) {
        out += "\n" + indent + " | ";
        out += with_nullable(schema_to_typescript(variant, indent + "   "), variant);
        std::vector<std::string> comments;
        if (const std::string* description = member_string(variant, "description"))
            comments.push_back(*description);
        if (const Json* value = member(variant, "default"))
            comments.push_back("default: " + inline_variant_default_text(*value, variant));
        out += comment_suffix(comments);
    }
    return out;
}

std::string type_union(const Json& types) {
    std::vector<std::string> names;
    for (const Json& type : types) {
        if (!type.is_string()) continue;
        const auto& name = type.get_ref<const std::string&>();
        names.push_back(name == "integer" ? "number" : name);
    }
    return join(names, " | ");
}

// Comments above a property: title (with an empty comment line after it), description
// (unless the property is a oneOf, which places it itself) and string examples.
std::string property_comments(const Json& property, const std::string& indent) {
    std::string out;
    if (const std::string* title = member_string(property, "title"))
        out += indent + "// " + *title + "\n" + indent + "//\n";
    if (!member(property, "oneOf"))
        if (const std::string* description = member_string(property, "description"))
            out += indent + "// " + *description + "\n";
    const Json* examples = member(property, "examples");
    if (examples && examples->is_array() && !examples->empty()) {
        out += indent + "// Examples:\n";
        for (const Json& example : *examples)
            if (example.is_string())
                out += indent + "// - \"" + example.get_ref<const std::string&>() + "\"\n";
    }
    return out;
}

// A property whose schema is a oneOf: description and default above the name, then one
// " | type // comment" line per variant, then a lone "," line.
std::string one_of_property(const std::string& key, bool required, const Json& property,
                            const Json& variants, const std::string& indent) {
    std::string out;
    const std::string* description = member_string(property, "description");
    const std::string* first_description =
        variants.empty() ? nullptr : member_string(variants.front(), "description");
    // Not printed above when the first variant repeats it (it then shows on that variant).
    bool description_above =
        description && !(first_description && *first_description == *description);
    if (description_above) out += indent + "// " + *description + "\n";
    if (const Json* value = member(property, "default"))
        out += indent + "// default: " + property_default_text(*value, property) + "\n";
    out += indent + key + (required ? "" : "?") + ":\n";
    for (std::size_t i = 0; i < variants.size(); ++i) {
        const Json& variant = variants[i];
        out +=
            indent + " | " + with_nullable(schema_to_typescript(variant, indent + "   "), variant);
        std::vector<std::string> comments;
        const std::string* variant_description = member_string(variant, "description");
        bool skip_description = i == 0 && description_above;
        if (variant_description && !skip_description &&
            !(description && *variant_description == *description))
            comments.push_back(*variant_description);
        if (const Json* value = member(variant, "default"))
            comments.push_back("default: " + property_default_text(*value, variant));
        out += comment_suffix(comments) + "\n";
    }
    out += indent + ",\n";
    return out;
}

std::string plain_property(const std::string& key, bool required, const Json& property,
                           const std::string& indent) {
    std::string out = indent + key + (required ? "" : "?") + ": ";
    out += with_nullable(schema_to_typescript(property, indent + "    "), property) + ",";
    if (!member(property, "oneOf"))
        if (const Json* value = member(property, "default"))
            out += " // default: " + property_default_text(*value, property);
    return out + "\n";
}

std::set<std::string> required_names(const Json& schema) {
    std::set<std::string> names;
    const Json* required = member(schema, "required");
    if (required && required->is_array())
        for (const Json& name : *required)
            if (name.is_string()) names.insert(name.get<std::string>());
    return names;
}

// "{\n" + one block per property + indent + "}". Nested objects are indented four more
// spaces on their property lines and closing brace, but their "{" follows the key directly.
std::string object_type(const Json& schema, const std::string& indent) {
    std::string out;
    if (const std::string* description = member_string(schema, "description"))
        out += indent + "// " + *description + "\n";
    out += "{\n";
    const Json* properties = member(schema, "properties");
    if (properties && properties->is_object()) {
        std::set<std::string> required = required_names(schema);
        for (const auto& [key, property] : properties->items()) {
            bool is_required = required.count(key) > 0;
            out += property_comments(property, indent);
            const Json* variants = member(property, "oneOf");
            if (variants && variants->is_array())
                out += one_of_property(key, is_required, property, *variants, indent);
            else
                out += plain_property(key, is_required, property, indent);
        }
    }
    return out + indent + "}";
}

std::string string_type(const Json& schema) {
    const Json* values = member(schema, "enum");
    std::vector<std::string> quoted;
    if (values && values->is_array())
        for (const Json& value : *values)
            if (value.is_string())
                quoted.push_back(wrap("\"", value.get_ref<const std::string&>(), "\""));
    return quoted.empty() ? "string" : join(quoted, " | ");
}

std::string named_type(const std::string& type, const Json& schema, const std::string& indent) {
    if (type == "object") return object_type(schema, indent);
    if (type == "string") return string_type(schema);
    if (type == "number" || type == "integer") return "number";
    if (type == "boolean") return "boolean";
    if (type == "array") {
        const Json* items = member(schema, "items");
        return items ? schema_to_typescript(*items, indent) + "[]" : "Array<any>";
    }
    return "any";
}

// Rust's shortest float text (the ryu crate's format64, which serde_json uses): plain
// decimals for decimal exponents in (-5, 16], otherwise "1.5e-7" / "1e21" (no '+', no
// zero padding). Always has a '.' or an 'e', so 20.0 stays "20.0".
std::string rust_float_text(double value) {
    char buffer[64];
    auto [end, ec] =
        std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
    if (ec != std::errc()) return "null";  // unreachable for finite doubles
    std::string text(buffer, end);         // "-1.2345e+06"
    std::string sign = text[0] == '-' ? "-" : "";
    if (!sign.empty()) text.erase(0, 1);
    std::size_t e_pos = text.find('e');
    std::string digits = text.substr(0, e_pos);
    if (digits.size() > 1) digits.erase(1, 1);  // drop the '.'
    int exponent = std::stoi(text.substr(e_pos + 1));
    int length = static_cast<int>(digits.size());
    int point = exponent + 1;  // digits before the decimal point
    if (length <= point && point <= 16)
        return sign + digits + std::string(static_cast<std::size_t>(point - length), '0') + ".0";
    if (0 < point && point <= 16)
        return sign + digits.substr(0, static_cast<std::size_t>(point)) + "." +
               digits.substr(static_cast<std::size_t>(point));
    if (-5 < point && point <= 0)
        return sign + "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
    std::string mantissa = length == 1 ? digits : digits.substr(0, 1) + "." + digits.substr(1);
    return sign + mantissa + "e" + std::to_string(point - 1);
}

}  // namespace

std::string to_serde_json_text(const Json& value) {
    switch (value.type()) {
        case Json::value_t::number_float:
            return rust_float_text(value.get<double>());
        case Json::value_t::array: {
            std::vector<std::string> items;
            for (const Json& item : value) items.push_back(to_serde_json_text(item));
            return wrap("[", join(items, ","), "]");
        }
        case Json::value_t::object: {
            std::vector<std::string> items;
            for (const auto& [key, item] : value.items())
                items.push_back(Json(key).dump() + ":" + to_serde_json_text(item));
            return wrap("{", join(items, ","), "}");
        }
        case Json::value_t::null:
        case Json::value_t::boolean:
        case Json::value_t::string:
        case Json::value_t::number_integer:
        case Json::value_t::number_unsigned:
        case Json::value_t::binary:
        case Json::value_t::discarded:
            break;
    }
    // Same escapes as serde_json (\" \\ \b \f \n \r \t, other controls as \u00xx); UTF-8
    // is kept as is and invalid UTF-8 cannot reach here (inputs are validated).
    return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string schema_to_typescript(const Json& schema, std::string_view indent_view) {
    std::string indent(indent_view);
    const Json* variants = member(schema, "oneOf");
    if (variants && variants->is_array()) return inline_one_of(*variants, indent);
    const Json* type = member(schema, "type");
    if (type && type->is_array()) {
        std::string text = type_union(*type);
        if (!text.empty()) return text;
    }
    if (type && type->is_string()) return named_type(type->get<std::string>(), schema, indent);
    return "any";
}

}  // namespace gossamer::harmony
