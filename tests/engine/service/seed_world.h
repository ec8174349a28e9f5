// The seed unit as shipped, for service tests: config/org.yaml, every
// workflows/*.yaml, config/unit.yaml with config/procurement-catalogue.yaml
// and config/holidays.yaml, loaded through the same core loaders the daemon
// uses, and an Engine over a given Store with a FakeClock. Helpers act as
// named people and read back what reached the trail and the audit log.
#ifndef APPROVALD_TESTS_ENGINE_SERVICE_SEED_WORLD_H_
#define APPROVALD_TESTS_ENGINE_SERVICE_SEED_WORLD_H_

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "audit/leaf.h"
#include "core/events.h"
#include "core/record_util.h"
#include "core/registry.h"
#include "core/unit_config.h"
#include "core/workflow_loader.h"
#include "loader_test_util.h"
#include "service/engine.h"

namespace approvald::testing {

class SeedWorld {
 public:
  // `store` must outlive the world. The clock starts at `start`.
  SeedWorld(Store& store, Timestamp start) : store_(store), clock_(start) {
    spdlog::set_level(spdlog::level::warn);  // one line per event is noise here
    org_ = std::make_shared<const Org>(SeedOrg());
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(SourceDir() / "workflows"))
      if (e.path().extension() == ".yaml") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
      std::string rel = "workflows/" + path.filename().string();
      WorkflowLoad load = LoadWorkflow(ReadTextFile(path), rel, *org_, CheckRegistry::Builtin());
      if (!load.def) {
        ADD_FAILURE() << rel << " does not load: "
                      << ::testing::PrintToString(ErrorLines(load.errors));
        continue;
      }
      load.def->hash = "sha256:" + load.def->id;
      EXPECT_TRUE(registry_.Register(std::move(*load.def)).has_value()) << rel;
    }
    UnitConfigLoad unit = LoadUnitConfig(
        ReadTextFile(SourceDir() / "config/unit.yaml"), "config/unit.yaml",
        ReadTextFile(SourceDir() / "config/procurement-catalogue.yaml"),
        "config/procurement-catalogue.yaml", org_.get());
    EXPECT_TRUE(unit.config.has_value()) << ::testing::PrintToString(ErrorLines(unit.errors));
    CalendarLoad cal =
        LoadHolidayCalendar(ReadTextFile(SourceDir() / "config/holidays.yaml"),
                            "config/holidays.yaml");
    EXPECT_TRUE(cal.calendar.has_value()) << ::testing::PrintToString(ErrorLines(cal.errors));
    EngineOptions options;
    options.unit_config = unit.config.value_or(Value::Record());
    options.calendar = cal.calendar.value_or(Calendar());
    engine_ = std::make_unique<Engine>(std::move(options), store_, clock_, org_, registry_,
                                       nullptr);
  }

  Engine& engine() { return *engine_; }
  FakeClock& clock() { return clock_; }

  void SetTime(const char* shanghai) {
    auto t = ParseTimestamp(shanghai);
    ASSERT_TRUE(t.has_value()) << shanghai;
    clock_.Set(*t);
  }

  Result<InstanceView> Submit(const std::string& workflow, const std::string& who,
                              FormData form) {
    SubmitRequest r;
    r.workflow = workflow;
    r.actor = PersonId(who);
    r.data = std::move(form);
    return engine_->Submit(r);
  }

  Result<InstanceView> Act(InstanceId id, const std::string& action, const std::string& who,
                           const std::string& node = "", const std::string& comment = "",
                           Value::Record args = {}, FormData data = {}) {
    ActRequest r;
    r.instance = id;
    r.command.action = action;
    r.command.actor = PersonId(who);
    r.command.node = node;
    r.command.comment = comment;
    r.command.args = std::move(args);
    r.command.data = std::move(data);
    return engine_->Act(r);
  }

  Result<InstanceView> Approve(InstanceId id, const std::string& who,
                               const std::string& node = "") {
    return Act(id, action::kApprove, who, node, "同意");
  }

  Result<InstanceView> Complete(InstanceId id, const std::string& who, const std::string& node,
                                FormData fields = {}) {
    return Act(id, action::kComplete, who, node, "已办", {}, std::move(fields));
  }

  std::string Status(InstanceId id) {
    auto row = store_.GetInstance(id);
    EXPECT_TRUE(row.has_value());
    return row ? row->status : "";
  }

  std::string Nodes(InstanceId id) {
    auto row = store_.GetInstance(id);
    return row ? row->current_nodes : "";
  }

  // The last check_completed event of `node`: "<verdict> <reason>,<reason>".
  std::string CheckResult(InstanceId id, const std::string& node) {
    auto events = store_.LoadEvents(id);
    EXPECT_TRUE(events.has_value());
    std::string out = "(not run)";
    if (!events) return out;
    for (const Event& e : *events) {
      if (e.type != ev::kCheckCompleted || e.node != node) continue;
      out = rec::Str(e.data, "verdict");
      std::string reasons;
      for (const Value& r : rec::List(e.data, "reasons"))
        reasons += (reasons.empty() ? "" : ",") + r.as_string();
      if (!reasons.empty()) out += " " + reasons;
    }
    return out;
  }

  // The details of the last check_completed event of `node`.
  Value::Record CheckDetails(InstanceId id, const std::string& node) {
    auto events = store_.LoadEvents(id);
    Value::Record out;
    if (!events) return out;
    for (const Event& e : *events)
      if (e.type == ev::kCheckCompleted && e.node == node) out = rec::Sub(e.data, "details");
    return out;
  }

  // Every refused action in the audit log, decoded from the leaves (what an
  // auditor reads): "<actor> <action> <reason> <subject>".
  std::vector<std::string> Refusals() {
    std::vector<std::string> out;
    auto s = store_.ScanAudit(0, [&](const AuditEntry& e) {
      auto leaf = audit::ParseLeaf(e.leaf_data);
      EXPECT_TRUE(leaf.has_value()) << e.leaf_data;
      if (leaf && leaf->record && leaf->record->type == "action_refused") {
        const AuditRecord& r = *leaf->record;
        out.push_back(r.actor.value + " " + rec::Str(r.data, "action") + " " +
                      rec::Str(r.data, "reason") + " " + r.subject);
      }
      return true;
    });
    EXPECT_TRUE(s.has_value());
    return out;
  }

  // The check events of `id` as they reached the audit log (decoded leaves):
  // "<node> <verdict> <reasons>".
  std::vector<std::string> AuditedChecks(InstanceId id) {
    std::vector<std::string> out;
    auto s = store_.ScanAudit(0, [&](const AuditEntry& e) {
      if (e.kind != "event" || e.instance != id) return true;
      auto leaf = audit::ParseLeaf(e.leaf_data);
      EXPECT_TRUE(leaf.has_value());
      if (!leaf || !leaf->event || leaf->event->type != ev::kCheckCompleted) return true;
      std::string reasons;
      for (const Value& r : rec::List(leaf->event->data, "reasons"))
        reasons += (reasons.empty() ? "" : ",") + r.as_string();
      out.push_back(leaf->event->node + " " + rec::Str(leaf->event->data, "verdict") +
                    (reasons.empty() ? "" : " " + reasons));
      return true;
    });
    EXPECT_TRUE(s.has_value());
    return out;
  }

 private:
  Store& store_;
  FakeClock clock_;
  std::shared_ptr<const Org> org_;
  WorkflowRegistry registry_;
  std::unique_ptr<Engine> engine_;
};

inline Value Yuan(const char* text) { return Value::Of(*ParseYuan(text)); }
inline Value Text(const char* s) { return Value::Str(s); }

// A fake attachment address (the engine checks the form, not the bytes).
inline Value Doc(char c) { return Value::Str("sha256:" + std::string(64, c)); }

}  // namespace approvald::testing

#endif  // APPROVALD_TESTS_ENGINE_SERVICE_SEED_WORLD_H_
