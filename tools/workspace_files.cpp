#include "tools/workspace_files.h"

#include <boost/asio/post.hpp>
#include <fstream>
#include <iterator>
#include <system_error>

#include "harmony/utf8.h"

namespace gossamer::tools {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

struct Refused {
    std::string why;
};

// `relative` inside `workspace`, or Refused. Resolves symlinks of the existing part so a
// link pointing outside cannot be followed.
fs::path inside(const fs::path& workspace, const std::string& relative) {
    if (relative.empty()) throw Refused{"path is empty"};
    const fs::path p(relative);
    if (p.is_absolute())
        throw Refused{"path must be relative to the workspace, got \"" + relative + "\""};
    for (const auto& part : p)
        if (part == "..") throw Refused{"path must not contain \"..\""};
    std::error_code ec;
    const fs::path root = fs::weakly_canonical(workspace, ec);
    const fs::path full = fs::weakly_canonical(workspace / p, ec);
    if (ec) throw Refused{"cannot resolve \"" + relative + "\": " + ec.message()};
    auto [r, f] = std::mismatch(root.begin(), root.end(), full.begin(), full.end());
    if (r != root.end()) throw Refused{"\"" + relative + "\" leads outside the workspace"};
    return full;
}

ToolOutput read_file(const Json& args, const fs::path& ws, std::size_t cap) {
    const fs::path path = inside(ws, args.at("path").get<std::string>());
    if (!fs::is_regular_file(path))
        throw Refused{"no such file: " + args.at("path").get<std::string>()};
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::size_t total = text.size();
    const std::size_t offset = args.value("offset", std::size_t{0});
    if (offset > total)
        throw Refused{"offset " + std::to_string(offset) + " is past the end (" +
                      std::to_string(total) + " bytes)"};
    text = text.substr(offset, cap);
    std::string out = harmony::utf8::to_valid_lossy(text);
    if (offset + text.size() < total)
        out += "\n[... file continues: " + std::to_string(total - offset - text.size()) +
               " more bytes; read again with offset " + std::to_string(offset + text.size()) + "]";
    return {out, false};
}

ToolOutput write_file(const Json& args, const fs::path& ws, std::size_t cap) {
    const std::string relative = args.at("path").get<std::string>();
    const std::string& content = args.at("content").get_ref<const std::string&>();
    if (content.size() > cap)
        throw Refused{"content is larger than the " + std::to_string(cap) + "-byte limit"};
    const fs::path path = inside(ws, relative);
    fs::create_directories(path.parent_path());
    const fs::path tmp = path.string() + ".gossamer-tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << content;
        if (!out.flush()) throw Refused{"cannot write " + relative};
    }
    fs::rename(tmp, path);
    return {"wrote " + std::to_string(content.size()) + " bytes to " + relative, false};
}

ToolOutput list_files(const Json& args, const fs::path& ws) {
    const std::string relative = args.value("path", std::string("."));
    const fs::path dir = relative == "." ? fs::weakly_canonical(ws) : inside(ws, relative);
    if (!fs::is_directory(dir)) throw Refused{"not a directory: " + relative};
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) {
        std::string name = entry.path().filename().string();
        if (entry.is_directory())
            name += "/";
        else if (entry.is_regular_file())
            name += "  (" + std::to_string(entry.file_size()) + " bytes)";
        names.push_back(harmony::utf8::to_valid_lossy(name));
    }
    std::sort(names.begin(), names.end());
    std::string out;
    for (const auto& n : names) out += n + "\n";
    return {out.empty() ? "(empty directory)" : out, false};
}

}  // namespace

harmony::ToolNamespace WorkspaceFiles::describe() const {
    harmony::ToolNamespace ns;
    ns.name = "functions";
    ns.tools.push_back({"read_file", "Reads a UTF-8 text file from the workspace.",
                        Json::parse(R"({"type":"object","properties":{
                            "path":{"type":"string","description":"Path relative to the workspace."},
                            "offset":{"type":"integer","minimum":0,"description":"Byte offset to start at."}},
                            "required":["path"],"additionalProperties":false})")});
    ns.tools.push_back({"write_file", "Creates or replaces a file in the workspace.",
                        Json::parse(R"({"type":"object","properties":{
                            "path":{"type":"string","description":"Path relative to the workspace."},
                            "content":{"type":"string"}},
                            "required":["path","content"],"additionalProperties":false})")});
    ns.tools.push_back({"list_files", "Lists a directory of the workspace.",
                        Json::parse(R"({"type":"object","properties":{
                            "path":{"type":"string","description":"Directory relative to the workspace (default: the workspace)."}},
                            "additionalProperties":false})")});
    return ns;
}

ToolOutput WorkspaceFiles::run(const ToolCall& call, const fs::path& workspace) const {
    try {
        const Json args = Json::parse(call.arguments.empty() ? "{}" : call.arguments);
        if (call.function == "read_file") return read_file(args, workspace, max_read_);
        if (call.function == "write_file") return write_file(args, workspace, max_write_);
        if (call.function == "list_files") return list_files(args, workspace);
        return {"unknown function " + call.function, true};
    } catch (const Refused& r) {
        return {r.why, true};
    } catch (const std::exception& e) {
        return {std::string("error: ") + e.what(), true};
    }
}

void WorkspaceFiles::invoke(const ToolCall& call, const ToolContext& context, ToolDone done) {
    boost::asio::post(context.executor, [this, call, workspace = context.workspace,
                                         done = std::move(done)] { done(run(call, workspace)); });
}

}  // namespace gossamer::tools
