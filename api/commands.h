// The API layer's subcommands of `approvald`, registered into main.cc's CLI:
//   approvald serve [--config FILE] [--listen HOST:PORT] [--data-dir DIR] [--demo]
//   approvald user add USERNAME --role ROLE [--person ID] --data-dir DIR
//   approvald user set-password USERNAME --data-dir DIR     (password on stdin)
//   approvald config example                                (prints the example config)
#ifndef APPROVALD_API_COMMANDS_H_
#define APPROVALD_API_COMMANDS_H_

#include <memory>
#include <optional>
#include <string>

namespace CLI { class App; }

namespace approvald::api {

struct ServeArgs {
  std::string config_file;   // "" = defaults only
  std::string listen;        // overrides the file when non-empty
  std::string data_dir;      // overrides the file when non-empty
  bool demo = false;
};

// Runs the daemon until SIGTERM/SIGINT. Returns the process exit status:
// 0 after a clean shutdown, 2 for configuration errors, 1 otherwise.
int RunServe(const ServeArgs& args);

struct UserArgs {
  std::string username;
  std::string role = "user";
  std::string person;
  std::string data_dir = "./data";
  std::string org_file = "config/org.yaml";
};
// `user add`: creates a login (no password yet unless one is piped on stdin).
int RunUserAdd(const UserArgs& args);
// `user set-password`: reads the password from stdin (first line).
int RunUserSetPassword(const UserArgs& args);

// The commands' CLI wiring. Call AddApiCommands before parsing and
// RunApiCommands after; it returns nullopt if none of its commands ran.
struct ApiCommands;
std::shared_ptr<ApiCommands> AddApiCommands(CLI::App& app);
std::optional<int> RunApiCommands(const ApiCommands& commands);

}  // namespace approvald::api

#endif  // APPROVALD_API_COMMANDS_H_
