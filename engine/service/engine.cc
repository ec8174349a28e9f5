#include "service/engine.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "audit/merkle.h"
#include "core/fold.h"
#include "core/registry.h"
#include "service/facts.h"

namespace approvald {
namespace {

std::shared_ptr<spdlog::logger> EngineLogger() {
  auto log = spdlog::get("engine");
  if (!log) {
    log = spdlog::stderr_color_mt("engine");
  }
  return log;
}

std::string HexOf(const Hash& h) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  s.reserve(64);
  for (uint8_t b : h) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

// A request's fingerprint for idempotency: same key + same fingerprint is a
// retry; same key + different fingerprint is a client bug.
std::string Fingerprint(const std::string& what, const Command& cmd) {
  Value::Record r;
  r["what"] = Value::Str(what);
  r["action"] = Value::Str(cmd.action);
  r["actor"] = Value::Str(cmd.actor.value);
  r["on_behalf_of"] = Value::Str(cmd.on_behalf_of.value);
  r["node"] = Value::Str(cmd.node);
  r["comment"] = Value::Str(cmd.comment);
  r["data"] = Value::Of(cmd.data);
  r["args"] = Value::Of(cmd.args);
  return "sha256:" + HexOf(audit::LeafHash(EncodeValue(Value::Of(std::move(r)))));
}

std::string TitleOf(const WorkflowDef& def, const FormData& form) {
  for (const char* key : {"title", "purpose", "topic", "subject", "summary", "name"}) {
    auto it = form.find(key);
    if (it != form.end() && it->second.is_string() && !it->second.as_string().empty())
      return it->second.as_string();
  }
  return def.title;
}

Money AmountOf(const FormData& form) {
  for (const char* key : {"amount", "total", "budget"}) {
    auto it = form.find(key);
    if (it != form.end() && it->second.is_money()) return it->second.as_money();
  }
  return Money{};
}

// A view that owns a copy of the shared snapshot's state and row.
InstanceView CopyOf(SharedInstanceView shared) {
  InstanceView view;
  view.row = shared.snapshot->row;
  view.state = shared.snapshot->state;
  view.def = shared.def;
  view.actions = std::move(shared.actions);
  view.replayed = shared.replayed;
  return view;
}

Result<InstanceView> CopyOf(Result<SharedInstanceView> shared) {
  if (!shared) return std::unexpected(std::move(shared).error());
  return CopyOf(std::move(*shared));
}

// The earliest deadline of the active tokens: when Tick must look at the
// instance next (InstanceRow::next_deadline).
std::optional<Timestamp> NextDeadline(const InstanceState& st) {
  std::optional<Timestamp> next;
  for (const auto& [id, t] : st.active)
    if (t.deadline && (!next || t.deadline->ms < next->ms)) next = t.deadline;
  return next;
}

// The projection row the store keeps for a version of an instance: what
// lists, filters and Tick read without folding events.
InstanceRow ProjectionOf(const WorkflowDef& def, const InstanceState& st) {
  InstanceRow row;
  row.id = st.id;
  row.workflow = def.id;
  row.workflow_version = def.version;
  row.def_hash = def.hash;
  row.status = std::string(InstanceStatusName(st.status));
  row.submitter = st.submitter;
  row.title = TitleOf(def, st.form);
  row.amount = AmountOf(st.form);
  for (const auto& [id, t] : st.active) {
    if (!row.current_nodes.empty()) row.current_nodes.push_back(',');
    row.current_nodes.append(id);
  }
  row.version = st.version;
  row.created_at = st.created_at;
  row.updated_at = st.updated_at;
  row.next_deadline = NextDeadline(st);
  return row;
}

}  // namespace

Engine::Engine(EngineOptions options, Store& store, const Clock& clock,
               std::shared_ptr<const Org> org, WorkflowRegistry& registry,
               Notifier* notifier)
    : options_(std::move(options)),
      store_(store),
      clock_(clock),
      registry_(registry),
      notifier_(notifier),
      org_(std::move(org)),
      log_(EngineLogger()),
      cache_(options_.state_cache_capacity, 16, options_.state_cache_max_bytes) {}

Engine::~Engine() = default;

void Engine::SetOrg(std::shared_ptr<const Org> org) {
  std::unique_lock lock(org_mu_);
  org_ = std::move(org);
}

std::shared_ptr<const Org> Engine::org() const {
  std::shared_lock lock(org_mu_);
  return org_;
}

DecideContext Engine::MakeContext(const WorkflowDef& def, const Org& org,
                                  const CheckFacts* facts) const {
  DecideContext ctx;
  ctx.def = &def;
  ctx.org = &org;
  ctx.now = clock_.Now();
  ctx.calendar = &options_.calendar;
  ctx.checks = &CheckRegistry::Builtin();
  ctx.facts = facts;
  ctx.unit_config = &options_.unit_config;
  return ctx;
}

Result<const WorkflowDef*> Engine::DefinitionOf(const InstanceState& state) const {
  const WorkflowDef* def = registry_.Get(state.workflow, state.def_version).get();
  if (!def)
    return MakeError(ErrorCode::kInternal, "definition_missing",
                     "instance " + std::to_string(state.id.value) + " runs on " +
                         state.workflow + " version " +
                         std::to_string(state.def_version) +
                         ", which is not loaded; keep every version's file");
  return def;
}

void Engine::AuditRefusal(const Command& cmd, InstanceId id, const Error& err) {
  log_->info("refused inst={} on={} actor={} for={} code={} reason={}", id.value,
             cmd.action, cmd.actor.value, cmd.on_behalf_of.value,
             ErrorCodeName(err.code), err.reason);
  if (!options_.audit_refusals || cmd.actor == SystemActor()) return;
  if (err.code != ErrorCode::kRejected && err.code != ErrorCode::kPermissionDenied)
    return;
  AuditRecord rec;
  rec.at = clock_.Now();
  rec.type = "action_refused";
  rec.actor = cmd.actor;
  rec.subject = id.value ? "instance:" + std::to_string(id.value) : "instance:new";
  rec.data["action"] = Value::Str(cmd.action);
  rec.data["node"] = Value::Str(cmd.node);
  rec.data["reason"] = Value::Str(err.reason);
  rec.data["message"] = Value::Str(err.message);
  if (!cmd.on_behalf_of.empty())
    rec.data["on_behalf_of"] = Value::Str(cmd.on_behalf_of.value);
  if (auto r = store_.AppendAudit(rec); !r)
    log_->error("audit append failed for refused action inst={}: {}", id.value,
                r.error().ToString());
}

void Engine::SetExecutor(Executor executor) { executor_ = std::move(executor); }

Result<InstanceView> Engine::Submit(const SubmitRequest& req) {
  std::optional<Result<InstanceView>> out;
  SubmitWith(req, /*async=*/false,
             [&out](Result<SharedInstanceView> r) { out.emplace(CopyOf(std::move(r))); });
  return std::move(*out);
}

void Engine::SubmitAsync(const SubmitRequest& req, ViewDone done) {
  if (!executor_) return done(Submit(req));
  SubmitWith(req, /*async=*/true, [done = std::move(done)](Result<SharedInstanceView> r) {
    done(CopyOf(std::move(r)));
  });
}

void Engine::SubmitAsyncShared(const SubmitRequest& req, SharedViewDone done) {
  SubmitWith(req, /*async=*/static_cast<bool>(executor_), std::move(done));
}

void Engine::SubmitWith(const SubmitRequest& req, bool async, SharedViewDone done) {
  const WorkflowDef* def = registry_.Latest(req.workflow).get();
  if (!def) return done(NotFound("unknown_workflow", "no workflow '" + req.workflow + "'"));
  auto cmd = std::make_shared<Command>();
  cmd->action = action::kSubmit;
  cmd->actor = req.actor;
  cmd->on_behalf_of = req.on_behalf_of;
  cmd->data = req.data;
  cmd->comment = req.comment;
  auto org = this->org();
  InstanceState empty;
  auto facts = GatherFacts(store_, *def, empty, *cmd);  // service/facts.h
  if (!facts) return done(std::unexpected(facts.error()));
  DecideContext ctx = MakeContext(*def, *org, &*facts);
  auto decision = Decide(ctx, empty, *cmd);
  if (!decision) {
    AuditRefusal(*cmd, InstanceId{}, decision.error());
    return done(std::unexpected(decision.error()));
  }
  std::string hash = req.idempotency_key.empty() ? "" : Fingerprint(req.workflow, *cmd);
  CommitWith(*def, empty, std::move(*decision), req.idempotency_key, req.actor.value, hash,
             req.actor, async,
             [this, cmd, done = std::move(done)](Result<SharedInstanceView> result) {
               // The store refused it (an exclusive fact another instance
               // holds, e.g. an invoice number claimed at the same moment): a
               // refusal like Decide's.
               if (!result && result.error().code == ErrorCode::kRejected)
                 AuditRefusal(*cmd, InstanceId{}, result.error());
               done(std::move(result));
             });
}

Result<std::shared_ptr<const CachedInstance>> Engine::LoadFromStore(InstanceId id) {
  auto events = store_.LoadEvents(id);
  if (!events) return std::unexpected(events.error());
  auto state = Fold(*events);
  if (!state) return std::unexpected(state.error());
  auto def = DefinitionOf(*state);
  if (!def) return std::unexpected(def.error());
  // The row is what every append of this version stored (ProjectionOf), so
  // it is derived here rather than read: one read, never out of step with
  // the events.
  auto entry = std::make_shared<CachedInstance>();
  entry->row = ProjectionOf(**def, *state);
  entry->state = std::move(*state);
  cache_.Put(entry, StateCache::Admit::kOnSecondMiss);
  return entry;
}

Result<std::shared_ptr<const CachedInstance>> Engine::Load(InstanceId id, bool* from_cache) {
  if (auto hit = cache_.Find(id)) {
    *from_cache = true;
    return hit;
  }
  *from_cache = false;
  return LoadFromStore(id);
}

Result<InstanceView> Engine::Act(const ActRequest& req) {
  std::optional<Result<InstanceView>> out;
  ActWith(std::make_shared<const ActRequest>(req), /*async=*/false,
          [&out](Result<SharedInstanceView> r) { out.emplace(CopyOf(std::move(r))); });
  return std::move(*out);
}

void Engine::ActAsync(const ActRequest& req, ViewDone done) {
  if (!executor_) return done(Act(req));
  ActWith(std::make_shared<const ActRequest>(req), /*async=*/true,
          [done = std::move(done)](Result<SharedInstanceView> r) { done(CopyOf(std::move(r))); });
}

void Engine::ActAsyncShared(const ActRequest& req, SharedViewDone done) {
  ActWith(std::make_shared<const ActRequest>(req), /*async=*/static_cast<bool>(executor_),
          std::move(done));
}

void Engine::ActWith(std::shared_ptr<const ActRequest> req, bool async, SharedViewDone done) {
  bool from_cache = false;
  auto entry = Load(req->instance, &from_cache);
  if (!entry) return done(std::unexpected(entry.error()));
  auto first = [this, req, async, done](Result<SharedInstanceView> result, bool retry) mutable {
    if (!retry) return done(std::move(result));
    // What the cached state said may be out of date (a version mismatch, a
    // refusal, a lost race): decide again on the store's state. The second
    // attempt never asks for a retry.
    auto fresh = LoadFromStore(req->instance);
    if (!fresh) return done(std::unexpected(fresh.error()));
    ActOnceWith(req, std::move(*fresh), /*from_cache=*/false, async,
                [done = std::move(done)](Result<SharedInstanceView> again, bool) {
                  done(std::move(again));
                });
  };
  ActOnceWith(std::move(req), std::move(*entry), from_cache, async, std::move(first));
}

void Engine::ActOnceWith(std::shared_ptr<const ActRequest> req,
                         std::shared_ptr<const CachedInstance> entry, bool from_cache,
                         bool async,
                         std::function<void(Result<SharedInstanceView>, bool retry)> done) {
  const InstanceState& state = entry->state;
  auto def = DefinitionOf(state);
  if (!def) return done(std::unexpected(def.error()), false);
  if (req->expected_version && *req->expected_version != state.version) {
    return done(MakeError(ErrorCode::kConflict, "stale_version",
                          "the instance is at version " + std::to_string(state.version) +
                              ", not " + std::to_string(*req->expected_version) +
                              "; reload it and try again"),
                from_cache);
  }
  auto org = this->org();
  // Most steps run no check node: decide without the facts first and read
  // them from the store (service/facts.h) only for a step that reaches one.
  const CheckFacts no_facts;
  std::optional<CheckFacts> facts;
  DecideContext ctx = MakeContext(**def, *org, &no_facts);
  ctx.facts_deferred = UsesFacts(**def);
  auto decision = Decide(ctx, state, req->command);
  if (!decision && ctx.facts_deferred && decision.error().reason == kFactsNeeded) {
    auto gathered = GatherFacts(store_, **def, state, req->command);
    if (!gathered) return done(std::unexpected(gathered.error()), false);
    facts = std::move(*gathered);
    ctx.facts = &*facts;
    ctx.facts_deferred = false;
    decision = Decide(ctx, state, req->command);
  }
  ctx.facts_deferred = false;  // the trials of AvailableActions below
  if (!decision) {
    // Refuse only on the store's state.
    if (from_cache) return done(std::unexpected(decision.error()), true);
    AuditRefusal(req->command, req->instance, decision.error());
    return done(std::unexpected(decision.error()), false);
  }
  const PersonId& viewer = req->command.actor;
  if (decision->events.empty()) {
    SharedInstanceView view;
    view.def = *def;
    view.actions = ActionsFor(*entry, viewer, org, ctx);
    view.snapshot = std::move(entry);  // unchanged: the answer is the state acted on
    return done(std::move(view), false);
  }
  std::string hash = req->idempotency_key.empty()
                         ? ""
                         : Fingerprint(std::to_string(req->instance.value), req->command);
  CommitWith(**def, state, std::move(*decision), req->idempotency_key, req->command.actor.value,
             hash, viewer, async,
             [this, req, from_cache, done = std::move(done)](Result<SharedInstanceView> result) {
               if (!result && result.error().code == ErrorCode::kRejected)
                 AuditRefusal(req->command, req->instance, result.error());  // see SubmitWith
               // Lost the store's version check on a cached state, and the
               // client did not pin a version: the cache was behind (or
               // another call won); decide again.
               bool retry = !result && from_cache && !req->expected_version &&
                            result.error().code == ErrorCode::kConflict &&
                            result.error().reason == "version_conflict";
               done(std::move(result), retry);
             });
}

// A commit between its append and what follows it.
struct Engine::PendingCommit {
  const WorkflowDef* def = nullptr;
  InstanceId before_id;
  int64_t before_version = 0;
  AppendRequest req;                   // as sent (the store gets a copy)
  InstanceState state;                 // the decision's new state
  std::vector<PersonId> newly_pending;
  PersonId viewer;
  // What `viewer` may do on the new state, worked out before the append so
  // that the completions of a group commit, which run one after another,
  // need not: the answer's actions if the append succeeds. The new
  // snapshot remembers them for the viewer (ViewerActionsMemo), decided
  // under `org` at `actions_at` and holding before `actions_until`.
  std::vector<AvailableAction> actions;
  std::shared_ptr<const Org> org;
  Timestamp actions_at;
  Timestamp actions_until;
};

void Engine::CommitWith(const WorkflowDef& def, const InstanceState& before, Decision decision,
                        const std::string& idem_key, const std::string& idem_owner,
                        const std::string& request_hash, const PersonId& viewer, bool async,
                        SharedViewDone done) {
  auto pc = std::make_shared<PendingCommit>();
  pc->def = &def;
  pc->before_id = before.id;
  pc->before_version = before.version;
  pc->viewer = viewer;
  const InstanceState& st = decision.state;
  Timestamp now = decision.events.back().at;
  AppendRequest& req = pc->req;
  req.instance = before.id;
  req.expected_version = before.version;
  req.idempotency_key = idem_key;
  req.idempotency_owner = idem_owner;
  req.request_hash = request_hash;
  auto facts = FactsOf(store_, def, st, decision.events);  // service/facts.h
  if (!facts) return done(std::unexpected(facts.error()));
  req.facts = std::move(*facts);
  req.events = std::move(decision.events);

  req.row = ProjectionOf(def, st);
  req.row.id = before.id;

  // Task projection: who must act, who acted, who is copied. A task's
  // `since` is when it began (its node became active, the person acted, the
  // person was copied), so the rows of tasks an append leaves alone stay as
  // they are and the task lists keep their order.
  // A handful of rows: a scan of those added finds a repeat of (kind, node,
  // person) without building keys.
  auto add_task = [&](const std::string& node, const PersonId& p, const char* kind,
                      Timestamp since) {
    if (p.empty() || p == SystemActor()) return;
    for (const TaskRow& t : req.tasks)
      if (t.kind == kind && t.node == node && t.person == p) return;
    req.tasks.push_back(TaskRow{before.id, node, p, kind, since});
  };
  // Into `st`, which stays as it is until it moves into the snapshot below.
  std::vector<PendingRef> pending;
  if (!st.terminal()) pending = PendingPeopleRefs(def, st);
  req.tasks.reserve(pending.size() + st.acts.size() + st.cc.size());
  for (const PendingRef& r : pending) {
    auto t = st.active.find(*r.node);
    add_task(*r.node, *r.person, "pending", t == st.active.end() ? now : t->second.entered_at);
  }
  // The latest decision of a person on a node dates their done task.
  for (auto a = st.acts.rbegin(); a != st.acts.rend(); ++a)
    add_task(a->node, a->person, "done", a->at);
  for (size_t i = 0; i < st.cc.size(); ++i)
    add_task("", st.cc[i], "cc", i < st.cc_at.size() ? st.cc_at[i] : now);

  // Who got work they did not have before, for push notifications.
  bool was_draft = before.status == InstanceStatus::kDraft;
  for (const PendingRef& r : pending)
    if ((was_draft || !IsPending(def, before, *r.node, *r.person)) &&
        std::find(pc->newly_pending.begin(), pc->newly_pending.end(), *r.person) ==
            pc->newly_pending.end())
      pc->newly_pending.push_back(*r.person);
  {
    pc->org = this->org();
    DecideContext ctx = MakeContext(def, *pc->org, nullptr);
    pc->actions_at = ctx.now;
    // The decision's state is ours until it moves into the snapshot: the
    // trials decide on it instead of on a copy (most change nothing).
    pc->actions = AvailableActionsInPlace(ctx, &decision.state, viewer, &pc->actions_until);
  }
  pc->state = std::move(decision.state);

  if (!async) return done(FinishCommit(*pc, store_.Append(pc->req)));
  store_.AppendAsync(pc->req, [this, pc, done = std::move(done)](
                                  Result<AppendResult> appended) mutable {
    // On the store's thread (SqliteStore: its writer): hand off at once.
    InstanceId id = pc->before_id;
    Complete(id, [this, pc = std::move(pc), done = std::move(done),
                  appended = std::move(appended)]() mutable {
      done(FinishCommit(*pc, std::move(appended)));
    });
  });
}

void Engine::Complete(InstanceId id, std::function<void()> fn) {
  // A new instance has no completion before this one to stay behind.
  size_t which = id.value != 0 ? static_cast<size_t>(static_cast<uint64_t>(id.value) %
                                                     kCompletionQueues)
                               : next_new_queue_.fetch_add(1, std::memory_order_relaxed) %
                                     kCompletionQueues;
  CompletionQueue& q = completions_[which];
  {
    std::lock_guard lock(q.mu);
    q.fns.push_back(std::move(fn));
    if (q.scheduled) return;  // the queued or running task takes it
    q.scheduled = true;
  }
  executor_([this, &q] { RunCompletions(q); });
}

void Engine::RunCompletions(CompletionQueue& q) {
  // Takes one completion at a time and, when it takes the last one, ends the
  // task before running it: nothing of *this is touched after the last
  // completion has answered its caller, who may then destroy the engine. A
  // completion that arrives meanwhile is posted as a task of its own. (A
  // task of another queue that is still running has a completion of its own
  // not yet answered, so the engine is not destroyed under it either.)
  for (;;) {
    std::function<void()> fn;
    bool last = false;
    {
      std::lock_guard lock(q.mu);
      if (q.fns.empty()) {
        q.scheduled = false;
        return;
      }
      fn = std::move(q.fns.front());
      q.fns.pop_front();
      if (q.fns.empty()) {
        q.scheduled = false;
        last = true;
      }
    }
    fn();
    if (last) return;
  }
}

Result<SharedInstanceView> Engine::FinishCommit(PendingCommit& pc,
                                                Result<AppendResult> appended) {
  const WorkflowDef& def = *pc.def;
  AppendRequest& req = pc.req;
  InstanceRow& row = req.row;
  if (!appended) {
    if (appended.error().code == ErrorCode::kConflict)
      log_->warn("conflict inst={} wf={} expected={} reason={}", pc.before_id.value, def.id,
                 pc.before_version, appended.error().reason);
    else if (appended.error().code == ErrorCode::kRejected)
      log_->info("append refused inst={} wf={} reason={}", pc.before_id.value, def.id,
                 appended.error().reason);
    else
      log_->error("append failed inst={} wf={}: {}", pc.before_id.value, def.id,
                  appended.error().ToString());
    // The store's state is now unknown to us (a conflict, or a failure that
    // may have happened after COMMIT): refresh the cached one from the store.
    if (pc.before_id.value != 0 && !LoadFromStore(pc.before_id)) cache_.Erase(pc.before_id);
    return std::unexpected(appended.error());
  }
  if (appended->replayed) {
    auto view = GetShared(appended->instance, pc.viewer);
    if (view) view->replayed = true;
    return view;
  }

  // The new version, moved (not copied) into the snapshot that the cache
  // keeps and the answer shares.
  row.id = appended->instance;
  auto entry = std::make_shared<CachedInstance>();
  entry->state = std::move(pc.state);
  entry->state.id = appended->instance;
  entry->row = row;
  entry->actions.Put(pc.viewer, pc.org, pc.actions_at, pc.actions_until, pc.actions);
  // A new instance enters the cache; a commit on an instance the cache did
  // not hold enters it only where there is room (see LoadFromStore).
  cache_.Put(entry, pc.before_id.value == 0 ? StateCache::Admit::kEvicting
                                            : StateCache::Admit::kIfRoom);
  for (auto& t : req.tasks) t.instance = appended->instance;
  for (auto& e : req.events) e.instance = appended->instance;
  for (const auto& e : req.events)
    log_->info("event inst={} wf={} v={} type={} node={} actor={} for={}",
               appended->instance.value, def.id, e.version, e.type, e.node,
               e.actor.value, e.on_behalf_of.value);
  if (notifier_) {
    Change change;
    change.row = std::move(row);  // the snapshot has its copy; the request is done
    change.events = std::move(req.events);
    change.tasks = std::move(req.tasks);
    change.newly_pending = std::move(pc.newly_pending);
    notifier_->OnChange(change);
  }
  SharedInstanceView view;
  view.def = &def;
  view.actions = std::move(pc.actions);
  view.snapshot = std::move(entry);
  return view;
}

std::optional<SharedInstanceView> Engine::ViewOf(std::shared_ptr<const CachedInstance> entry,
                                                 const PersonId& viewer, Error* def_error) {
  auto def = DefinitionOf(entry->state);
  if (!def) {
    if (def_error) *def_error = def.error();
    return std::nullopt;
  }
  SharedInstanceView view;
  view.def = *def;
  auto org = this->org();
  DecideContext ctx = MakeContext(**def, *org, nullptr);
  view.actions = ActionsFor(*entry, viewer, org, ctx);
  view.snapshot = std::move(entry);
  return view;
}

std::vector<AvailableAction> Engine::ActionsFor(const CachedInstance& entry,
                                                const PersonId& viewer,
                                                const std::shared_ptr<const Org>& org,
                                                const DecideContext& ctx) {
  if (auto known = entry.actions.Find(viewer, org, ctx.now)) {
    actions_memo_hits_.fetch_add(1, std::memory_order_relaxed);
    return std::move(*known);
  }
  actions_memo_misses_.fetch_add(1, std::memory_order_relaxed);
  Timestamp valid_until;
  std::vector<AvailableAction> actions =
      AvailableActions(ctx, entry.state, viewer, &valid_until);
  entry.actions.Put(viewer, org, ctx.now, valid_until, actions);
  return actions;
}

Result<SharedInstanceView> Engine::GetShared(InstanceId id, const PersonId& viewer) {
  bool from_cache = false;
  auto entry = Load(id, &from_cache);
  if (!entry) return std::unexpected(entry.error());
  Error def_error;
  auto view = ViewOf(std::move(*entry), viewer, &def_error);
  if (!view) return std::unexpected(std::move(def_error));
  return std::move(*view);
}

std::optional<SharedInstanceView> Engine::GetCachedShared(InstanceId id,
                                                          const PersonId& viewer) {
  auto entry = cache_.Find(id);
  if (!entry) return std::nullopt;
  return ViewOf(std::move(entry), viewer, nullptr);  // a missing definition: Get reports it
}

Result<InstanceView> Engine::Get(InstanceId id, const PersonId& viewer) {
  auto shared = GetShared(id, viewer);
  if (!shared) return std::unexpected(shared.error());
  return CopyOf(std::move(*shared));
}

std::optional<InstanceView> Engine::GetCached(InstanceId id, const PersonId& viewer) {
  auto shared = GetCachedShared(id, viewer);
  if (!shared) return std::nullopt;
  return CopyOf(std::move(*shared));
}

bool Engine::CanView(const InstanceView& view, const PersonId& viewer) const {
  return CanView(view.state, viewer);
}

bool Engine::CanView(const InstanceState& st, const PersonId& viewer) const {
  if (viewer.empty()) return false;
  if (st.submitter == viewer || st.submitted_by == viewer) return true;
  if (std::find(st.cc.begin(), st.cc.end(), viewer) != st.cc.end()) return true;
  for (const auto& a : st.acts)
    if (a.person == viewer || a.actor == viewer) return true;
  for (const auto& [id, t] : st.active) {
    for (const auto& s : t.signers)
      if (s.person == viewer || s.delegate == viewer) return true;
    const MeetingState& m = t.meeting;
    if (std::find(m.members.begin(), m.members.end(), viewer) != m.members.end() ||
        std::find(m.secretaries.begin(), m.secretaries.end(), viewer) !=
            m.secretaries.end())
      return true;
  }
  return false;
}

Result<std::vector<Event>> Engine::Trail(InstanceId id) { return store_.LoadEvents(id); }

Result<int> Engine::Tick() {
  int changed = 0;
  Timestamp now = clock_.Now();
  InstanceQuery q;
  q.status = "running";
  q.due_by = now;
  q.limit = 200;
  for (;;) {
    auto rows = store_.ListInstances(q);
    if (!rows) return std::unexpected(rows.error());
    for (const auto& row : *rows) {
      bool from_cache = false;
      auto entry = Load(row.id, &from_cache);
      if (!entry) return std::unexpected(entry.error());
      const InstanceState* state = &(*entry)->state;
      std::optional<Timestamp> next = NextDeadline(*state);
      if (!next || now < *next) {
        // The row said due but the state does not: a row stored before the
        // store projected deadlines. Record the real one, so the next scan
        // skips it (false: it moved on meanwhile, and that append wrote it).
        if (state->version == row.version) {
          if (auto set = store_.SetNextDeadline(row.id, row.version, next); !set)
            log_->warn("tick inst={} could not record its next deadline: {}", row.id.value,
                       set.error().ToString());
        }
        continue;
      }
      ActRequest req;
      req.instance = row.id;
      req.command.action = action::kTick;
      req.command.actor = SystemActor();
      req.expected_version = state->version;
      auto r = Act(req);
      if (r) {
        ++changed;
      } else if (r.error().code != ErrorCode::kConflict) {
        log_->warn("tick inst={} failed: {}", row.id.value, r.error().ToString());
      }
    }
    if (rows->size() < static_cast<size_t>(q.limit)) break;
    q.after_id = rows->back().id.value;
  }
  return changed;
}

}  // namespace approvald
