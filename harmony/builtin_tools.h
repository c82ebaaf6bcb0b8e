// The built-in tool namespaces that go into the system message (browser, python), as data:
// harmony's defaults and gpt-oss's variants, built from the texts in prompts/. It only
// describes the tools to the model; running them is tools/'s job.
#pragma once

#include <string_view>

#include "harmony/message.h"

namespace gossamer::harmony::builtin_tools {

// harmony's ToolNamespaceConfig::browser(): search/open/find, the description ending
// "sources=web (default: web)" (fixtures test_browser_*).
ToolNamespace browser();
// gpt-oss's SimpleBrowserTool: the same tools, the description ending "sources=<source>"
// (the backend's name, e.g. "web").
ToolNamespace browser_with_source(std::string_view source);

// harmony's ToolNamespaceConfig::python(): a stateful Jupyter kernel with /mnt/data.
ToolNamespace python_stateful();
// gpt-oss's docker/uv python tool: a fresh process per call; output only through print.
ToolNamespace python_stateless();

}  // namespace gossamer::harmony::builtin_tools
