// Engine throughput on the shipped dual-line expense reimbursement
// (workflows/expense.yaml on config/org.yaml): how many accepted commands
// ("steps") and whole flows Decide() handles per second, in process, on one
// thread. bench/xstate/ models the same flow in XState 5 for comparison;
// bench/run-engine-bench.sh runs both in one go and prints the ratio.
//
// One step is one accepted command taking the instance from submit to
// approved, the way a client would send it:
//   small  (3,560.00 yuan, office supplies, 6 steps): submit; the business
//          line's department head and supervising deputy; the finance line's
//          计财室 head (with the required comment) and finance's deputy; the
//          cashier's payment with a voucher number.
//   large  (150,000.00 yuan with its 三重一大 decision reference, 7 steps):
//          the same, plus the head of unit's approval the amount routes to.
//   mixed  one small and one large flow per iteration (13 steps, 2 flows);
//          the headline figure.
// The automatic steps (duplicate-invoice check, expense-standard check, the
// amount choice, the join of the two lines) run inside the commands that
// reach them, as in production, and are not counted as steps.
//
// Each step is a full Decide(): actor and proxy checks, separation of duties
// (submitter, one person once, the two lines' signers distinct), form
// validation at submission, assignee resolution over the organisation, check
// and guard evaluation, the events and the new state. The events are
// discarded and the returned state becomes the input of the next step, which
// is what the service does before it appends them. Commands are built once,
// outside the timed loop.
//
// Output: Google Benchmark (use --benchmark_format=json); the counters
// `steps` and `flows` are per wall-clock second. The workflow and organisation
// are read from the source tree this binary was built from, or from
// $APPROVAL_ROOT. Exits 1, saying why, when the flows cannot be set up (a
// file is missing or invalid, or a step is refused).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "approvald/command.h"
#include "approvald/instance.h"
#include "core/checks.h"
#include "core/decide.h"
#include "core/events.h"
#include "core/org_loader.h"
#include "core/unit_config.h"
#include "core/workflow_loader.h"

#ifndef APPROVAL_SOURCE_DIR
#define APPROVAL_SOURCE_DIR "."
#endif

