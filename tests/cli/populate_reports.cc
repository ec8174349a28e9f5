// Test helper for tests/cli/report_cli_test.sh (and the README's report
// examples): fills a data directory with the seed's kind of records at fixed
// times (a fake clock), so `approvald report` prints the same thing on every
// run.
//
//   populate_reports DATA_DIR ORG_FILE WORKFLOWS_DIR
//
// Creates DATA_DIR/approvald.db with:
//   - rectification items 1-1 (done, looked back, 长期坚持), 1-2 (done late,
//     waiting for the look back) and 2-1 (measures missing, overdue,
//     escalated), registered 2024-01-08;
//   - one 三重一大 topic (大额度资金运作) decided 2024-01-11 with a recusal,
//     opinions in order (head last) and a decision number;
//   - one purchase (a small service, below the limit) executed by the office,
//     classified with config/unit.yaml and config/procurement-catalogue.yaml
//     (found beside ORG_FILE).
// Prints "instances=N" and exits 0; any failure is printed and exits 1.
#include <fmt/core.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "api/bootstrap.h"
#include "approvald/clock.h"
#include "core/registry.h"
#include "service/engine.h"
#include "store/sqlite/sqlite_store.h"

namespace {

using namespace approvald;

[[noreturn]] void Die(const std::string& what, const Error& e) {
  fmt::print(stderr, "populate_reports: {}: {}\n", what, e.ToString());
  std::exit(1);
}

Timestamp At(const char* text) { return *ParseTimestamp(text); }

class Runner {
 public:
  Runner(Engine& engine, FakeClock& clock) : engine_(engine), clock_(clock) {}

  InstanceId Submit(const char* workflow, const char* who, FormData form) {
    SubmitRequest r;
    r.workflow = workflow;
    r.actor = PersonId(who);
    r.data = std::move(form);
    auto v = engine_.Submit(r);
    if (!v) Die(std::string("submit ") + workflow, v.error());
    ++instances_;
    return v->row.id;
  }

  void Act(InstanceId id, const char* action, const char* who, const char* node,
           FormData data = {}, const char* comment = "", Value::Record args = {}) {
    ActRequest r;
    r.instance = id;
    r.command.action = action;
    r.command.actor = PersonId(who);
    r.command.node = node;
    r.command.data = std::move(data);
    r.command.comment = comment;
    r.command.args = std::move(args);
    auto v = engine_.Act(r);
    if (!v) Die(fmt::format("{} by {} on {} of {}", action, who, node, id.value), v.error());
  }

  void Set(const char* t) { clock_.Set(At(t)); }
  int instances() const { return instances_; }

