#include "api/cli_common.h"

#include <filesystem>
#include <system_error>

namespace approvald::api {

namespace fs = std::filesystem;

Result<Config> CliConfig(const std::string& config_file) {
  if (config_file.empty()) return DefaultConfig();
  return LoadConfigFile(config_file);
}

Result<std::string> CliDataDir(const std::string& data_dir_flag,
                               const std::string& config_file, const Config& cfg) {
  if (!data_dir_flag.empty()) return data_dir_flag;
  if (!config_file.empty()) return cfg.data_dir;
  return InvalidArgument("data_dir_missing",
                         "no data directory: pass --data-dir DIR (the daemon's data_dir, "
                         "which holds " +
                             std::string(kDbName) + ")");
}

Result<std::string> ExistingDatabase(const std::string& data_dir) {
  fs::path db = fs::path(data_dir) / kDbName;
  std::error_code ec;
  if (!fs::is_regular_file(db, ec)) {
    return NotFound("db_missing", db.string() +
                                      ": no approvald database here; pass the daemon's "
                                      "data directory with --data-dir DIR");
  }
  return db.string();
}

}  // namespace approvald::api
