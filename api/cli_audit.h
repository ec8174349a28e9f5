// The audit and backup subcommands of `approvald` (issue 3), registered into
// main.cc's CLI. They work on a data directory without the daemon (or beside
// a running one: SQLite's WAL lets them read while it writes).
//
//   approvald audit verify --data-dir D [--key FILE] [--origin O] [--config F]
//                          [--sqlite-check quick|full|none]
//       Recomputes every leaf and the Merkle tree of D/approvald.db, checks
//       every stored checkpoint's signature and root, every event against its
//       leaf and every stored definition against its hash (audit::VerifyLog),
//       then runs SQLite's own check of the file (PRAGMA quick_check by
//       default). Prints the report's summary. Exit 0 if both pass, 1 naming
//       the first bad leaf (index, and instance/version for events), if the
//       SQLite check fails or if the store cannot be read, 2 on usage or
//       configuration errors.
//   approvald audit export --data-dir D --from T1 --to T2 --out FILE [key options]
//       Writes an export bundle of the leaves in [T1, T2) (ISO 8601 times,
//       e.g. 2024-03-05T00:00:00+08:00) with proofs against the latest
//       checkpoint (audit::ExportBundle). Exit 0 / 1 (export failed) / 2.
//   approvald audit verify-bundle FILE [--trust KEYFILE] [--origin O]
//       Verifies a bundle offline (audit::VerifyBundle); with --trust, also
//       that it was signed by that log. Exit 0 / 1 (does not verify) / 2.
//   approvald audit key --data-dir D [--key FILE] [--origin O] [--pem]
//       Prints the verifier key line auditors pin (audit::VerifierKey), and
//       with --pem the public key as PEM.
//   approvald backup --data-dir D --to FILE
//       Online, consistent copy of D/approvald.db (BackupSqliteDatabase).
//
// Key options: the log key is read from --key FILE, which may hold the
// daemon's private key (PKCS#8 PEM), a public key PEM, or a verifier key line
// "<origin>+<key id>+<key>" as `audit key` prints it; without --key, from
// the config's audit.key_file or else D/audit_ed25519.pem (the daemon's
// default). The origin comes from the verifier key line, else --origin, else
// the config's audit.origin, else the default "approvald/local".
#ifndef APPROVALD_API_CLI_AUDIT_H_
#define APPROVALD_API_CLI_AUDIT_H_

#include <memory>
#include <optional>
#include <string>

#include "approvald/status.h"
#include "audit/checkpoint.h"

namespace CLI { class App; }

namespace approvald::api {

// Where the log key comes from (see file comment).
struct AuditKeyArgs {
  std::string data_dir;     // required by the data-dir commands
  std::string key_file;     // "" = config's audit.key_file or D/audit_ed25519.pem
  std::string origin;       // "" = config's audit.origin or the default
  std::string config_file;  // "" = no config file
};

// Reads the log key as the file comment describes. kInvalidArgument or
// kNotFound naming the file and the fix when it cannot.
Result<audit::LogKey> LoadAuditLogKey(const AuditKeyArgs& args);

// Parses the contents of a key file: a private or public key PEM (the origin
// is `origin`) or a verifier key line (its own origin; kInvalidArgument
// "origin_mismatch" if `origin` is non-empty and differs).
Result<audit::LogKey> ParseAuditKeyText(std::string_view text,
                                        const std::string& origin,
                                        const std::string& source);

// The commands' CLI wiring, as AddApiCommands/RunApiCommands (api/commands.h):
// call AddAuditCommands before parsing and RunAuditCommands after; it returns
// nullopt if none of its commands ran, else the exit status.
struct AuditCommands;
std::shared_ptr<AuditCommands> AddAuditCommands(CLI::App& app);
std::optional<int> RunAuditCommands(const AuditCommands& commands);

}  // namespace approvald::api

#endif  // APPROVALD_API_CLI_AUDIT_H_
