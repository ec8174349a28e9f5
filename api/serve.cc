// `approvald serve`: reads the config once, turns it into each layer's
// options, wires store -> engine -> router -> server, and runs until a
// signal. Destruction order is the shutdown order: the server drains first,
// the engine goes next, the store last, so its group commit is flushed and
// nothing acknowledged is lost.
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <malloc.h>
#ifdef APPROVAL_USE_MIMALLOC
#include <mimalloc.h>
#endif
#include <sys/stat.h>

#include <algorithm>
#include <csignal>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "api/auth.h"
#include "api/bootstrap.h"
#include "api/checkpointer.h"
#include "api/commands.h"
#include "api/limits.h"
#include "api/log_format.h"
#include "api/metrics.h"
#include "api/router.h"
#include "api/server.h"
#include "api/startup_audit.h"
#include "api/store_metrics.h"
#include "api/selfcheck_trigger.h"
#include "api/ws_hub.h"
#include "audit/checkpoint.h"
#include "config/config.h"
#include "core/registry.h"
#include "service/engine.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/user_store.h"

namespace approvald::api {

namespace fs = std::filesystem;

// The password demo mode gives every demo login. Printed at start-up.
inline constexpr const char* kDemoPassword = "approvald-demo";

namespace {

void SetUpLogging(const Config& c) {
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  // Times in logs are UTC, like every timestamp inside the daemon. JSON
  // lines escape the message and carry its key=value pairs as fields
  // (api/log_format.h).
  if (c.log_format == "json") {
    sink->set_formatter(std::make_unique<JsonLogFormatter>());
  } else {
    sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %n: %v", spdlog::pattern_time_type::utc));
  }
  auto level = spdlog::level::from_str(c.log_level);
  for (const char* name : {"api", "engine", "store"}) {
    spdlog::drop(name);
    auto logger = std::make_shared<spdlog::logger>(name, sink);
    logger->set_level(level);
    spdlog::register_logger(logger);
  }
  auto def = std::make_shared<spdlog::logger>("approvald", sink);
  def->set_level(level);
  spdlog::set_default_logger(def);
}

// The file in the data directory that lists the logins demo mode gave the
// known password, one username a line, so that a later start without demo
// mode can take that password away again.
fs::path DemoLoginsFile(const std::string& data_dir) {
  return fs::path(data_dir) / "demo-logins";
}

// A start without demo mode after one with it: every login demo mode listed
// that still has the known password loses it (login impossible until an
// admin sets one: `approvald user set-password`), so the data directory of a
// demo never serves the published password beyond loopback. Then the list is
// removed. Returns false on a storage error (the list stays for the next try).
bool RetireDemoPasswords(AuthService& auth, const std::string& data_dir) {
  fs::path path = DemoLoginsFile(data_dir);
  std::error_code ec;
  if (!fs::exists(path, ec)) return true;
  auto log = spdlog::get("api");
  std::ifstream list(path);
  std::vector<std::string> removed;
  for (std::string username; std::getline(list, username);) {
    if (username.empty()) continue;
    auto r = auth.RemovePasswordIf(username, kDemoPassword, "system");
    if (!r) {
      log->error("demo password of {} not removed: {}", username, r.error().ToString());
      return false;
    }
    if (*r) removed.push_back(username);
  }
  list.close();
  fs::remove(path, ec);
  if (!removed.empty()) {
    std::string names;
    for (const auto& u : removed) names += (names.empty() ? "" : ",") + u;
    log->warn("demo password removed from {} logins users={}: set their passwords with "
              "`approvald user set-password USERNAME --data-dir {}`",
              removed.size(), names, data_dir);
  }
  return true;
}

int ConfigError(const std::string& msg) {
  std::fprintf(stderr, "approvald: %s\n", msg.c_str());
  return 2;
}

// Creates the demo logins that do not exist yet: one per person (username =
// person id; people holding the `auditor` position get the auditor role),
// plus `admin`, and lists them in DemoLoginsFile. Returns false on a
// storage error.
bool CreateDemoUsers(AuthService& auth, const Org& org, const std::string& data_dir) {
  std::vector<std::pair<std::string, std::string>> shown;
  auto ensure = [&](const std::string& username, Role role, const PersonId& person,
                    const std::string& label) {
    auto existing = auth.users().GetUser(username);
    if (existing) {
      if (existing->password_hash.empty()) {
        (void)auth.SetPassword(username, kDemoPassword, "demo");
      }
    } else {
      auto u = auth.AddUser(username, role, person, kDemoPassword, "demo");
      if (!u) {
        spdlog::get("api")->error("demo user {} not created: {}", username, u.error().ToString());
        return false;
      }
    }
    shown.emplace_back(username, label);
    return true;
  };
  if (!ensure("admin", Role::kAdmin, PersonId(), "administrator (users, organisation)")) {
    return false;
  }
  for (const auto& p : org.people) {
    bool auditor = std::find(p.positions.begin(), p.positions.end(), "auditor") != p.positions.end();
    std::string label = p.name + " " + p.name_en;
    if (!p.positions.empty()) label += " (" + p.positions.front() + ")";
    if (!ensure(p.id.value, auditor ? Role::kAuditor : Role::kUser, p.id, label)) return false;
  }
  if (org.Holders("auditor").empty()) {
    if (!ensure("auditor", Role::kAuditor, PersonId(), "auditor (reads everything)")) return false;
  }
  {
    std::ofstream list(DemoLoginsFile(data_dir), std::ios::trunc);
    for (const auto& entry : shown) list << entry.first << '\n';
    if (!list.flush()) {
      spdlog::get("api")->error("cannot write {}: a later start without demo mode could not "
                                "remove the demo password",
                                DemoLoginsFile(data_dir).string());
      return false;
    }
  }
  std::printf("\nDemo mode: every login below has the password \"%s\"\n", kDemoPassword);
  for (const auto& [u, label] : shown) std::printf("  %-16s %s\n", u.c_str(), label.c_str());
  std::fflush(stdout);
  return true;
}

// The allocator: mimalloc when the build links it (APPROVAL_MIMALLOC, the
// default outside the sanitizer and fuzz builds), else glibc's malloc tuned
// for many threads. Returns what serves, for the start-up log.
std::string ConfigureAllocator() {
#ifdef APPROVAL_USE_MIMALLOC
  // The link puts mimalloc's malloc before the C library's; check it did.
  auto* probe = static_cast<char*>(std::malloc(64));
  if (probe == nullptr) return "mimalloc (allocation failed at start)";
  probe[0] = 1;
  bool ours = mi_is_in_heap_region(probe);
  std::free(probe);
  if (ours) return "mimalloc " + std::to_string(mi_version());
#endif
  // Many worker threads would otherwise each get a malloc arena, and the
  // resident set grows with fragmentation instead of with load.
  mallopt(M_ARENA_MAX, 2);
  // No fastbins: with them, every allocation of 1 KB or more (response
  // bodies, buffers) first consolidates all the small blocks freed since the
  // last one, which was a quarter of the CPU of a cached GET (perf, issue 4
  // bench); small blocks still recycle through the per-thread cache.
  mallopt(M_MXFAST, 0);
  return "glibc malloc";
}

}  // namespace

int RunServe(const ServeArgs& args) {
  const std::string allocator = ConfigureAllocator();
  // A write past a file-size limit (ulimit -f) must fail with EFBIG and be
  // refused like a full disk, not kill the daemon with SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  // The data directory holds password and session hashes and the audit
  // signing key: whatever the daemon creates is for its own user only.
  ::umask(077);
  // 1. The configuration, read once.
  Result<Config> loaded =
      args.config_file.empty() ? Result<Config>(DefaultConfig()) : LoadConfigFile(args.config_file);
  if (!loaded) return ConfigError(loaded.error().message);
  Config cfg = *loaded;
  if (!args.listen.empty()) {
    if (auto st = SetConfigValue(&cfg, "listen", args.listen); !st) {
      return ConfigError("--listen: " + st.error().message);
    }
  }
  if (!args.data_dir.empty()) cfg.data_dir = args.data_dir;
  if (args.demo) cfg.demo = true;
  std::string host;
  uint16_t port = 0;
  SplitListen(cfg.listen, &host, &port);
  if (cfg.demo && !IsLoopbackHost(host)) {
    return ConfigError("demo mode sets known passwords, so it only listens on loopback "
                       "(127.0.0.1, ::1, localhost); refusing listen=" + cfg.listen);
  }
  SetUpLogging(cfg);
  auto log = spdlog::get("api");

  // 2. Storage.
  std::error_code ec;
  fs::create_directories(cfg.data_dir, ec);
  if (ec) return ConfigError("data_dir " + cfg.data_dir + ": " + ec.message());
  SqliteOptions store_opts;
  store_opts.path = (fs::path(cfg.data_dir) / "approvald.db").string();
  // Reads are short and WAL lets them run beside the writer; a handful of
  // connections (each with its own page cache) serve many workers.
  store_opts.read_connections = std::clamp(cfg.worker_threads, 2, 8);
  auto store = SqliteStore::Open(store_opts);
  if (!store) return ConfigError(store.error().message);
  auto users = SqliteUserStore::Open(store_opts.path);
  if (!users) return ConfigError(users.error().message);

  // 3. Organisation, workflows, calendar, unit configuration.
  auto org = LoadOrgFile(cfg.org_file);
  if (!org) return ConfigError(org.error().message);
  WorkflowRegistry registry;
  auto created = LoadWorkflows(cfg.workflows_dir, **org, **store, registry);
  if (!created) return ConfigError(created.error().message);
  auto calendar = LoadCalendarFile(cfg.holidays_file);
  if (!calendar) return ConfigError(calendar.error().message);
  auto unit = LoadUnitConfigFiles(cfg.unit_file, cfg.procurement_catalogue_file, **org);
  if (!unit) return ConfigError(unit.error().message);
  log->info("loaded workflows={} new_versions={} people={}", registry.List().size(), *created,
            (*org)->people.size());
  // Definition versions and an organisation file not seen before are
  // audit log leaves (issue 3); a restart with the same files adds none.
  {
    const Timestamp started = SystemClock().Now();
    auto defs_audited = AuditNewDefinitions(**store, started);
    if (!defs_audited) return ConfigError("audit log: " + defs_audited.error().message);
    auto org_text = ReadTextFile(cfg.org_file);
    if (!org_text) return ConfigError(org_text.error().message);
    auto org_audited = AuditOrgIfChanged(**store, *org_text, **org, cfg.org_file, started);
    if (!org_audited) return ConfigError("audit log: " + org_audited.error().message);
    if (*defs_audited > 0 || *org_audited) {
      log->info("audited definition_versions={} org_changed={}", *defs_audited, *org_audited);
    }
  }

  // 4. The audit signing key.
  std::string key_path = cfg.audit_key_file.empty()
                             ? (fs::path(cfg.data_dir) / "audit_ed25519.pem").string()
                             : cfg.audit_key_file;
  bool key_created = false;
  auto key = audit::SigningKey::LoadOrCreate(key_path, &key_created);
  if (!key) return ConfigError(key_path + ": " + key.error().message);
  if (auto st = audit::ValidateOrigin(cfg.audit_origin); !st) {
    return ConfigError("audit.origin: " + st.error().message);
  }
  if (key_created) log->info("audit key created path={}", key_path);

  // 5. Engine, auth, router services.
  SystemClock clock;
  Metrics metrics;
  Engine* engine_ptr = nullptr;
  std::shared_ptr<const Org> initial_org = *org;
  WsHub hub([&engine_ptr, initial_org] {
    return engine_ptr ? engine_ptr->org() : initial_org;
  });
  EngineOptions engine_opts;
  const Value::Record selfcheck_unit = *unit;
  engine_opts.unit_config = std::move(*unit);
  engine_opts.calendar = std::move(*calendar);
  engine_opts.state_cache_max_bytes = static_cast<size_t>(cfg.state_cache_bytes);
  auto engine = std::make_unique<Engine>(std::move(engine_opts), **store, clock, *org, registry,
                                         &hub);
  engine_ptr = engine.get();
  // 每月凭证自查: polled from the background loop below.
  auto selfcheck = SelfCheckTrigger::Create(selfcheck_unit, *engine, clock);
  if (!selfcheck) return ConfigError(selfcheck.error().message);

  AuthOptions auth_opts;
  auth_opts.session_ttl_seconds = cfg.session_ttl_seconds;
  auth_opts.login_free_failures = cfg.login_free_failures;
  auth_opts.login_backoff_base_ms = cfg.login_backoff_base_ms;
  auth_opts.login_backoff_max_ms = cfg.login_backoff_max_ms;
  AuthService auth(auth_opts, **users, **store, clock);
  if (cfg.demo ? !CreateDemoUsers(auth, **org, cfg.data_dir)
               : !RetireDemoPasswords(auth, cfg.data_dir)) {
    return 1;
  }

  RateLimiter limiter(cfg.requests_per_second, cfg.request_burst);
  SqliteStore* sqlite = store->get();
  metrics.AddCollector(
      [sqlite](std::string* out) { AppendStoreMetrics(sqlite->BatchStats(), out); });

  ApiOptions api_opts;
  api_opts.org_file = cfg.org_file;
  api_opts.max_attachment_bytes = cfg.max_body_bytes;
  api_opts.log_key = audit::LogKey{cfg.audit_origin, key->public_key()};
  // The web UI: the configured root, or the one built with this binary.
  if (cfg.web_root != "off") {
    api_opts.web_root = cfg.web_root.empty() ? APPROVAL_DEFAULT_WEB_ROOT : cfg.web_root;
    if (!fs::is_regular_file(fs::path(api_opts.web_root) / "index.html", ec)) {
      log->warn("web UI not found: {} has no index.html (build it with make build, or set "
                "web_root); / answers 404 until it exists", api_opts.web_root);
    }
  }

  ServerOptions server_opts;
  server_opts.host = host;
  server_opts.port = port;
  server_opts.io_threads = cfg.io_threads;
  server_opts.worker_threads = cfg.worker_threads;
  server_opts.max_body_bytes = cfg.max_body_bytes;
  server_opts.max_header_bytes = cfg.max_header_bytes;
  server_opts.max_connections = cfg.max_connections;
  server_opts.read_timeout = std::chrono::milliseconds(cfg.read_timeout_ms);
  server_opts.write_timeout = std::chrono::milliseconds(cfg.write_timeout_ms);
  server_opts.idle_timeout = std::chrono::milliseconds(cfg.idle_timeout_ms);
  server_opts.ws_max_message_bytes = cfg.ws_max_message_bytes;
  server_opts.ws_send_queue = static_cast<size_t>(cfg.ws_send_queue);
  server_opts.tls_cert_file = cfg.tls_cert_file;
  server_opts.tls_key_file = cfg.tls_key_file;
  server_opts.shutdown_grace = std::chrono::milliseconds(cfg.shutdown_grace_ms);

  auto start = std::chrono::steady_clock::now();
  Services services{*engine,
                    **store,
                    auth,
                    limiter,
                    metrics,
                    clock,
                    api_opts,
                    [start] {
                      return std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - start)
                          .count();
                    },
                    nullptr};
  Server server(server_opts, services, hub);
  services.draining = &server.draining_flag();
  // The caches' hit rates, for sizing state_cache_bytes: a miss of the
  // state cache reads and folds the instance's events from the store.
  metrics.AddCollector([engine_ptr, heads = services.view_heads](std::string* out) {
    const StateCache& states = engine_ptr->state_cache();
    AppendCacheMetrics("state_cache", "engine's cache of instance states (state_cache_bytes)",
                       {states.hits(), states.misses(), static_cast<int64_t>(states.size()),
                        static_cast<int64_t>(states.bytes())},
                       out);
    AppendCacheMetrics("viewer_actions",
                       "snapshots' memory of the actions offered to their last viewers",
                       {engine_ptr->actions_memo_hits(), engine_ptr->actions_memo_misses(), -1, -1},
                       out);
    if (heads) {
      AppendCacheMetrics("view_head_cache",
                         "cache of the viewer-independent part of GET /api/v1/instances/{id}",
                         {heads->hits(), heads->misses(), -1, static_cast<int64_t>(heads->bytes())},
                         out);
    }
  });
  // Asynchronous submits and actions continue on the workers once durable
  // (the engine is reset before the server is destroyed, below).
  engine->SetExecutor([&server](std::function<void()> fn) { server.PostToWorkers(std::move(fn)); });
  if (auto st = server.Start(); !st) return ConfigError(st.error().message);

