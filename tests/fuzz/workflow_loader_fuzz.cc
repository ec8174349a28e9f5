// Fuzz target: a workflow file (core/workflow_loader.h) against the real
// organisation and the built-in checks. The loader must never crash or
// throw, every error must carry a position inside the text, and a definition
// it accepts must survive what the daemon then does with it: registering it
// and drawing its diagrams.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "core/checks.h"
#include "core/diagram.h"
#include "core/org_loader.h"
#include "core/registry.h"
#include "core/workflow_loader.h"

namespace {

using namespace approvald;  // NOLINT: a test harness

const Org& RealOrg() {
  static const Org* org = [] {
    std::ifstream in(std::string(APPROVAL_SOURCE_DIR) + "/config/org.yaml");
    std::stringstream text;
    text << in.rdbuf();
    OrgLoad load = LoadOrg(text.str(), "org.yaml");
    if (!load.org) {
      std::fprintf(stderr, "fuzz harness: config/org.yaml does not load\n");
      std::abort();
    }
    return new Org(std::move(*load.org));
  }();
  return *org;
}

[[noreturn]] void Fail(const char* why, const std::string& detail) {
  std::fprintf(stderr, "fuzz oracle: %s: %s\n", why, detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  WorkflowLoad load = LoadWorkflow(text, "fuzz.yaml", RealOrg(), CheckRegistry::Builtin());
  if (load.def.has_value() == !load.errors.empty()) {
    Fail("a load must yield either a definition or errors", std::to_string(load.errors.size()));
  }
  const int lines = 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  for (const LoadError& e : load.errors) {
    if (e.message.empty()) Fail("an error without a message", e.ToString());
    if (e.loc.line < 0 || e.loc.line > lines || e.loc.column < 0) {
      Fail("an error outside the text", e.ToString());
    }
  }
  if (!load.def) return 0;
  WorkflowDef def = std::move(*load.def);
  def.hash = "sha256:fuzz";
  (void)DescribeWorkflow(def);
  (void)DiagramDot(def);
  (void)DiagramMermaid(def);
  WorkflowRegistry registry;
  auto reg = registry.Register(def);
  if (!def.id.empty() && !reg) Fail("an accepted definition does not register", def.id);
  return 0;
}
