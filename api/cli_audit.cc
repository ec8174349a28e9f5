#include "api/cli_audit.h"

#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "api/bootstrap.h"
#include "api/cli_common.h"
#include "audit/bundle.h"
#include "audit/verify.h"
#include "config/config.h"
#include "store/sqlite/sqlite_store.h"

namespace approvald::api {

namespace fs = std::filesystem;

namespace {

constexpr char kKeyName[] = "audit_ed25519.pem";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' ||
                        s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// The most reading threads `audit verify --read-threads` accepts.
constexpr int kMaxReadThreads = 64;

// `scan`: the store is opened to read the whole log once (`audit verify`).
Result<std::unique_ptr<SqliteStore>> OpenStore(const std::string& db_path,
                                               int read_threads = 2, bool scan = false) {
  SqliteOptions opts;
  opts.path = db_path;
  // `audit verify` reads on VerifyOptions::read_threads connections while
  // one more counts the events and the calling thread may need another.
  opts.read_connections = std::max(read_threads, 1) + 2;
  if (scan) {
    // Verification reads the whole file once: reading it in blocks of up to
    // 256 KB instead of page by page (a pread, or the first touch of a page
    // of a mapping, each costs about 2 µs on our VMs) takes about a third
    // off the CPU time of `audit verify` (bench/README.md,
    // BM_VerifySqliteReadAhead).
    opts.reader_read_ahead = true;
  } else {
    // Export reads the log's pages and, for its proofs, scattered tree
    // nodes: mapping the file saves a copy of every page. SQLite caps the
    // size at its compile-time limit.
    opts.reader_mmap_bytes = int64_t{1} << 40;
  }
  return SqliteStore::Open(opts);
}

void PrintError(const std::string& what, const Error& e) {
  fmt::print(stderr, "approvald: {}: {}\n", what, e.message);
}

struct StoreAndKey {
  std::unique_ptr<SqliteStore> store;
  audit::LogKey key;
};

// Config, data dir, key, and the opened store for the data-dir commands.
// On failure prints why and returns nullopt with *exit_code set.
std::optional<StoreAndKey> OpenStoreAndKey(const AuditKeyArgs& args, int* exit_code,
                                           int read_threads = 2, bool scan = false) {
  *exit_code = kExitUsage;
  auto cfg = CliConfig(args.config_file);
  if (!cfg) {
    PrintError("--config", cfg.error());
    return std::nullopt;
  }
  auto dir = CliDataDir(args.data_dir, args.config_file, *cfg);
  if (!dir) {
    PrintError("database", dir.error());
    return std::nullopt;
  }
  auto db = ExistingDatabase(*dir);
  if (!db) {
    PrintError("database", db.error());
    return std::nullopt;
  }
  auto key = LoadAuditLogKey(args);
  if (!key) {
    PrintError("log key", key.error());
    return std::nullopt;
  }
  auto store = OpenStore(*db, read_threads, scan);
  if (!store) {
    *exit_code = kExitFailed;
    PrintError(*db, store.error());
    return std::nullopt;
  }
  return StoreAndKey{std::move(*store), std::move(*key)};
}

// SQLite's own check of the file (--sqlite-check): prints one line and
// returns whether it passed ("none" passes without checking).
bool RunSqliteCheck(SqliteStore& store, const std::string& mode) {
  if (mode == "none") return true;
  bool full = mode == "full";
  const char* name = full ? "integrity_check" : "quick_check";
  if (auto st = store.CheckSqliteIntegrity(full); !st) {
    fmt::print("FAILED [{}] {}\n", st.error().reason, st.error().message);
    return false;
  }
  fmt::print("sqlite {}: ok\n", name);
  return true;
}

int RunVerify(const AuditKeyArgs& args, const std::string& sqlite_check, int read_threads) {
  int rc = kExitUsage;
  auto opened = OpenStoreAndKey(args, &rc, read_threads, /*scan=*/true);
  if (!opened) return rc;
  audit::VerifyOptions opts;
  // 1: the log is read on one thread beside this one; more split the reads
  // (and the hashing) over that many connections. The report is the same.
  opts.read_threads = read_threads;
  opts.progress = [](int64_t done, int64_t total) {
    fmt::print(stderr, "  verified {} of {} leaves\n", done, total);
  };
  auto report = audit::VerifyLog(*opened->store, opened->key, opts);
  if (!report) {
    PrintError("audit verify: cannot read the log", report.error());
    RunSqliteCheck(*opened->store, sqlite_check == "none" ? "quick" : sqlite_check);
    return kExitFailed;
  }
  bool file_ok = RunSqliteCheck(*opened->store, sqlite_check);
  if (report->ok) {
    fmt::print("{}\n", report->Summary());
    return file_ok ? kExitOk : kExitFailed;
  }
  fmt::print("{}\n", report->Summary());
  if (const auto& f = report->failure) {
    std::string where = "first bad leaf: " + (f->index >= 0 ? std::to_string(f->index)
                                                            : std::string("unknown"));
    if (f->kind == "event" && f->instance.value > 0) {
      where += fmt::format(" (event of instance {} version {})", f->instance.value,
                           f->version);
    } else if (!f->kind.empty()) {
      where += " (" + f->kind + ")";
    }
    fmt::print("code: {}\n{}\n", f->code, where);
  }
  return kExitFailed;
}

struct ExportArgs {
  std::string from, to, out;
};

int RunExport(const AuditKeyArgs& args, const ExportArgs& e) {
  std::optional<Timestamp> from = ParseTimestamp(e.from);
  std::optional<Timestamp> to = ParseTimestamp(e.to);
  for (const auto& [name, text, parsed] :
       {std::tuple{"--from", e.from, from.has_value()}, std::tuple{"--to", e.to, to.has_value()}}) {
    if (!parsed) {
      fmt::print(stderr,
                 "approvald: {} '{}' is not an ISO 8601 time; write e.g. "
                 "2024-03-05T00:00:00+08:00 or 2024-03-04T16:00:00Z\n",
                 name, text);
      return kExitUsage;
    }
  }
  if (!(*from < *to)) {
    fmt::print(stderr, "approvald: --from {} must be before --to {}\n", e.from, e.to);
    return kExitUsage;
  }
  int rc = kExitUsage;
  auto opened = OpenStoreAndKey(args, &rc);
  if (!opened) return rc;
  auto summary = audit::ExportBundle(*opened->store, opened->key, *from, *to, e.out);
  if (!summary) {
    PrintError("audit export", summary.error());
    return kExitFailed;
  }
  fmt::print(
      "exported {} leaves (indexes {}..{}, {} in the period {} .. {}) to {}\n"
      "proofs against the checkpoint of tree size {} signed {}\n"
      "verifier key: {}\n",
      summary->count, summary->first_index,
      summary->first_index + summary->count - (summary->count > 0 ? 1 : 0), summary->in_period,
      FormatTimestampUtc(*from), FormatTimestampUtc(*to), e.out, summary->checkpoint.size,
      FormatTimestampUtc(summary->checkpoint.at), audit::VerifierKey(opened->key));
  return kExitOk;
}

struct BundleArgs {
  std::string file;
  std::string trust_file;
  std::string origin;
};

int RunVerifyBundle(const BundleArgs& b) {
  std::optional<audit::LogKey> trusted;
  if (!b.trust_file.empty()) {
    auto text = ReadTextFile(b.trust_file);
    if (!text) {
      PrintError("--trust", text.error());
      return kExitUsage;
    }
    auto key = ParseAuditKeyText(*text, b.origin, b.trust_file);
    if (!key) {
      PrintError("--trust", key.error());
      return kExitUsage;
    }
    trusted = std::move(*key);
  }
  auto report = audit::VerifyBundle(b.file, trusted ? &*trusted : nullptr);
  if (!report) {
    PrintError(b.file, report.error());
    return kExitUsage;
  }
  fmt::print("{}\n", report->Summary());
  if (report->ok && !trusted) {
    fmt::print(
        "note: the bundle was checked against the key it carries ({}); compare it with the "
        "verifier key the log operator published, or pass it with --trust FILE\n",
        report->verifier_key);
  }
  return report->ok ? kExitOk : kExitFailed;
}

int RunKey(const AuditKeyArgs& args, bool pem) {
  auto key = LoadAuditLogKey(args);
  if (!key) {
    PrintError("log key", key.error());
    return kExitUsage;
  }
  fmt::print("{}\n", audit::VerifierKey(*key));
  if (pem) fmt::print("{}", key->key.Pem());
  return kExitOk;
}

struct BackupArgs {
  std::string data_dir;
  std::string to;
};

int RunBackup(const BackupArgs& b) {
  auto db = ExistingDatabase(b.data_dir);
  if (!db) {
    PrintError("backup", db.error());
    return kExitUsage;
  }
  std::error_code ec;
  if (fs::weakly_canonical(b.to, ec) == fs::weakly_canonical(*db, ec) && !ec) {
    fmt::print(stderr, "approvald: backup: --to {} is the live database itself; "
                       "name another file\n", b.to);
    return kExitUsage;
  }
  if (auto st = BackupSqliteDatabase(*db, b.to); !st) {
    PrintError("backup of " + *db, st.error());
    return kExitFailed;
  }
  auto size = fs::file_size(b.to, ec);
  fmt::print("backup of {} written to {} ({} bytes)\n", *db, b.to,
             ec ? std::string("?") : std::to_string(size));
  return kExitOk;
}

void AddKeyOptions(CLI::App* cmd, AuditKeyArgs* args, bool need_data_dir) {
  cmd->add_option("--data-dir", args->data_dir,
                  need_data_dir ? "Data directory holding approvald.db (the daemon's data_dir)"
                                : "Data directory holding audit_ed25519.pem");
  cmd->add_option("--key", args->key_file,
                  "Log key: the daemon's private key PEM, a public key PEM or a verifier "
                  "key line (default: audit.key_file of --config, else "
                  "DATA_DIR/audit_ed25519.pem)");
  cmd->add_option("--origin", args->origin,
                  "The log's origin when --key is a PEM (default: audit.origin of --config, "
                  "else approvald/local)");
  cmd->add_option("--config", args->config_file,
                  "The daemon's config file, for data_dir, audit.key_file and audit.origin");
}

}  // namespace

Result<audit::LogKey> ParseAuditKeyText(std::string_view text, const std::string& origin,
                                        const std::string& source) {
  std::string_view body = Trim(text);
  auto with_origin = [&](audit::PublicKey key) -> Result<audit::LogKey> {
    std::string o = origin.empty() ? DefaultConfig().audit_origin : origin;
    if (auto st = audit::ValidateOrigin(o); !st) {
      return InvalidArgument("bad_origin", "--origin " + o + ": " + st.error().message);
    }
    return audit::LogKey{o, std::move(key)};
  };
  if (body.starts_with("-----BEGIN PRIVATE KEY-----")) {
    auto key = audit::SigningKey::FromPem(body);
    if (!key) return InvalidArgument("bad_key_file", source + ": " + key.error().message);
    return with_origin(key->public_key());
  }
  if (body.starts_with("-----BEGIN PUBLIC KEY-----")) {
    auto key = audit::PublicKey::FromPem(body);
    if (!key) return InvalidArgument("bad_key_file", source + ": " + key.error().message);
    return with_origin(*key);
  }
  auto parsed = audit::ParseVerifierKey(body);
  if (!parsed) {
    return InvalidArgument("bad_key_file",
                           source + ": neither a PEM key nor a verifier key line "
                                    "(<origin>+<key id>+<key>, as `approvald audit key` "
                                    "prints it): " + parsed.error().message);
  }
  if (!origin.empty() && origin != parsed->origin) {
    return InvalidArgument("origin_mismatch", source + " is the key of log " + parsed->origin +
                                                  ", not of --origin " + origin);
  }
  return std::move(*parsed);
}

Result<audit::LogKey> LoadAuditLogKey(const AuditKeyArgs& args) {
  auto cfg = CliConfig(args.config_file);
  if (!cfg) return std::unexpected(cfg.error());
  std::string key_path = args.key_file;
  if (key_path.empty()) key_path = cfg->audit_key_file;
  if (key_path.empty()) {
    auto dir = CliDataDir(args.data_dir, args.config_file, *cfg);
    if (!dir) return std::unexpected(dir.error());
    key_path = (fs::path(*dir) / kKeyName).string();
  }
  auto text = ReadTextFile(key_path);
  if (!text) {
    return NotFound("key_file_missing",
                    key_path + ": cannot read the log key (" + text.error().message +
                        "); the daemon creates it on first start, or pass --key FILE");
  }
  std::string origin = args.origin;
  if (origin.empty() && !args.config_file.empty()) origin = cfg->audit_origin;
  return ParseAuditKeyText(*text, origin, key_path);
}

struct AuditCommands {
  CLI::App* verify = nullptr;
  CLI::App* export_bundle = nullptr;
  CLI::App* verify_bundle = nullptr;
  CLI::App* key = nullptr;
  CLI::App* backup = nullptr;
  AuditKeyArgs key_args;
  std::string sqlite_check = "quick";
  int read_threads = audit::VerifyOptions{}.read_threads;
  ExportArgs export_args;
  BundleArgs bundle_args;
  bool pem = false;
  BackupArgs backup_args;
};

std::shared_ptr<AuditCommands> AddAuditCommands(CLI::App& app) {
  auto c = std::make_shared<AuditCommands>();

  CLI::App* audit = app.add_subcommand(
      "audit", "Verify, export and publish the tamper-evident audit log (docs/AUDIT.md)");
  audit->require_subcommand(1);

  c->verify = audit->add_subcommand(
      "verify",
      "Recompute every leaf and the Merkle tree, check every checkpoint's signature and "
      "root. Exit 0 if intact, 1 naming the first bad event, 2 on usage errors");
  AddKeyOptions(c->verify, &c->key_args, true);
  c->verify
      ->add_option("--sqlite-check", c->sqlite_check,
                   "Also run SQLite's own check of the file: quick (PRAGMA quick_check, "
                   "the default), full (PRAGMA integrity_check, also checks every index; "
                   "slower) or none")
      ->check(CLI::IsMember({"quick", "full", "none"}));
  c->verify
      ->add_option("--read-threads", c->read_threads,
                   "Threads that read, hash and compare the log, each on a read connection "
                   "of its own, while the main thread checks the results in log order "
                   "(default 2; use the number of idle cores). The result is the same for "
                   "any value")
      ->check(CLI::Range(1, kMaxReadThreads));

  c->export_bundle = audit->add_subcommand(
      "export", "Write a bundle of the leaves in [--from, --to) with inclusion proofs against "
                "the latest signed checkpoint, for auditors to verify offline");
  AddKeyOptions(c->export_bundle, &c->key_args, true);
  c->export_bundle
      ->add_option("--from", c->export_args.from,
                   "Start of the period, ISO 8601 (e.g. 2024-03-01T00:00:00+08:00)")
      ->required();
  c->export_bundle->add_option("--to", c->export_args.to, "End of the period (exclusive)")
      ->required();
  c->export_bundle->add_option("--out", c->export_args.out, "Bundle file to write")
      ->required();

  c->verify_bundle = audit->add_subcommand(
      "verify-bundle",
      "Verify an export bundle offline: checkpoint signature, every leaf and its proof. "
      "scripts/verify-bundle.py does the same with only Python and openssl");
  c->verify_bundle->add_option("file", c->bundle_args.file, "Bundle file")
      ->required()
      ->check(CLI::ExistingFile);
  c->verify_bundle->add_option(
      "--trust", c->bundle_args.trust_file,
      "File with the verifier key the log operator published (`approvald audit key`); "
      "the bundle must be signed by it");
  c->verify_bundle->add_option("--origin", c->bundle_args.origin,
                               "The log's origin when --trust is a PEM public key");

  c->key = audit->add_subcommand(
      "key", "Print the verifier key line auditors pin (and with --pem the public key)");
  AddKeyOptions(c->key, &c->key_args, false);
  c->key->add_flag("--pem", c->pem, "Also print the public key as PEM");

  c->backup = app.add_subcommand(
      "backup",
      "Write a consistent copy of DATA_DIR/approvald.db while the daemon keeps serving "
      "(SQLite online backup).\n"
      "Restore: stop approvald; copy FILE to DATA_DIR/approvald.db and delete any "
      "DATA_DIR/approvald.db-wal and approvald.db-shm; keep DATA_DIR/audit_ed25519.pem "
      "(back it up separately, it is not in the database); start approvald; run "
      "`approvald audit verify --data-dir DATA_DIR`.");
  c->backup->add_option("--data-dir", c->backup_args.data_dir, "Data directory")->required();
  c->backup->add_option("--to", c->backup_args.to, "Backup file to write (replaced atomically)")
      ->required();
  return c;
}

std::optional<int> RunAuditCommands(const AuditCommands& c) {
  if (c.verify && *c.verify) return RunVerify(c.key_args, c.sqlite_check, c.read_threads);
  if (c.export_bundle && *c.export_bundle) return RunExport(c.key_args, c.export_args);
  if (c.verify_bundle && *c.verify_bundle) return RunVerifyBundle(c.bundle_args);
  if (c.key && *c.key) return RunKey(c.key_args, c.pem);
  if (c.backup && *c.backup) return RunBackup(c.backup_args);
  return std::nullopt;
}

}  // namespace approvald::api
