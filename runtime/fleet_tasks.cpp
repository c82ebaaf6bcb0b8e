#include "runtime/fleet_tasks.h"

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <set>

#include "harmony/utf8.h"
#include "runtime/agent_spec.h"

namespace gossamer::runtime {

namespace {

using Json = nlohmann::json;

bool valid_name(const std::string& name) {
    if (name.empty() || name.size() > 64) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (i > 0 && c >= '0' && c <= '9');
        if (!ok) return false;
    }
    return true;
}

// Replaces every {{name}} (name as in valid_name, spaces allowed around it) in `text`; any
// other "{{...}}" is literal text (code in a task may hold braces). Throws naming the first
// placeholder the task has no var for.
std::string fill(const std::string& text, const TaskLine& task, const std::string& where) {
    std::string out;
    std::size_t at = 0;
    while (true) {
        const auto open = text.find("{{", at);
        if (open == std::string::npos) break;
        const auto close = text.find("}}", open + 2);
        if (close == std::string::npos) break;
        std::string name = text.substr(open + 2, close - open - 2);
        while (!name.empty() && name.front() == ' ') name.erase(0, 1);
        while (!name.empty() && name.back() == ' ') name.pop_back();
        if (!valid_name(name)) {  // not a placeholder: keep the first brace, look again after it
            out.append(text, at, open + 1 - at);
            at = open + 1;
            continue;
        }
        out.append(text, at, open - at);
        const std::string* value = nullptr;
        if (name == "id") value = &task.id;
        for (const auto& [k, v] : task.vars)
            if (k == name) value = &v;
        if (!value)
            throw SpecError(where + ": task '" + task.id + "' has no var '" + name + "' for {{" +
                            name + "}} (give it in the task's \"vars\")");
        out += *value;
        at = close + 2;
    }
    out.append(text, at, std::string::npos);
    return out;
}

void fill_node(YAML::Node node, const TaskLine& task, const std::string& where) {
    if (node.IsScalar()) {
        const std::string text = node.Scalar();
        if (text.find("{{") != std::string::npos) node = fill(text, task, where);
    } else if (node.IsSequence()) {
        for (std::size_t i = 0; i < node.size(); ++i) fill_node(node[i], task, where);
    } else if (node.IsMap()) {
        for (auto kv : node) fill_node(kv.second, task, where);
    }
}

bool has_placeholder(const YAML::Node& n) {
    if (!n || !n.IsScalar()) return false;
    TaskLine probe;  // a placeholder is what fill() would replace
    probe.id = "x";
    try {
        return fill(n.Scalar(), probe, "") != n.Scalar();
    } catch (const SpecError&) {
        return true;  // a placeholder for some var
    }
}

}  // namespace

std::vector<TaskLine> parse_task_lines(const std::string& text, const std::string& origin) {
    std::vector<TaskLine> out;
    std::set<std::string> ids;
    std::size_t start = 0;
    int line_no = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        start = end + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        const std::string where = origin + ":" + std::to_string(line_no);
        if (harmony::utf8::valid_prefix(line) != line.size())
            throw SpecError(where + ": not UTF-8 text");
        Json j;
        try {
            j = Json::parse(line);
        } catch (const Json::exception& e) {  // parse errors, and numbers out of range
            throw SpecError(where + ": not JSON (" + e.what() + ")");
        }
        if (!j.is_object())
            throw SpecError(where + ": expected a JSON object {\"task\", \"vars\", \"id\"}");
        TaskLine t;
        t.line = line_no;
        for (const auto& [key, value] : j.items()) {
            if (key == "task") {
                if (!value.is_string() || value.get<std::string>().empty())
                    throw SpecError(where + ": task: expected a non-empty string");
                t.task = value.get<std::string>();
            } else if (key == "id") {
                if (!value.is_string() || value.get<std::string>().empty() ||
                    value.get<std::string>().size() > 200)
                    throw SpecError(where + ": id: expected a string of 1 to 200 characters");
                t.id = value.get<std::string>();
            } else if (key == "vars") {
                if (!value.is_object())
                    throw SpecError(where + ": vars: expected an object of names to values");
                for (const auto& [name, v] : value.items()) {
                    if (!valid_name(name))
                        throw SpecError(where + ": vars: '" + name +
                                        "' is not a name ([A-Za-z_][A-Za-z0-9_]*)");
                    if (v.is_string())
                        t.vars.emplace_back(name, v.get<std::string>());
                    else if (v.is_number() || v.is_boolean())
                        t.vars.emplace_back(name, v.dump());
                    else
                        throw SpecError(where + ": vars." + name +
                                        ": expected a string, number or boolean");
                }
            } else {
                throw SpecError(where + ": unknown key '" + key + "' (expected task, vars, id)");
            }
        }
        if (t.id.empty()) t.id = "task-" + std::to_string(line_no);
        if (!ids.insert(t.id).second)
            throw SpecError(where + ": id '" + t.id + "' is used by an earlier task");
        out.push_back(std::move(t));
    }
    if (out.empty()) throw SpecError(origin + ": no tasks (one JSON object per line)");
    return out;
}

std::string instantiate_spec(const std::string& yaml, const std::string& origin,
                             const TaskLine& task, std::size_t task_count) {
    YAML::Node root;
    try {
        root = YAML::Load(yaml);
    } catch (const YAML::Exception& e) {
        throw SpecError(origin + ": invalid YAML: " + e.msg);
    }
    if (!root.IsMap()) throw SpecError(origin + ": the spec must be a mapping");
    if (task_count > 1 && root["outputs"] && root["outputs"].IsMap()) {
        for (const char* key : {"final_answer", "report"}) {
            const YAML::Node path = root["outputs"][key];
            if (path && path.IsScalar() && !has_placeholder(path))
                throw SpecError(origin + ": outputs." + key +
                                ": every task of the fleet would "
                                "write the same file '" +
                                path.Scalar() + "'; put {{id}} in the path (e.g. out/{{id}}.json)");
        }
    }
    if (task.task) {
        root.remove("task_file");
        root["task"] = *task.task;
    }
    fill_node(root, task, origin + " (task line " + std::to_string(task.line) + ")");
    YAML::Emitter out;
    out << root;
    if (!out.good())
        throw SpecError(origin + ": cannot write the task's spec: " + out.GetLastError());
    return std::string(out.c_str()) + "\n";
}

}  // namespace gossamer::runtime