namespace approvald::bench {
namespace {

std::string Root() {
  const char* env = std::getenv("APPROVAL_ROOT");
  return env && *env ? std::string(env) : std::string(APPROVAL_SOURCE_DIR);
}

std::optional<std::string> ReadFile(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read " + path + " (set APPROVAL_ROOT to the source tree)";
    return std::nullopt;
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Value Yuan(const char* text) { return Value::Of(*ParseYuan(text)); }

// An invoice with its scan; the attachment reference is a content hash
// ("sha256:" + 64 hex digits), here the invoice number zero-padded.
Value Invoice(const std::string& number, const char* amount) {
  Value::Record r;
  r["number"] = Value::Str(number);
  r["amount"] = Yuan(amount);
  r["file"] = Value::Str("sha256:" + std::string(64 - number.size(), '0') + number);
  return Value::Of(std::move(r));
}

Command Cmd(const char* action, const char* actor, const char* node,
            const char* comment = "") {
  Command c;
  c.action = action;
  c.actor = PersonId(actor);
  c.node = node;
  c.comment = comment;
  return c;
}

// One reimbursement from submit to approved, as the commands clients send.
struct Flow {
  const char* name;
  std::vector<Command> steps;
  std::vector<std::string> must_visit;  // nodes the flow must pass
  int64_t events = 0;                   // events one run appends (measured)
};

// 徐磊 (园林室) claims office supplies: 杨帆 -> 刘国强 on the business line,
// 郑丽 -> 王海燕 on the finance line, 孙悦 pays.
Flow SmallFlow() {
  Flow f{"small",
         {},
         {"dept_head_review", "dept_deputy_review", "invoice_check", "finance_review",
          "finance_deputy_review", "standard_check", "large_amount_check", "pay"}};
  Command submit = Cmd(action::kSubmit, "xu_lei", "");
  submit.data["purpose"] = Value::Str("园林室打印耗材");
  submit.data["category"] = Value::Str("office");
  submit.data["amount"] = Yuan("3560.00");
  submit.data["spent_on"] = Value::Of(*ParseDate("2024-01-05"));
  submit.data["invoices"] = Value::Of(Value::List{
      Invoice("44000241100012345", "2100.00"), Invoice("44000241100012346", "1460.00")});
  f.steps.push_back(std::move(submit));
  f.steps.push_back(Cmd(action::kApprove, "yang_fan", "dept_head_review", "属实"));
  f.steps.push_back(
      Cmd(action::kApprove, "zheng_li", "finance_review", "票据齐全，同意"));
  f.steps.push_back(Cmd(action::kApprove, "liu_guoqiang", "dept_deputy_review", "同意"));
  f.steps.push_back(
      Cmd(action::kApprove, "wang_haiyan", "finance_deputy_review", "同意"));
  Command pay = Cmd(action::kComplete, "sun_yue", "pay");
  pay.data["voucher_no"] = Value::Str("记-2024-0107");
  f.steps.push_back(std::move(pay));
  return f;
}

// 胡斌 (生产室) claims a large maintenance contract backed by a 三重一大
// decision: 朱强 -> 赵敏, 郑丽 -> 王海燕, then 陈志远 (head of unit), 孙悦 pays.
Flow LargeFlow() {
  Flow f{
      "large",
      {},
      {"dept_head_review", "dept_deputy_review", "invoice_check", "finance_review",
       "finance_deputy_review", "standard_check", "large_amount_check", "head_review", "pay"}};
  Command submit = Cmd(action::kSubmit, "hu_bin", "");
  submit.data["purpose"] = Value::Str("苗圃灌溉设备维修");
  submit.data["category"] = Value::Str("other");
  submit.data["amount"] = Yuan("150000.00");
  submit.data["spent_on"] = Value::Of(*ParseDate("2024-01-04"));
  submit.data["invoices"] =
      Value::Of(Value::List{Invoice("44000241100020001", "90000.00"),
                            Invoice("44000241100020002", "60000.00")});
  submit.data["decision_ref"] = Value::Str("园林〔2024〕3号");
  f.steps.push_back(std::move(submit));
  f.steps.push_back(Cmd(action::kApprove, "zhu_qiang", "dept_head_review", "属实"));
  f.steps.push_back(
      Cmd(action::kApprove, "zheng_li", "finance_review", "票据齐全，同意"));
  f.steps.push_back(Cmd(action::kApprove, "zhao_min", "dept_deputy_review", "同意"));
  f.steps.push_back(
      Cmd(action::kApprove, "wang_haiyan", "finance_deputy_review", "同意"));
  f.steps.push_back(
      Cmd(action::kApprove, "chen_zhiyuan", "head_review", "经集体决策，同意支付"));
  Command pay = Cmd(action::kComplete, "sun_yue", "pay");
  pay.data["voucher_no"] = Value::Str("记-2024-0108");
  f.steps.push_back(std::move(pay));
  return f;
}

// Everything Decide() reads besides the instance: the shipped definition and
// organisation, the unit's expense standards and the invoice numbers other
// reimbursements already claimed (the duplicate check reads them).
struct Fixture {
  Org org;
  WorkflowDef def;
  CheckFacts facts;
  Value::Record unit_config;
  DecideContext ctx;
  Flow small = SmallFlow();
  Flow large = LargeFlow();
  std::string error;  // non-empty: the benchmark cannot run
};

// Runs `flow` once. Returns an empty string when every step was accepted and
// the instance ended approved having passed every node of must_visit (an
// approval or task completed, a check completed, a choice routed); otherwise
// what went wrong. `*events` receives the number of events the flow made.
std::string RunChecked(const Fixture& fx, const Flow& flow, int64_t* events) {
  InstanceState state;
  std::set<std::string> passed;
  *events = 0;
  for (size_t i = 0; i < flow.steps.size(); ++i) {
    const Command& c = flow.steps[i];
    auto r = Decide(fx.ctx, state, c);
    if (!r) {
      return std::string(flow.name) + " step " + std::to_string(i + 1) + " (" + c.action +
             " by " + c.actor.value + "): " + r.error().ToString();
    }
    for (const Event& e : r->events) {
      if (e.type == ev::kNodeCompleted || e.type == ev::kCheckCompleted ||
          e.type == ev::kRouted)
        passed.insert(e.node);
    }
    *events += static_cast<int64_t>(r->events.size());
    state = std::move(r->state);
  }
  if (state.status != InstanceStatus::kApproved)
    return std::string(flow.name) + ": ended " +
           std::string(InstanceStatusName(state.status)) + ", not approved";
  for (const auto& node : flow.must_visit) {
    if (!passed.count(node))
      return std::string(flow.name) + ": never passed node " + node;
  }
  return "";
}

const Fixture& GetFixture() {
  static const Fixture* fixture = [] {
    auto* fx = new Fixture();
    std::string root = Root();
    std::string err;
    auto org_text = ReadFile(root + "/config/org.yaml", &err);
    auto wf_text =
        org_text ? ReadFile(root + "/workflows/expense.yaml", &err) : std::nullopt;
    if (!wf_text) {
      fx->error = err;
      return fx;
    }
    OrgLoad org = LoadOrg(*org_text, "config/org.yaml");
    for (const auto& e : org.errors) fx->error += e.ToString() + "\n";
    if (!org.org) return fx;
    fx->org = std::move(*org.org);
    WorkflowLoad wf = LoadWorkflow(*wf_text, "workflows/expense.yaml", fx->org,
                                   CheckRegistry::Builtin());
    for (const auto& e : wf.errors) fx->error += e.ToString() + "\n";
    if (!wf.def) return fx;
    fx->def = std::move(*wf.def);
    fx->def.version = 1;
    fx->def.hash = "sha256:bench";

    // The unit's configuration (the large-amount thresholds the amount
    // route reads), with the bench's own expense standards below.
    auto unit_text = ReadFile(root + "/config/unit.yaml", &err);
    auto catalogue_text =
        unit_text ? ReadFile(root + "/config/procurement-catalogue.yaml", &err) : std::nullopt;
    if (!catalogue_text) {
      fx->error = err;
      return fx;
    }
    UnitConfigLoad unit = LoadUnitConfig(*unit_text, "config/unit.yaml", *catalogue_text,
                                         "config/procurement-catalogue.yaml", &fx->org);
    for (const auto& e : unit.errors) fx->error += e.ToString() + "\n";
    if (!unit.config) return fx;
    fx->unit_config = std::move(*unit.config);

    // Twenty invoice numbers already claimed by earlier reimbursements.
    Value::List used;
    for (int i = 0; i < 20; ++i)
      used.push_back(Value::Str("4400024110000" + std::to_string(1000 + i)));
    fx->facts.values["invoice_numbers"] = Value::Of(std::move(used));
    // The passed 三重一大 decision the large claim links (passed_decision).
    Value::Record decision;
    decision["instance"] = Value::Int(1);
    decision["number"] = Value::Str("园林〔2024〕3号");
    decision["result"] = Value::Str("passed");
    decision["category"] = Value::Str("large_funds");
    decision["amount"] = Yuan("1200000.00");
    fx->facts.values["decisions"] = Value::Of(Value::List{Value::Of(std::move(decision))});
    // The unit's standards for the two categories used (limits per claim).
    Value::Record office, other, standards;
    office["limit"] = Yuan("20000.00");
    office["source"] = Value::Str("办公用品采购管理办法");
    other["limit"] = Yuan("500000.00");
    other["source"] = Value::Str("财务报销管理制度");
    standards["office"] = Value::Of(std::move(office));
    standards["other"] = Value::Of(std::move(other));
    fx->unit_config["expense_standards"] = Value::Of(std::move(standards));

    fx->ctx.def = &fx->def;
    fx->ctx.org = &fx->org;
    fx->ctx.now = *ParseTimestamp("2024-01-08T09:00:00+08:00");  // a Monday
    fx->ctx.facts = &fx->facts;
    fx->ctx.unit_config = &fx->unit_config;

    for (Flow* f : {&fx->small, &fx->large}) {
      std::string problem = RunChecked(*fx, *f, &f->events);
      if (!problem.empty()) fx->error += problem + "\n";
    }
    return fx;
  }();
  return *fixture;
}

// The timed body: every step must be accepted (a refusal aborts: the figure
// would be meaningless) and the last must approve.
inline void RunFlow(const Fixture& fx, const Flow& flow) {
  InstanceState state;
  for (const Command& c : flow.steps) {
    // The state is consumed, as the service does with a state it has just
    // folded: the engine moves it instead of copying it.
    auto r = Decide(fx.ctx, std::move(state), c);
    if (!r) [[unlikely]] {
      std::fprintf(stderr, "engine_bench: %s refused: %s\n", flow.name,
                   r.error().ToString().c_str());
      std::abort();
    }
    state = std::move(r->state);
  }
  if (state.status != InstanceStatus::kApproved) [[unlikely]]
    std::abort();
  benchmark::DoNotOptimize(state.version);
}

enum class Mix { kSmall, kLarge, kMixed };

void BM_ExpenseDualLine(benchmark::State& st, Mix mix) {
  const Fixture& fx = GetFixture();
  if (!fx.error.empty()) {
    st.SkipWithError(("cannot set up the flow:\n" + fx.error).c_str());
    return;
  }
  int64_t steps_per_iter = 0, flows_per_iter = 0, events_per_iter = 0;
  for (const Flow* f : {&fx.small, &fx.large}) {
    if ((f == &fx.small && mix == Mix::kLarge) || (f == &fx.large && mix == Mix::kSmall))
      continue;
    steps_per_iter += static_cast<int64_t>(f->steps.size());
    events_per_iter += f->events;
    ++flows_per_iter;
  }
  for (auto _ : st) {
    if (mix != Mix::kLarge) RunFlow(fx, fx.small);
    if (mix != Mix::kSmall) RunFlow(fx, fx.large);
  }
  const auto iters = static_cast<double>(st.iterations());
  st.counters["steps"] = benchmark::Counter(iters * static_cast<double>(steps_per_iter),
                                            benchmark::Counter::kIsRate);
  st.counters["flows"] = benchmark::Counter(iters * static_cast<double>(flows_per_iter),
                                            benchmark::Counter::kIsRate);
  st.counters["steps_per_flow"] =
      static_cast<double>(steps_per_iter) / static_cast<double>(flows_per_iter);
  st.counters["events_per_flow"] =
      static_cast<double>(events_per_iter) / static_cast<double>(flows_per_iter);
}

// AvailableActions, as the service asks it after every accepted command:
// the actions the command's actor may take on the new state (the buttons of
// the answer to their action). One iteration asks it once for every step of
// the small and the large flow; `asks` is per wall-clock second.
void BM_AvailableActionsAfterStep(benchmark::State& st) {
  const Fixture& fx = GetFixture();
  if (!fx.error.empty()) {
    st.SkipWithError(("cannot set up the flow:\n" + fx.error).c_str());
    return;
  }
  std::vector<std::pair<InstanceState, PersonId>> asks;  // state after a step, its actor
  for (const Flow* f : {&fx.small, &fx.large}) {
    InstanceState state;
    for (const Command& c : f->steps) {
      auto r = Decide(fx.ctx, std::move(state), c);
      if (!r) {
        st.SkipWithError("a step was refused");
        return;
      }
      state = std::move(r->state);
      asks.emplace_back(state, c.actor);
    }
  }
  size_t offered = 0;
  for (auto _ : st) {
    for (const auto& [state, actor] : asks) {
      auto actions = AvailableActions(fx.ctx, state, actor);
      offered += actions.size();
      benchmark::DoNotOptimize(actions.data());
    }
  }
  st.counters["asks"] =
      benchmark::Counter(static_cast<double>(st.iterations()) * static_cast<double>(asks.size()),
                         benchmark::Counter::kIsRate);
  st.counters["offered_per_ask"] =
      static_cast<double>(offered) /
      (static_cast<double>(st.iterations()) * static_cast<double>(asks.size()));
}

// Rates are per wall-clock second, as in bench/xstate/run.mjs; the CPU time
// per iteration is reported beside them.
BENCHMARK_CAPTURE(BM_ExpenseDualLine, mixed, Mix::kMixed)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ExpenseDualLine, small, Mix::kSmall)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ExpenseDualLine, large, Mix::kLarge)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_AvailableActionsAfterStep)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace approvald::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const auto& fx = approvald::bench::GetFixture();
  if (!fx.error.empty()) {
    std::fprintf(stderr, "engine_bench: cannot set up the flows:\n%s", fx.error.c_str());
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
