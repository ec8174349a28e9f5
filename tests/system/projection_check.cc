#include "tests/system/projection_check.h"

#include <sqlite3.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "api/bootstrap.h"
#include "approvald/event.h"
#include "approvald/instance.h"
#include "core/checks.h"
#include "core/decide.h"
#include "core/fold.h"
#include "core/workflow_loader.h"
#include "store/sqlite/sqlite_store.h"

namespace approvald::systest {
namespace {

using TaskKey = std::tuple<std::string, std::string, std::string>;  // kind, node, person

struct RawRow {
  std::string workflow;
  int64_t workflow_version = 0;
  std::string def_hash, status, submitter, current_nodes;
  int64_t version = 0, created_at = 0, updated_at = 0;
};

std::string Text(sqlite3_stmt* st, int col) {
  const unsigned char* t = sqlite3_column_text(st, col);
  return t ? reinterpret_cast<const char*>(t) : "";
}

// Runs `sql` on a read-only connection, calling `row` per result row.
bool Query(sqlite3* db, const char* sql, const std::function<void(sqlite3_stmt*)>& row,
           std::string* error) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
    *error = std::string(sql) + ": " + sqlite3_errmsg(db);
    return false;
  }
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) row(st);
  if (rc != SQLITE_DONE) *error = std::string(sql) + ": " + sqlite3_errmsg(db);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE;
}

}  // namespace

