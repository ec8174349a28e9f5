// The daemon's configuration: one table of keys (config.cc, kConfigKeys) from
// which the loader, the command-line overrides and config/approvald.example.yaml
// all come. Read once at start-up into an immutable Config; api/serve.cc turns
// it into the option structs of each layer.
//
// Every key is declared once with its type, default, bounds and a one-line
// doc. Loading fails fast: an unknown key, a wrong type or an out-of-range
// value stops start-up with an error naming the file, line and key.
#ifndef APPROVALD_CONFIG_CONFIG_H_
#define APPROVALD_CONFIG_CONFIG_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "approvald/status.h"

namespace approvald {

// The whole configuration. Field defaults here are placeholders; the real
// defaults live in the key table and DefaultConfig() applies them.
struct Config {
  // Where and how to serve.
  std::string listen;            // "HOST:PORT"
  std::string data_dir;          // database, audit key, users
  std::string workflows_dir;     // one YAML file per workflow
  std::string org_file;          // the organisation (people, departments)
  std::string holidays_file;     // "" = Monday-Friday, no holidays
  std::string unit_file;         // "" = no unit configuration
  std::string procurement_catalogue_file;  // read with unit_file
  std::string tls_cert_file;     // "" = plain HTTP
  std::string tls_key_file;
  int io_threads = 0;
  int worker_threads = 0;
  int64_t state_cache_bytes = 0;
  int shutdown_grace_ms = 0;
  bool demo = false;
  std::string web_root;          // built web UI; "" = this build's web/dist

  // Limits.
  int64_t max_body_bytes = 0;
  int64_t max_header_bytes = 0;
  int max_connections = 0;
  int requests_per_second = 0;   // per authenticated user
  int request_burst = 0;
  int read_timeout_ms = 0;
  int write_timeout_ms = 0;
  int idle_timeout_ms = 0;
  int64_t ws_max_message_bytes = 0;
  int ws_send_queue = 0;

  // Sessions and logins.
  int session_ttl_seconds = 0;
  int login_free_failures = 0;
  int login_backoff_base_ms = 0;
  int login_backoff_max_ms = 0;

  // Audit checkpoints.
  std::string audit_key_file;    // "" = <data_dir>/audit_ed25519.pem
  std::string audit_origin;      // checkpoint origin line
  int checkpoint_every_events = 0;
  int checkpoint_every_seconds = 0;

  // Logging.
  std::string log_level;         // trace|debug|info|warn|error
  std::string log_format;        // text|json
};

enum class ConfigType { kString, kInt, kBool, kEnum, kListen };

// The Config member a key sets.
using ConfigField = std::variant<std::string Config::*, int Config::*,
                                 int64_t Config::*, bool Config::*>;

// One row of the key table.
struct ConfigKey {
  const char* name;          // dotted path: "limits.max_body_bytes"
  ConfigType type;
  const char* default_text;  // as it would be written in YAML
  int64_t min;               // kInt bounds (inclusive)
  int64_t max;
  const char* options;       // kEnum: "a|b|c"
  const char* doc;           // one line: what it does and when to change it
  ConfigField field;
};

// Every key, in the order the example file lists them.
std::span<const ConfigKey> ConfigKeys();

// The configuration with every key at its default.
Config DefaultConfig();

// Parses YAML text (nested mappings whose dotted paths are the table's
// names). Keys not given keep their defaults. Errors (kInvalidArgument,
// reason "config_invalid") name `filename`, the line and the key.
Result<Config> ParseConfig(std::string_view text, const std::string& filename);

// Reads and parses a file; kNotFound ("config_missing") if it cannot be read.
Result<Config> LoadConfigFile(const std::string& path);

// Sets one key from text (a command-line override such as --listen),
// validated exactly as in a file. Fails naming the key.
Status SetConfigValue(Config* config, std::string_view key,
                      std::string_view text);

// The text of config/approvald.example.yaml, generated from the table: every
// key with its doc and default. A test keeps the checked-in file equal to it.
std::string RenderExampleConfig();

// Splits "HOST:PORT" ("[::1]:8080" for IPv6). False if malformed.
bool SplitListen(std::string_view listen, std::string* host, uint16_t* port);

// True if `host` is a loopback address or "localhost".
bool IsLoopbackHost(std::string_view host);

}  // namespace approvald

#endif  // APPROVALD_CONFIG_CONFIG_H_
