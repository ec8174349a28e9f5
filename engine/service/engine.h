// The engine service: the shell around the pure core.
//   load (events from the Store, fold) -> Decide -> Append (with projections)
//   -> notify (after durable).
// It owns no business rules; those are in engine/core and the workflow files.
// Thread-safe: concurrent calls on different instances run in parallel;
// concurrent calls on one instance are ordered by the store's expected
// version (the loser gets kConflict).
#ifndef APPROVALD_SERVICE_ENGINE_H_
#define APPROVALD_SERVICE_ENGINE_H_

#include <array>
#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "approvald/clock.h"
#include "approvald/command.h"
#include "approvald/instance.h"
#include "approvald/notifier.h"
#include "approvald/org.h"
#include "approvald/status.h"
#include "approvald/store.h"
#include "approvald/workflow.h"
#include "core/calendar.h"
#include "core/checks.h"
#include "core/decide.h"
#include "service/state_cache.h"

namespace spdlog { class logger; }

namespace approvald {

class WorkflowRegistry;

struct EngineOptions {
  // Unit configuration handed to checks (catalogue, thresholds, standards).
  Value::Record unit_config;
  Calendar calendar;
  // Record refused actions of authenticated users in the audit log.
  bool audit_refusals = true;
  // How many instances' folded states (and rows) the engine keeps in memory
  // so Act and Get need not reload and refold their events; 0 disables the
  // cache. The engine must be the only writer of the store's instances for
  // Get to be current; Act always is (a stale entry fails the store's
  // version check, and the engine then reloads).
  size_t state_cache_capacity = 32768;
  // And at most about this many bytes of cached states and rows (by
  // ApproxBytes, state_cache.h); 0 = bounded by the entry count alone. The
  // default keeps the daemon's resident memory under 100 MB with tens of
  // thousands of running instances; instances beyond it are reloaded from
  // the store when used.
  size_t state_cache_max_bytes = size_t{32} << 20;
};

struct SubmitRequest {
  std::string workflow;            // workflow id; runs on its latest version
  FormData data;
  PersonId actor;
  PersonId on_behalf_of;           // submit for someone else (a proxy)
  std::string idempotency_key;     // optional
  std::string comment;
};

struct ActRequest {
  InstanceId instance;
  Command command;                 // action, actor, node, comment, args, data
  std::optional<int64_t> expected_version;  // stale -> kConflict "stale_version"
  std::string idempotency_key;     // optional
};

// What a client sees of an instance.
struct InstanceView {
  InstanceRow row;
  InstanceState state;
  const WorkflowDef* def = nullptr;          // the version it runs on
  std::vector<AvailableAction> actions;      // for the viewer
  bool replayed = false;                     // an idempotent repeat
};

// What a client sees of an instance, sharing the engine's cached snapshot
// (an immutable version of the state and row) instead of copying it: the
// hot read path. `snapshot` is never null.
struct SharedInstanceView {
  std::shared_ptr<const CachedInstance> snapshot;
  const WorkflowDef* def = nullptr;          // the version it runs on
  std::vector<AvailableAction> actions;      // for the viewer
  bool replayed = false;                     // an idempotent repeat
};

class Engine {
 public:
  // `store`, `clock`, `org`, `registry` must outlive the engine; `notifier`
  // may be null.
  Engine(EngineOptions options, Store& store, const Clock& clock,
         std::shared_ptr<const Org> org, WorkflowRegistry& registry,
         Notifier* notifier);
  ~Engine();

  Result<InstanceView> Submit(const SubmitRequest& req);
  Result<InstanceView> Act(const ActRequest& req);

