// What the offline subcommands that read a daemon's data directory share
// (`approvald audit ...` in cli_audit.cc, `approvald report ...` in
// cli_report.cc): exit statuses, and finding the configuration, the data
// directory and its database the same way with the same errors.
#ifndef APPROVALD_API_CLI_COMMON_H_
#define APPROVALD_API_CLI_COMMON_H_

#include <string>

#include "approvald/status.h"
#include "config/config.h"

namespace approvald::api {

inline constexpr int kExitOk = 0;      // done; a check passed
inline constexpr int kExitFailed = 1;  // a check failed, or the storage did
inline constexpr int kExitUsage = 2;   // bad arguments, configuration or paths

// The daemon's database file inside its data directory.
inline constexpr char kDbName[] = "approvald.db";

// The settings of `config_file`, or the defaults when it is "".
Result<Config> CliConfig(const std::string& config_file);

// `data_dir_flag` (--data-dir) when given, else the data_dir of `cfg` when a
// config file was given; kInvalidArgument "data_dir_missing" if neither.
Result<std::string> CliDataDir(const std::string& data_dir_flag,
                               const std::string& config_file, const Config& cfg);

// The path of the database in `data_dir`; kNotFound "db_missing" when there
// is none (these commands never create one).
Result<std::string> ExistingDatabase(const std::string& data_dir);

}  // namespace approvald::api

#endif  // APPROVALD_API_CLI_COMMON_H_
