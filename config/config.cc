// The key table and the loader built on it. Adding a key is one row here plus
// its Config member; the example file is regenerated from the table
// (`approvald config example > config/approvald.example.yaml`) and a test
// fails until it is.
#include "config/config.h"

// yaml-cpp 0.7's node/impl.h trips g++ 12's -Wdangling-pointer (a false
// positive in a system header that -Werror would turn into a failure).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#include <yaml-cpp/yaml.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace approvald {
namespace {

using T = ConfigType;
constexpr int64_t kKiB = 1024;
constexpr int64_t kMiB = 1024 * kKiB;

// clang-format off
const ConfigKey kConfigKeys[] = {
  // name                              type       default            min   max            options                      doc
  {"listen",                           T::kListen, "127.0.0.1:8080",  0, 0, nullptr, "Address and port to serve HTTP on (HOST:PORT, [::1]:PORT for IPv6). Keep it on loopback behind a reverse proxy, or set tls.* to serve HTTPS directly.", &Config::listen},
  {"data_dir",                         T::kString, "./data",          0, 0, nullptr, "Directory for the SQLite database (events, audit log, users, sessions) and the audit signing key. Back it up; put it on a disk that honours fsync.", &Config::data_dir},
  {"workflows_dir",                    T::kString, "workflows/",      0, 0, nullptr, "Directory of workflow definitions, one YAML file per workflow. A changed file becomes a new version at start-up.", &Config::workflows_dir},
  {"org_file",                         T::kString, "config/org.yaml", 0, 0, nullptr, "The organisation: departments, people, positions, groups, proxies.", &Config::org_file},
  {"holidays_file",                    T::kString, "config/holidays.yaml", 0, 0, nullptr, "Holiday calendar (public holidays and 调休 working days by year, config/README.md) for working-day deadlines and deliberation periods. Add each year when the State Council notice is out. Empty: Monday to Friday, no holidays.", &Config::holidays_file},
  {"unit_file",                        T::kString, "config/unit.yaml", 0, 0, nullptr, "The unit's own figures for the automatic checks: jurisdiction and budget level, purchasing department, large-amount (三重一大) thresholds, expense standards, split-purchase and self-check settings (config/README.md). Set your unit's figures before going live. Empty: no unit configuration; workflows with procurement checks then refuse requests.", &Config::unit_file},
  {"procurement_catalogue_file",       T::kString, "config/procurement-catalogue.yaml", 0, 0, nullptr, "Government procurement catalogues (集中采购目录及标准) by jurisdiction and effective date: centralised items, decentralised and open-tender thresholds. Read only with unit_file. Add the new catalogue when it is published; keep old ones for instances decided under them.", &Config::procurement_catalogue_file},
  {"io_threads",                       T::kInt,    "1",               1, 64, nullptr, "Threads running network I/O. One is enough for thousands of connections; raise it only when a profile shows I/O saturating one core.", &Config::io_threads},
  {"worker_threads",                   T::kInt,    "4",               1, 256, nullptr, "Threads running engine and database calls off the I/O threads. A submission or action does not hold its thread while the store makes it durable (concurrent commits share one group-commit transaction), so a few threads keep the commits batched; more than about twice the cores only adds switching.", &Config::worker_threads},
  {"state_cache_bytes",                T::kInt,    "33554432",        0, 64 * 1024 * kMiB, nullptr, "Memory for the engine's cache of instance states (approximate bytes). When it is full, new submissions push out the least recently used instances, while an instance reloaded from the store comes back in only on its second miss, so that a pass over more instances than fit keeps hitting the ones that do. A cached instance is read and acted on without loading its events; about 4 KB each. 0: bounded by the entry count (32768) alone.", &Config::state_cache_bytes},
  {"shutdown_grace_ms",                T::kInt,    "10000",           0, 600000, nullptr, "On SIGTERM/SIGINT: how long in-flight requests may take to finish before the daemon stops anyway.", &Config::shutdown_grace_ms},
  {"demo",                             T::kBool,   "false",           0, 0, nullptr, "Demo mode: create a login for every person in org_file with a known password. Refused unless listen is a loopback address. Never in production.", &Config::demo},
  {"web_root",                         T::kString, "",                0, 0, nullptr, "Directory of the built web UI served at / (index.html and hashed assets). Empty: the UI built with this binary (<build dir>/web/dist); \"off\": serve no UI.", &Config::web_root},

  {"tls.cert_file",                    T::kString, "",                0, 0, nullptr, "PEM certificate chain. Set both cert_file and key_file to serve HTTPS (and WSS); empty serves plain HTTP.", &Config::tls_cert_file},
  {"tls.key_file",                     T::kString, "",                0, 0, nullptr, "PEM private key for cert_file. Keep it readable by the daemon's user only.", &Config::tls_key_file},

  {"limits.max_body_bytes",            T::kInt,    "1048576",         kKiB, 64 * kMiB, nullptr, "Largest request body accepted; larger requests get 413 and the connection is closed. Raise for large attachments.", &Config::max_body_bytes},
  {"limits.max_header_bytes",          T::kInt,    "16384",           kKiB, kMiB, nullptr, "Largest request header block (request line plus all headers); larger gets 431.", &Config::max_header_bytes},
  {"limits.max_connections",           T::kInt,    "4096",            1, 1000000, nullptr, "Open connections (HTTP and WebSocket) at once; further connections are closed at accept. Also raise the process's file descriptor limit (ulimit -n).", &Config::max_connections},
  {"limits.requests_per_second",       T::kInt,    "50",              1, 1000000, nullptr, "Sustained requests per second per logged-in user (token bucket); beyond it 429 with Retry-After.", &Config::requests_per_second},
  {"limits.request_burst",             T::kInt,    "100",             1, 1000000, nullptr, "Requests a user may send at once before the per-second rate applies.", &Config::request_burst},
  {"limits.read_timeout_ms",           T::kInt,    "15000",           100, 3600000, nullptr, "Time allowed to receive one whole request (headers and body). Slow clients (slowloris) are dropped when it passes.", &Config::read_timeout_ms},
  {"limits.write_timeout_ms",          T::kInt,    "15000",           100, 3600000, nullptr, "Time allowed to send one response; a client that does not read is dropped.", &Config::write_timeout_ms},
  {"limits.idle_timeout_ms",           T::kInt,    "60000",           100, 3600000, nullptr, "A keep-alive connection with no request for this long is closed.", &Config::idle_timeout_ms},
  {"limits.ws_max_message_bytes",      T::kInt,    "65536",           256, 16 * kMiB, nullptr, "Largest WebSocket message a client may send; larger closes the socket (1009).", &Config::ws_max_message_bytes},
  {"limits.ws_send_queue",             T::kInt,    "64",              1, 100000, nullptr, "Messages queued for one WebSocket client; a client that falls further behind is disconnected so memory stays bounded.", &Config::ws_send_queue},

  {"auth.session_ttl_seconds",         T::kInt,    "28800",           60, 31 * 24 * 3600, nullptr, "How long a login token stays valid (default 8 hours, one working day).", &Config::session_ttl_seconds},
  {"auth.login_free_failures",         T::kInt,    "3",               0, 100, nullptr, "Failed logins allowed (per user and per address) before each further attempt must wait.", &Config::login_free_failures},
  {"auth.login_backoff_base_ms",       T::kInt,    "1000",            1, 3600000, nullptr, "First wait after the free failures; it doubles with every further failure.", &Config::login_backoff_base_ms},
  {"auth.login_backoff_max_ms",        T::kInt,    "300000",          1, 86400000, nullptr, "Longest wait between login attempts, however many failures.", &Config::login_backoff_max_ms},

  {"audit.key_file",                   T::kString, "",                0, 0, nullptr, "Ed25519 private key (PEM) that signs audit checkpoints. Empty: <data_dir>/audit_ed25519.pem, created on first start. Publish the public key to auditors.", &Config::audit_key_file},
  {"audit.origin",                     T::kString, "approvald/local", 0, 0, nullptr, "The audit log's name in signed checkpoints (printable ASCII, no spaces), e.g. approvald/meizhou-parks. Auditors pin it with the public key; never change it once published.", &Config::audit_origin},
  {"audit.checkpoint_every_events",    T::kInt,    "1000",            1, 100000000, nullptr, "Sign a checkpoint after this many new audit entries.", &Config::checkpoint_every_events},
  {"audit.checkpoint_every_seconds",   T::kInt,    "3600",            1, 31 * 24 * 3600, nullptr, "Sign a checkpoint at least this often while the log grows.", &Config::checkpoint_every_seconds},

  {"log.level",                        T::kEnum,   "info",            0, 0, "trace|debug|info|warn|error", "Least severe level written. info logs one line per request and per state change.", &Config::log_level},
  {"log.format",                       T::kEnum,   "text",            0, 0, "text|json", "text for people reading a terminal; json (one object per line) for log collectors.", &Config::log_format},
};
// clang-format on

const ConfigKey* FindKey(std::string_view name) {
  for (const auto& k : kConfigKeys) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

// Levenshtein distance, for "did you mean" hints.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Suggestion(std::string_view name) {
  const ConfigKey* best = nullptr;
  size_t best_d = 4;  // only suggest close matches
  for (const auto& k : kConfigKeys) {
    size_t d = EditDistance(name, k.name);
    // Also match the last component alone ("max_body_bytes" -> limits.*).
    std::string_view full(k.name);
    auto dot = full.rfind('.');
    if (dot != std::string_view::npos) {
      d = std::min(d, EditDistance(name, full.substr(dot + 1)) + 1);
    }
    if (d < best_d) {
      best_d = d;
      best = &k;
    }
  }
  return best ? std::string("; did you mean '") + best->name + "'?" : "";
}

bool ParseInt64(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  const char* b = s.data();
  const char* e = s.data() + s.size();
  if (*b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, *out);
  return ec == std::errc() && p == e;
}

// Converts `text` for `key` and stores it into `config`. On failure returns
// a message (without location) saying what is wrong and what is allowed.
std::string Assign(const ConfigKey& key, std::string_view text, Config* config) {
  std::string name = key.name;
  switch (key.type) {
    case T::kString:
      *config.*std::get<std::string Config::*>(key.field) = std::string(text);
      return "";
    case T::kListen: {
      std::string host;
      uint16_t port = 0;
      if (!SplitListen(text, &host, &port)) {
        return "'" + name + "' must be HOST:PORT (e.g. 127.0.0.1:8080, [::1]:8080), got '" +
               std::string(text) + "'";
      }
      *config.*std::get<std::string Config::*>(key.field) = std::string(text);
      return "";
    }
    case T::kBool:
      if (text == "true") {
        *config.*std::get<bool Config::*>(key.field) = true;
      } else if (text == "false") {
        *config.*std::get<bool Config::*>(key.field) = false;
      } else {
        return "'" + name + "' must be true or false, got '" + std::string(text) + "'";
      }
      return "";
    case T::kEnum: {
      std::string_view opts(key.options);
      size_t start = 0;
      while (start <= opts.size()) {
        size_t bar = opts.find('|', start);
        if (bar == std::string_view::npos) bar = opts.size();
        if (opts.substr(start, bar - start) == text) {
          *config.*std::get<std::string Config::*>(key.field) = std::string(text);
          return "";
        }
        start = bar + 1;
      }
      std::string allowed(opts);
      std::replace(allowed.begin(), allowed.end(), '|', ',');
      return "'" + name + "' must be one of {" + allowed + "}, got '" + std::string(text) + "'";
    }
    case T::kInt: {
      int64_t v = 0;
      if (!ParseInt64(text, &v)) {
        return "'" + name + "' must be an integer, got '" + std::string(text) + "'";
      }
      if (v < key.min || v > key.max) {
        return "'" + name + "' is " + std::string(text) + ", out of range: allowed " +
               std::to_string(key.min) + ".." + std::to_string(key.max);
      }
      if (auto* f = std::get_if<int Config::*>(&key.field)) {
        *config.**f = static_cast<int>(v);
      } else {
        *config.*std::get<int64_t Config::*>(key.field) = v;
      }
      return "";
    }
  }
  return "'" + name + "' has an unknown type";
}

std::string Where(const std::string& file, const YAML::Mark& m) {
  if (m.is_null()) return file;
  return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

// Walks a mapping, assigning every leaf. Returns "" or the first error.
std::string Walk(const YAML::Node& map, const std::string& prefix,
                 const std::string& file, Config* config) {
  std::set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    // Copies: the iterator's value is a temporary proxy, so a reference to
    // its members would dangle after this statement (ASan found it).
    const YAML::Node k = it->first;
    const YAML::Node v = it->second;
    if (!k.IsScalar()) return Where(file, k.Mark()) + ": keys must be plain names";
    std::string name = prefix + k.Scalar();
    if (!seen.insert(name).second) {
      return Where(file, k.Mark()) + ": '" + name + "' is given twice";
    }
    const ConfigKey* key = FindKey(name);
    if (key == nullptr) {
      // A section ("limits") is a prefix of some keys.
      bool section = false;
      for (const auto& c : kConfigKeys) {
        if (std::string_view(c.name).starts_with(name + ".")) section = true;
      }
      if (section) {
        if (v.IsNull()) continue;  // an empty section keeps the defaults
        if (!v.IsMap()) {
          return Where(file, v.Mark()) + ": '" + name +
                 "' is a section; write its keys indented below it";
        }
        std::string err = Walk(v, name + ".", file, config);
        if (!err.empty()) return err;
        continue;
      }
      return Where(file, k.Mark()) + ": unknown key '" + name + "'" + Suggestion(name) +
             " (config/approvald.example.yaml lists every key)";
    }
    if (!v.IsScalar() && !(v.IsNull() && key->type == T::kString)) {
      return Where(file, v.Mark()) + ": '" + name + "' must be a single value";
    }
    std::string text = v.IsNull() ? "" : v.Scalar();
    std::string err = Assign(*key, text, config);
    if (!err.empty()) return Where(file, v.Mark()) + ": " + err;
  }
  return "";
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Wraps `text` at ~76 columns as '#' comment lines with `indent`.
std::string CommentBlock(std::string_view text, const std::string& indent) {
  std::string out, line;
  std::istringstream words{std::string(text)};
  std::string w;
  while (words >> w) {
    if (!line.empty() && indent.size() + 2 + line.size() + 1 + w.size() > 78) {
      out += indent + "# " + line + "\n";
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += w;
  }
  if (!line.empty()) out += indent + "# " + line + "\n";
  return out;
}

}  // namespace

std::span<const ConfigKey> ConfigKeys() { return kConfigKeys; }

Config DefaultConfig() {
  Config c;
  for (const auto& k : kConfigKeys) {
    std::string err = Assign(k, k.default_text, &c);
    // The table's own defaults are tested to be valid; a failure here is a
    // programming error in the table.
    if (!err.empty()) std::abort();
  }
  return c;
}

Result<Config> ParseConfig(std::string_view text, const std::string& filename) {
  Config config = DefaultConfig();
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return InvalidArgument("config_invalid",
                           Where(filename, e.mark) + ": not valid YAML: " + e.msg);
  }
  if (root.IsNull()) return config;  // an empty file: all defaults
  if (!root.IsMap()) {
    return InvalidArgument("config_invalid",
                           filename + ": the top level must be a mapping of keys");
  }
  try {
    std::string err = Walk(root, "", filename, &config);
    if (!err.empty()) return InvalidArgument("config_invalid", err);
  } catch (const YAML::Exception& e) {
    return InvalidArgument("config_invalid", Where(filename, e.mark) + ": " + e.msg);
  }
  if (config.tls_cert_file.empty() != config.tls_key_file.empty()) {
    return InvalidArgument("config_invalid",
                           filename + ": set both tls.cert_file and tls.key_file, or neither");
  }
  return config;
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFound("config_missing", path + ": cannot read the config file");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

Status SetConfigValue(Config* config, std::string_view key, std::string_view text) {
  const ConfigKey* k = FindKey(key);
  if (k == nullptr) {
    return InvalidArgument("config_invalid",
                           "unknown key '" + std::string(key) + "'" + Suggestion(key));
  }
  Config copy = *config;
  std::string err = Assign(*k, text, &copy);
  if (!err.empty()) return InvalidArgument("config_invalid", err);
  *config = std::move(copy);
  return Ok();
}

std::string RenderExampleConfig() {
  std::string out =
      "# approvald daemon configuration: every key, what it does, its default.\n"
      "#\n"
      "# Generated from the key table in config/config.cc; a test keeps the two\n"
      "# equal, so regenerate with `approvald config example` after adding a key.\n"
      "# Copy this file, change what you need, delete the rest, and start with\n"
      "#   approvald serve --config FILE [--listen HOST:PORT] [--data-dir DIR]\n"
      "# (command-line flags override the file). An unknown key, a wrong type or\n"
      "# an out-of-range value stops start-up with the key named. Relative paths\n"
      "# are relative to the directory the daemon is started in.\n";
  std::string section;
  for (const auto& k : kConfigKeys) {
    std::string_view name(k.name);
    auto dot = name.find('.');
    std::string sec = dot == std::string_view::npos ? "" : std::string(name.substr(0, dot));
    std::string leaf(dot == std::string_view::npos ? name : name.substr(dot + 1));
    std::string indent = sec.empty() ? "" : "  ";
    if (sec != section) {
      out += "\n" + sec + ":\n";
      section = sec;
    } else {
      out += "\n";
    }
    std::string doc = k.doc;
    switch (k.type) {
      case T::kInt:
        doc += " Range " + std::to_string(k.min) + ".." + std::to_string(k.max) + ".";
        break;
      case T::kEnum: {
        std::string opts = k.options;
        std::replace(opts.begin(), opts.end(), '|', ',');
        doc += " One of: " + opts + ".";
        break;
      }
      default:
        break;
    }
    out += CommentBlock(doc, indent);
    std::string value = (k.type == T::kString || k.type == T::kListen)
                            ? Quote(k.default_text)
                            : std::string(k.default_text);
    out += indent + leaf + ": " + value + "\n";
  }
  return out;
}

bool SplitListen(std::string_view listen, std::string* host, uint16_t* port) {
  std::string_view h, p;
  if (listen.starts_with("[")) {
    auto close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() ||
        listen[close + 1] != ':') {
      return false;
    }
    h = listen.substr(1, close - 1);
    p = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string_view::npos) return false;
    h = listen.substr(0, colon);
    p = listen.substr(colon + 1);
    if (h.find(':') != std::string_view::npos) return false;  // bare IPv6
  }
  if (h.empty() || p.empty() || p.size() > 5) return false;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
  }
  int v = 0;
  std::from_chars(p.data(), p.data() + p.size(), v);
  if (v > 65535) return false;
  *host = std::string(h);
  *port = static_cast<uint16_t>(v);
  return true;
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  // 127.0.0.0/8
  if (!host.starts_with("127.")) return false;
  int parts = 0;
  size_t start = 0;
  while (start <= host.size()) {
    size_t dot = host.find('.', start);
    if (dot == std::string_view::npos) dot = host.size();
    std::string_view part = host.substr(start, dot - start);
    if (part.empty() || part.size() > 3) return false;
    int v = 0;
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (ec != std::errc() || ptr != part.data() + part.size() || v > 255) return false;
    ++parts;
    start = dot + 1;
  }
  return parts == 4;
}

}  // namespace approvald