  // 6. Background duties: deadlines (Tick), checkpoints, expired sessions.
  Checkpointer checkpointer(**store, *key, cfg.audit_origin, clock, cfg.checkpoint_every_events,
                            cfg.checkpoint_every_seconds);
  std::mutex bg_mu;
  std::condition_variable bg_cv;
  bool bg_stop = false;
  std::thread background([&] {
    int64_t ticks = 0;
    std::unique_lock lock(bg_mu);
    while (!bg_cv.wait_for(lock, std::chrono::seconds(1), [&] { return bg_stop; })) {
      lock.unlock();
      if (auto n = engine->Tick(); !n) {
        log->warn("tick failed err={}", n.error().ToString());
      } else if (*n > 0) {
        log->info("tick changed={}", *n);
      }
      checkpointer.MaybeSign(false);
      (*selfcheck)->Poll();
      if (++ticks % 600 == 0) (void)(*users)->PurgeExpiredSessions(clock.Now());
      lock.lock();
    }
  });

  std::string scheme = cfg.tls_cert_file.empty() ? "http" : "https";
  std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::printf("approvald listening on %s://%s:%u\n", scheme.c_str(), shown_host.c_str(),
              server.port());
  std::fflush(stdout);
  log->info("listening addr={}:{} tls={} io_threads={} workers={} demo={} allocator={}",
            host, server.port(), !cfg.tls_cert_file.empty(), cfg.io_threads,
            cfg.worker_threads, cfg.demo, allocator);

  server.Run();  // until SIGTERM/SIGINT and the drain

  {
    std::lock_guard lock(bg_mu);
    bg_stop = true;
  }
  bg_cv.notify_all();
  background.join();
  checkpointer.MaybeSign(true);  // the log as it stands at shutdown
  log->info("stopped");
  engine_ptr = nullptr;
  engine.reset();
  // The store is destroyed last (it answers every queued write first).
  return 0;
}

}  // namespace approvald::api
