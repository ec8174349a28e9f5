// Test helper for tests/cli/audit_cli_test.sh: fills a data directory the
// way a running daemon would, without the HTTP server.
//
//   populate DATA_DIR ORG_FILE WORKFLOWS_DIR [COUNT]
//
// Opens DATA_DIR/approvald.db (SqliteStore), loads the organisation and the
// workflows (api/bootstrap.h, as `approvald serve` does), submits COUNT
// (default 3) expense reimbursements and drives each to its end, approving or
// completing every pending step as its assignee, then signs checkpoints with
// DATA_DIR/audit_ed25519.pem (created if missing) under the default origin
// "approvald/local": one after the first reimbursement and one over the
// whole log. Prints "instances=N events=E leaves=L checkpoint=S" and exits 0;
// any failure is printed and exits 1.
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "api/bootstrap.h"
#include "approvald/clock.h"
#include "approvald/command.h"
#include "audit/checkpoint.h"
#include "core/registry.h"
#include "service/engine.h"
#include "store/sqlite/sqlite_store.h"

namespace {

using namespace approvald;
namespace fs = std::filesystem;

constexpr char kOrigin[] = "approvald/local";

[[noreturn]] void Die(const std::string& what, const Error& e) {
  fmt::print(stderr, "populate: {}: {}\n", what, e.ToString());
  std::exit(1);
}

// One reimbursement by xu_lei (landscape), office supplies, small amount.
FormData ExpenseForm(int i) {
  Value::Record invoice;
  invoice["number"] = Value::Str(fmt::format("CLI-TEST-{:04d}", i));
  invoice["amount"] = Value::Of(*ParseYuan(fmt::format("{}.50", 100 + i)));
  FormData form;
  form["purpose"] = Value::Str(fmt::format("办公用品 {}", i));
  form["category"] = Value::Str("office");
  form["amount"] = Value::Of(*ParseYuan(fmt::format("{}.50", 100 + i)));
  form["spent_on"] = Value::Of(*ParseDate("2024-03-04"));
  form["invoices"] = Value::Of(Value::List{Value::Of(std::move(invoice))});
  return form;
}

// Acts on the first pending step until the instance ends; returns its status.
std::string Drive(Engine& engine, InstanceView view, int i) {
  for (int step = 0; step < 40 && view.row.status == "running"; ++step) {
    const Token* token = nullptr;
    const Signer* signer = nullptr;
    for (const auto& [node, t] : view.state.active) {
      for (const Signer& s : t.signers) {
        if (s.state == SignerState::kPending) {
          token = &t;
          signer = &s;
          break;
        }
      }
      if (signer) break;
    }
    if (!signer) {
      fmt::print(stderr, "populate: instance {} is running with no pending signer at {}\n",
                 view.row.id.value, view.row.current_nodes);
      std::exit(1);
    }
    const NodeDef* node = view.def->FindNode(token->node);
    ActRequest req;
    req.instance = view.row.id;
    req.expected_version = view.row.version;
    req.command.actor = signer->person;
    req.command.node = token->node;
    req.command.comment = "同意";
    if (node && node->kind == NodeKind::kTask) {
      req.command.action = action::kComplete;
      for (const std::string& f : node->task_fields) {
        req.command.data[f] = Value::Str(fmt::format("{}-{}", f, i));
      }
    } else {
      req.command.action = action::kApprove;
    }
    auto next = engine.Act(req);
    if (!next) Die(fmt::format("instance {} {} at {}", req.instance.value,
                               req.command.action, token->node), next.error());
    view = std::move(*next);
  }
  return view.row.status;
}

void SignCheckpoint(Store& store, const audit::SigningKey& key, const Clock& clock) {
  auto size = store.AuditSize();
  if (!size) Die("AuditSize", size.error());
  auto root = store.RootAt(*size);
  if (!root) Die("RootAt", root.error());
  auto cp = audit::SignCheckpoint(key, kOrigin, *size, *root, clock.Now());
  if (!cp) Die("SignCheckpoint", cp.error());
  if (auto st = store.SaveCheckpoint(*cp); !st) Die("SaveCheckpoint", st.error());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) {
    fmt::print(stderr, "usage: populate DATA_DIR ORG_FILE WORKFLOWS_DIR [COUNT]\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);  // the engine logs every event
  const std::string data_dir = argv[1];
  const int count = argc == 5 ? std::atoi(argv[4]) : 3;
  fs::create_directories(data_dir);

  SqliteOptions opts;
  opts.path = (fs::path(data_dir) / "approvald.db").string();
  auto store = SqliteStore::Open(opts);
  if (!store) Die(opts.path, store.error());
  auto org = api::LoadOrgFile(argv[2]);
  if (!org) Die(argv[2], org.error());
  WorkflowRegistry registry;
  auto loaded = api::LoadWorkflows(argv[3], **org, **store, registry);
  if (!loaded) Die(argv[3], loaded.error());
  auto key = audit::SigningKey::LoadOrCreate(
      (fs::path(data_dir) / "audit_ed25519.pem").string());
  if (!key) Die("audit key", key.error());

  // The unit configuration beside the organisation file (config/unit.yaml):
  // the expense workflow's large-amount check reads its threshold.
  const fs::path config_dir = fs::path(argv[2]).parent_path();
  auto unit = api::LoadUnitConfigFiles((config_dir / "unit.yaml").string(),
                                       (config_dir / "procurement-catalogue.yaml").string(),
                                       **org);
  if (!unit) Die("unit configuration", unit.error());
  EngineOptions engine_options;
  engine_options.unit_config = std::move(*unit);

  SystemClock clock;
  Engine engine(std::move(engine_options), **store, clock, *org, registry, nullptr);
  int64_t events = 0;
  for (int i = 1; i <= count; ++i) {
    SubmitRequest req;
    req.workflow = "expense";
    req.actor = PersonId("xu_lei");
    req.data = ExpenseForm(i);
    req.idempotency_key = fmt::format("cli-test-{}", i);
    auto view = engine.Submit(req);
    if (!view) Die(fmt::format("submit {}", i), view.error());
    std::string status = Drive(engine, std::move(*view), i);
    if (status != "approved") {
      fmt::print(stderr, "populate: reimbursement {} ended {}, expected approved\n", i, status);
      return 1;
    }
    auto trail = engine.Trail(InstanceId{i});
    if (trail) events += static_cast<int64_t>(trail->size());
    if (i == 1) SignCheckpoint(**store, *key, clock);
  }
  SignCheckpoint(**store, *key, clock);
  auto size = (*store)->AuditSize();
  auto cps = (*store)->ListCheckpoints();
  fmt::print("instances={} events={} leaves={} checkpoints={}\n", count, events,
             size ? *size : -1, cps ? static_cast<int64_t>(cps->size()) : -1);
  return 0;
}