 private:
  Engine& engine_;
  FakeClock& clock_;
  int instances_ = 0;
};

FormData Item(const char* no, const char* area, const char* problem, const char* leader,
              const char* dept, const char* deadline) {
  FormData f;
  f["problem_no"] = Value::Str(no);
  f["area"] = Value::Str(area);
  f["problem"] = Value::Str(problem);
  f["responsible_leader"] = Value::Str(leader);
  f["responsible_dept"] = Value::Str(dept);
  f["deadline"] = Value::Of(*ParseDate(deadline));
  return f;
}

FormData Field(const char* name, Value v) {
  FormData f;
  f[name] = std::move(v);
  return f;
}

void Rectify(Runner& run, InstanceId id, const char* head, const char* leader, const char* when,
             bool lookback) {
  run.Act(id, "complete", head, "measures", Field("measures", Value::Str("建立制度并执行")));
  run.Act(id, "approve", leader, "leader_approval", {}, "同意措施");
  run.Set(when);
  FormData w;
  w["result_summary"] = Value::Str("已整改到位");
  w["status"] = Value::Str("long_term");
  run.Act(id, "complete", head, "rectify", w);
  run.Act(id, "approve", leader, "acceptance", {}, "验收通过");
  if (lookback) {
    run.Act(id, "complete", "huang_xiaoming", "lookback",
            Field("lookback_notes", Value::Str("未发现反弹")));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    fmt::print(stderr, "usage: populate_reports DATA_DIR ORG_FILE WORKFLOWS_DIR\n");
    return 2;
  }
  SqliteOptions opts;
  opts.path = std::string(argv[1]) + "/approvald.db";
  auto store = SqliteStore::Open(opts);
  if (!store) Die("open store", store.error());
  auto org = api::LoadOrgFile(argv[2]);
  if (!org) Die("org", org.error());
  WorkflowRegistry registry;
  auto loaded = api::LoadWorkflows(argv[3], **org, **store, registry);
  if (!loaded) Die("workflows", loaded.error());
  std::string config_dir = std::filesystem::path(argv[2]).parent_path().string();
  if (config_dir.empty()) config_dir = ".";
  auto unit = api::LoadUnitConfigFiles(config_dir + "/unit.yaml",
                                       config_dir + "/procurement-catalogue.yaml", **org);
  if (!unit) Die("unit config", unit.error());
  FakeClock clock(At("2024-01-08T09:00:00+08:00"));  // a Monday
  EngineOptions engine_opts;
  engine_opts.unit_config = std::move(*unit);
  Engine engine(std::move(engine_opts), **store, clock, *org, registry, nullptr);
  Runner run(engine, clock);

  // 巡察整改: three items.
  InstanceId a = run.Submit("rectification", "lin_xiaoyan",
                            Item("1-1", "decision_making", "“三重一大”事项未经集体决策",
                                 "chen_zhiyuan", "office", "2024-01-31"));
  InstanceId b = run.Submit("rectification", "lin_xiaoyan",
                            Item("1-2", "finance", "报销审核不严，未落实双线把关", "wang_haiyan",
                                 "finance", "2024-01-10"));
  InstanceId c = run.Submit("rectification", "lin_xiaoyan",
                            Item("2-1", "procurement", "采购未执行政府采购目录", "li_jianhua",
                                 "office", "2024-01-12"));
  (void)c;
  Rectify(run, a, "lin_xiaoyan", "chen_zhiyuan", "2024-01-09T10:00:00+08:00", true);
  Rectify(run, b, "zheng_li", "wang_haiyan", "2024-01-12T10:00:00+08:00", false);

  // 三重一大: one topic, one meeting.
  run.Set("2024-01-08T10:00:00+08:00");
  FormData topic;
  topic["topic"] = Value::Str("时花种植项目预算调整");
  topic["category"] = Value::Str("large_funds");
  topic["background"] = Value::Str("预算由400万元调整为120万元");
  topic["amount"] = Value::Of(*ParseYuan("1200000.00"));
  InstanceId m = run.Submit("sanzhong-yida", "liu_guoqiang", topic);
  run.Act(m, "complete", "lin_xiaoyan", "compile_agenda", Field("agenda_no", Value::Str("2024-01")));
  run.Act(m, "distribute", "lin_xiaoyan", "meeting");
  const char* members[] = {"chen_zhiyuan", "li_jianhua", "wang_haiyan", "liu_guoqiang",
                           "zhao_min", "huang_xiaoming"};
  for (const char* p : members) run.Act(m, "acknowledge", p, "meeting");
  run.Set("2024-01-11T09:30:00+08:00");
  for (const char* p : members) run.Act(m, "attend", p, "meeting");
  Value::Record why;
  why["reason"] = Value::Str("亲属在供应商任职");
  run.Act(m, "recuse", "zhao_min", "meeting", {}, "", why);
  run.Act(m, "open", "lin_xiaoyan", "meeting");
  run.Act(m, "opinion", "liu_guoqiang", "meeting", {}, "建议同意");
  run.Act(m, "opinion", "wang_haiyan", "meeting", {}, "资金已落实，同意");
  run.Act(m, "opinion", "li_jianhua", "meeting", {}, "同意");
  run.Act(m, "opinion", "huang_xiaoming", "meeting", {}, "程序合规");
  run.Act(m, "opinion", "chen_zhiyuan", "meeting", {}, "同意");
  Value::Record agree;
  agree["option"] = Value::Str("agree");
  for (const char* p : {"liu_guoqiang", "wang_haiyan", "li_jianhua", "huang_xiaoming",
                        "chen_zhiyuan"}) {
    run.Act(m, "vote", p, "meeting", {}, "", agree);
  }
  run.Act(m, "close", "lin_xiaoyan", "meeting");
  run.Act(m, "complete", "lin_xiaoyan", "minutes",
          Field("decision_no", Value::Str("园林〔2024〕3号")));

  // 政府采购: a small service purchase by 园林室, executed by the office.
  run.Set("2024-01-15T09:00:00+08:00");
  FormData buy;
  buy["purpose"] = Value::Str("绿地病虫害防治");
  buy["item_code"] = Value::Str("C99999999");
  buy["item_name"] = Value::Str("绿化养护服务");
  buy["amount"] = Value::Of(*ParseYuan("3000.00"));
  buy["budget_project"] = Value::Str("2024-绿地养护");
  InstanceId p = run.Submit("procurement", "xu_lei", buy);
  run.Act(p, "approve", "yang_fan", "dept_review");
  run.Act(p, "approve", "liu_guoqiang", "dept_review");
  FormData exec;
  exec["supplier"] = Value::Str("梅州某园林公司");
  exec["contract_no"] = Value::Str("HT-2024-001");
  run.Act(p, "complete", "zhou_jie", "execute", exec);

  // Deadlines fall due (item 2-1 is escalated), as the daemon's ticks would.
  run.Set("2024-02-01T09:00:00+08:00");
  if (auto t = engine.Tick(); !t) Die("tick", t.error());

  fmt::print("instances={}\n", run.instances());
  return 0;
}