  // Where a continuation runs: Executor(fn) must run fn() soon, on a thread
  // that may block on the store (a worker pool), never inline in the caller.
  using Executor = std::function<void(std::function<void()>)>;
  using ViewDone = std::function<void(Result<InstanceView>)>;
  // Sets where SubmitAsync and ActAsync continue once the store has made
  // their change durable: not on the store's thread that answered the append
  // (SqliteStore's writer). Call once, before the first asynchronous call.
  void SetExecutor(Executor executor);
  // Submit and Act without holding the calling thread while the change
  // becomes durable (Store::AppendAsync), so that a few threads keep the
  // store's group commit full. Same answers, side effects and order as
  // Submit / Act (the retry on a stale cached state, refusal auditing,
  // idempotent replay, the state cache, the notifier after durability).
  // The work before the append (load, decide) runs on the calling thread;
  // `done` is called exactly once, on the executor (or on the calling thread
  // for an answer known before the append). Without an executor they are
  // Submit / Act followed by `done` on the calling thread. The engine and
  // everything it references must outlive the call to `done`.
  void SubmitAsync(const SubmitRequest& req, ViewDone done);
  void ActAsync(const ActRequest& req, ViewDone done);
  // SubmitAsync and ActAsync answering with the shared snapshot of the new
  // version instead of a copy of it: the snapshot is the one the commit put
  // into the state cache (when the cache kept it), built by moving the
  // decision's state, so the answer copies no state. Same answers, side
  // effects, order and threads as SubmitAsync / ActAsync.
  using SharedViewDone = std::function<void(Result<SharedInstanceView>)>;
  void SubmitAsyncShared(const SubmitRequest& req, SharedViewDone done);
  void ActAsyncShared(const ActRequest& req, SharedViewDone done);

  // The instance as `viewer` sees it (actions computed for the viewer).
  // kNotFound if it does not exist. Visibility is decided by the caller
  // (api/) with CanView().
  Result<InstanceView> Get(InstanceId id, const PersonId& viewer);
  // Get answered from the state cache alone: nullopt when the instance is
  // not cached (or its definition is missing), and the caller then uses Get.
  // Never touches the store, so it may run on a thread that must not block
  // on I/O (the API's network thread).
  std::optional<InstanceView> GetCached(InstanceId id, const PersonId& viewer);
  // Get and GetCached without copying the instance's state and row: the view
  // holds the cached snapshot (loaded from the store and cached first if
  // needed, for GetShared).
  Result<SharedInstanceView> GetShared(InstanceId id, const PersonId& viewer);
  std::optional<SharedInstanceView> GetCachedShared(InstanceId id, const PersonId& viewer);
  // True if `viewer` submitted, acts or acted on, or is CC'd on the instance.
  bool CanView(const InstanceView& view, const PersonId& viewer) const;
  bool CanView(const InstanceState& state, const PersonId& viewer) const;
  Result<std::vector<Event>> Trail(InstanceId id);

  // Applies deadlines due at the clock's now to every running instance that
  // has one. Returns how many instances changed.
  Result<int> Tick();

  // Replaces the organisation (an administrative change; audited by the caller).
  void SetOrg(std::shared_ptr<const Org> org);
  std::shared_ptr<const Org> org() const;
  const WorkflowRegistry& registry() const { return registry_; }
  Store& store() { return store_; }
  // The state cache, for metrics and tests.
  const StateCache& state_cache() const { return cache_; }
  // Views whose actions a snapshot remembered for the viewer
  // (ViewerActionsMemo), and views that had to decide them.
  int64_t actions_memo_hits() const { return actions_memo_hits_.load(std::memory_order_relaxed); }
  int64_t actions_memo_misses() const {
    return actions_memo_misses_.load(std::memory_order_relaxed);
  }

