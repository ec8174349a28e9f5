// Helpers for the loader tests: the seed organisation from config/org.yaml,
// a check registry with the documented built-in names, file reading, and a
// compact view of load errors.
#ifndef APPROVALD_TESTS_ENGINE_CORE_LOADER_TEST_UTIL_H_
#define APPROVALD_TESTS_ENGINE_CORE_LOADER_TEST_UTIL_H_

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "approvald/org.h"
#include "core/checks.h"
#include "core/load_error.h"
#include "core/org_loader.h"
#include "core/workflow_loader.h"

namespace approvald::testing {

inline std::filesystem::path SourceDir() { return APPROVAL_SOURCE_DIR; }

inline std::string ReadTextFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// config/org.yaml, loaded once. Aborts the test binary if it does not load:
// every loader test depends on it.
inline const Org& SeedOrg() {
  static const Org* org = [] {
    OrgLoad load =
        LoadOrg(ReadTextFile(SourceDir() / "config/org.yaml"), "config/org.yaml");
    if (!load.org) {
      std::string all;
      for (const LoadError& e : load.errors) all += e.ToString() + "\n";
      throw std::runtime_error("config/org.yaml does not load:\n" + all);
    }
    return new Org(std::move(*load.org));
  }();
  return *org;
}

// The check names the loader tests rely on (the built-ins named in
// workflows/README.md), independent of how far the real checks are.
inline const CheckRegistry& TestChecks() {
  static const CheckRegistry* checks = [] {
    auto* r = new CheckRegistry;
    for (const char* name : {"decision_register", "duplicate_invoice", "expense_standard",
                             "large_amount", "passed_decision", "procurement_method",
                             "required_by_category", "split_purchase"}) {
      r->Register(
          name, [](const CheckInput&) -> Result<CheckOutcome> { return CheckOutcome{}; });
    }
    return r;
  }();
  return *checks;
}

inline std::vector<std::string> ErrorLines(const std::vector<LoadError>& errors) {
  std::vector<std::string> out;
  for (const LoadError& e : errors) out.push_back(e.ToString());
  return out;
}

// Loads `yaml` as "test.yaml" against the seed organisation.
inline WorkflowLoad Load(const std::string& yaml) {
  return LoadWorkflow(yaml, "test.yaml", SeedOrg(), TestChecks());
}

}  // namespace approvald::testing

#endif  // APPROVALD_TESTS_ENGINE_CORE_LOADER_TEST_UTIL_H_
