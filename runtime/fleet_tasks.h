// The tasks of a fleet: the lines of a tasks file (JSON lines, `{"task": "...", "vars": {...},
// "id": "..."}`, all keys optional) parsed strictly, and one task's spec made from the fleet's
// template: every `{{name}}` in the template's strings replaced by the task's var (`{{id}}` is
// the task's id), and its `task` replacing the template's. Untrusted input: every error names
// the file and line, nothing is half parsed (fuzzed by tests/fuzz/fuzz_fleet_tasks). Pure:
// no files, no sessions.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gossamer::runtime {

struct TaskLine {
    int line = 0;    // 1-based, in the tasks file
    std::string id;  // given, else "task-<line>"
    std::optional<std::string> task;
    std::vector<std::pair<std::string, std::string>> vars;  // numbers and booleans as text
};

// Throws SpecError ("FILE:LINE: what"): not JSON, not an object, unknown keys, wrong types, a
// var name that is not [A-Za-z_][A-Za-z0-9_]*, duplicate ids, no task at all (empty file).
std::vector<TaskLine> parse_task_lines(const std::string& text, const std::string& origin);

// The YAML of `task`'s spec. Throws SpecError for a placeholder the task has no var for, and
// when the template has outputs that every task would write to the same file (no `{{id}}`
// or other var in the path) and there is more than one task.
std::string instantiate_spec(const std::string& yaml, const std::string& origin,
                             const TaskLine& task, std::size_t task_count);

}  // namespace gossamer::runtime