 private:
  struct PendingCommit;
  // Submit, Act and Commit in continuation-passing style: with `async`,
  // the append is Store::AppendAsync and what follows it runs on the
  // executor; without, everything runs on the calling thread before return.
  void SubmitWith(const SubmitRequest& req, bool async, SharedViewDone done);
  void ActWith(std::shared_ptr<const ActRequest> req, bool async, SharedViewDone done);
  // One decision on `entry`; `done` gets the answer and whether to decide
  // again on the store's state.
  void ActOnceWith(std::shared_ptr<const ActRequest> req,
                   std::shared_ptr<const CachedInstance> entry, bool from_cache, bool async,
                   std::function<void(Result<SharedInstanceView>, bool retry)> done);
  void CommitWith(const WorkflowDef& def, const InstanceState& before, Decision decision,
                  const std::string& idem_key, const std::string& idem_owner,
                  const std::string& request_hash, const PersonId& viewer, bool async,
                  SharedViewDone done);
  // Completions wait in kCompletionQueues queues, each run by at most one
  // executor task at a time, in order; an instance's completions always go
  // to the same queue (by its id), so they run in the order of its appends.
  struct CompletionQueue {
    std::mutex mu;
    std::deque<std::function<void()>> fns;  // guarded by mu
    bool scheduled = false;                 // guarded by mu
  };
  static constexpr size_t kCompletionQueues = 2;
  // Runs `fn` (what follows a durable append on instance `id`; 0 for a new
  // one) on the executor. A completion that arrives while an earlier one's
  // task of the same queue is queued or running joins that task instead of
  // being posted on its own: the store answers a group commit's appends
  // together, and each post may wake a worker thread (a futex wake and a
  // context switch), so a batch is handed over once per queue. Two queues
  // let two workers share a batch's completions instead of one running them
  // all while the last caller waits.
  void Complete(InstanceId id, std::function<void()> fn);
  // The executor's task: runs `q`'s completions until there are none.
  void RunCompletions(CompletionQueue& q);
  // What follows the append: the cache, the log, the notifier, the view
  // (sharing the new snapshot, whose state is moved out of `pc`).
  Result<SharedInstanceView> FinishCommit(PendingCommit& pc, Result<AppendResult> appended);
  DecideContext MakeContext(const WorkflowDef& def, const Org& org,
                            const CheckFacts* facts) const;
  Result<const WorkflowDef*> DefinitionOf(const InstanceState& state) const;
  void AuditRefusal(const Command& cmd, InstanceId id, const Error& err);
  // The instance's state and row: from the cache if present (*from_cache
  // set), else loaded from the store, folded and cached.
  Result<std::shared_ptr<const CachedInstance>> Load(InstanceId id, bool* from_cache);
  // Always from the store (and refreshes the cache).
  Result<std::shared_ptr<const CachedInstance>> LoadFromStore(InstanceId id);
  // The shared view of `entry` for `viewer`; nullopt if its definition is
  // not loaded (`def_error` then holds why, if given).
  std::optional<SharedInstanceView> ViewOf(std::shared_ptr<const CachedInstance> entry,
                                           const PersonId& viewer, Error* def_error);
  // What `viewer` may do on `entry` at ctx.now (ctx decides on entry's
  // definition under `org`): remembered by the snapshot
  // (ViewerActionsMemo) if it holds, else decided and remembered.
  std::vector<AvailableAction> ActionsFor(const CachedInstance& entry, const PersonId& viewer,
                                          const std::shared_ptr<const Org>& org,
                                          const DecideContext& ctx);

  EngineOptions options_;
  Store& store_;
  const Clock& clock_;
  WorkflowRegistry& registry_;
  Notifier* notifier_;
  Executor executor_;
  std::array<CompletionQueue, kCompletionQueues> completions_;
  std::atomic<size_t> next_new_queue_{0};  // where new instances' completions go
  mutable std::shared_mutex org_mu_;
  std::shared_ptr<const Org> org_;
  std::shared_ptr<spdlog::logger> log_;
  StateCache cache_;
  std::atomic<int64_t> actions_memo_hits_{0};
  std::atomic<int64_t> actions_memo_misses_{0};
};

}  // namespace approvald

#endif  // APPROVALD_SERVICE_ENGINE_H_