ProjectionReport CheckProjections(const std::string& db_path, const std::string& org_file) {
  ProjectionReport report;
  auto problem = [&](const std::string& p) {
    if (report.problems.size() < 50) report.problems.push_back(p);
  };
  auto org = api::LoadOrgFile(org_file);
  if (!org) {
    report.error = org.error().ToString();
    return report;
  }
  SqliteOptions opts;
  opts.path = db_path;
  auto store = SqliteStore::Open(opts);
  if (!store) {
    report.error = "opening " + db_path + ": " + store.error().ToString();
    return report;
  }
  // The definitions instances run on, by hash.
  std::map<std::string, std::shared_ptr<const WorkflowDef>> defs;
  auto stored = (*store)->ListDefinitions();
  if (!stored) {
    report.error = stored.error().ToString();
    return report;
  }
  for (const auto& sd : *stored) {
    WorkflowLoad load = LoadWorkflow(sd.source, "stored:" + sd.id, **org, CheckRegistry::Builtin());
    if (!load.def) {
      problem("stored definition " + sd.id + "@" + std::to_string(sd.version) +
              " does not load");
      continue;
    }
    load.def->hash = sd.hash;
    load.def->version = sd.version;
    defs[sd.hash] = std::make_shared<const WorkflowDef>(std::move(*load.def));
  }

  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    report.error = "opening " + db_path + " read-only: " + (db ? sqlite3_errmsg(db) : "?");
    sqlite3_close(db);
    return report;
  }
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> closer(db, &sqlite3_close);
  std::map<int64_t, RawRow> rows;
  std::map<int64_t, std::set<TaskKey>> tasks;
  std::set<int64_t> with_events;
  std::string err;
  bool ok = Query(db,
                  "SELECT id, workflow, workflow_version, def_hash, status, submitter, "
                  "current_nodes, version, created_at, updated_at FROM instances",
                  [&](sqlite3_stmt* st) {
                    RawRow r;
                    r.workflow = Text(st, 1);
                    r.workflow_version = sqlite3_column_int64(st, 2);
                    r.def_hash = Text(st, 3);
                    r.status = Text(st, 4);
                    r.submitter = Text(st, 5);
                    r.current_nodes = Text(st, 6);
                    r.version = sqlite3_column_int64(st, 7);
                    r.created_at = sqlite3_column_int64(st, 8);
                    r.updated_at = sqlite3_column_int64(st, 9);
                    rows[sqlite3_column_int64(st, 0)] = std::move(r);
                  },
                  &err) &&
            Query(db, "SELECT instance, kind, node, person FROM tasks",
                  [&](sqlite3_stmt* st) {
                    ++report.task_rows;
                    if (!tasks[sqlite3_column_int64(st, 0)]
                             .insert({Text(st, 1), Text(st, 2), Text(st, 3)})
                             .second) {
                      problem("instance " + std::to_string(sqlite3_column_int64(st, 0)) +
                              ": duplicate task row " + Text(st, 1) + "/" + Text(st, 2) + "/" +
                              Text(st, 3));
                    }
                  },
                  &err) &&
            Query(db, "SELECT DISTINCT instance FROM audit_log WHERE kind = 'event'",
                  [&](sqlite3_stmt* st) { with_events.insert(sqlite3_column_int64(st, 0)); },
                  &err);
  if (!ok) {
    report.error = err;
    return report;
  }
  for (int64_t id : with_events) {
    if (!rows.count(id)) problem("instance " + std::to_string(id) + " has events but no row");
  }
  for (const auto& [id, t] : tasks) {
    if (!rows.count(id)) problem("task rows for instance " + std::to_string(id) + " without a row");
  }

  for (const auto& [id, row] : rows) {
    ++report.instances;
    std::string where = "instance " + std::to_string(id) + ": ";
    auto events = (*store)->LoadEvents(InstanceId{id});
    if (!events) {
      problem(where + "events do not load: " + events.error().ToString());
      continue;
    }
    report.events += static_cast<int64_t>(events->size());
    auto st = Fold(*events);
    if (!st) {
      problem(where + "events do not fold: " + st.error().ToString());
      continue;
    }
    auto expect = [&](const char* what, const std::string& stored, const std::string& folded) {
      if (stored != folded) {
        problem(where + what + " is '" + stored + "' in the table, '" + folded + "' by the fold");
      }
    };
    std::string active;
    for (const auto& [node, token] : st->active) active += (active.empty() ? "" : ",") + node;
    expect("workflow", row.workflow, st->workflow);
    expect("workflow_version", std::to_string(row.workflow_version),
           std::to_string(st->def_version));
    expect("def_hash", row.def_hash, st->def_hash);
    expect("status", row.status, std::string(InstanceStatusName(st->status)));
    expect("submitter", row.submitter, st->submitter.value);
    expect("current_nodes", row.current_nodes, active);
    expect("version", std::to_string(row.version), std::to_string(st->version));
    expect("created_at", std::to_string(row.created_at), std::to_string(st->created_at.ms));
    expect("updated_at", std::to_string(row.updated_at), std::to_string(st->updated_at.ms));

    auto def = defs.find(st->def_hash);
    if (def == defs.end()) {
      problem(where + "runs on definition " + st->def_hash + ", which is not stored");
      continue;
    }
    // The task set the engine derives from the folded state.
    std::set<TaskKey> want;
    auto add = [&](const std::string& kind, const std::string& node, const PersonId& p) {
      if (p.empty() || p == SystemActor()) return;
      want.insert({kind, node, p.value});
    };
    if (!st->terminal()) {
      for (const auto& [node, p] : PendingPeople(*def->second, *st)) add("pending", node, p);
    }
    for (const auto& a : st->acts) add("done", a.node, a.person);
    for (const auto& p : st->cc) add("cc", "", p);
    const std::set<TaskKey>& have = tasks[id];
    for (const auto& t : want) {
      if (!have.count(t)) {
        problem(where + "missing task row " + std::get<0>(t) + "/" + std::get<1>(t) + "/" +
                std::get<2>(t));
      }
    }
    for (const auto& t : have) {
      if (!want.count(t)) {
        problem(where + "extra task row " + std::get<0>(t) + "/" + std::get<1>(t) + "/" +
                std::get<2>(t));
      }
    }
  }
  return report;
}

}  // namespace approvald::systest
