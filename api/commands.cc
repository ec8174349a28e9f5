#include "api/commands.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "config/config.h"

namespace approvald::api {

struct ApiCommands {
  CLI::App* serve = nullptr;
  CLI::App* user_add = nullptr;
  CLI::App* user_set_password = nullptr;
  CLI::App* config_example = nullptr;
  ServeArgs serve_args;
  UserArgs user_args;
};

std::shared_ptr<ApiCommands> AddApiCommands(CLI::App& app) {
  auto c = std::make_shared<ApiCommands>();

  c->serve = app.add_subcommand("serve", "Run the daemon (HTTP + WebSocket API)");
  c->serve->add_option("--config", c->serve_args.config_file,
                       "Config file (config/approvald.example.yaml documents every key)");
  c->serve->add_option("--listen", c->serve_args.listen, "HOST:PORT, overrides the file");
  c->serve->add_option("--data-dir", c->serve_args.data_dir, "Data directory, overrides the file");
  c->serve->add_flag("--demo", c->serve_args.demo,
                     "Demo logins with a known password (loopback only)");

  CLI::App* user = app.add_subcommand("user", "Manage logins");
  user->require_subcommand(1);
  c->user_add = user->add_subcommand("add", "Add a login");
  c->user_add->add_option("username", c->user_args.username, "Login name")->required();
  c->user_add->add_option("--role", c->user_args.role, "user, admin or auditor")
      ->capture_default_str();
  c->user_add->add_option("--person", c->user_args.person, "Person id in the organisation");
  c->user_add->add_option("--data-dir", c->user_args.data_dir, "Data directory")
      ->capture_default_str();
  c->user_add->add_option("--org", c->user_args.org_file, "Organisation file")
      ->capture_default_str();
  c->user_set_password =
      user->add_subcommand("set-password", "Set a login's password (read from stdin)");
  c->user_set_password->add_option("username", c->user_args.username, "Login name")->required();
  c->user_set_password->add_option("--data-dir", c->user_args.data_dir, "Data directory")
      ->capture_default_str();

  CLI::App* config = app.add_subcommand("config", "Daemon configuration");
  config->require_subcommand(1);
  c->config_example = config->add_subcommand(
      "example", "Print the example config with every key (config/approvald.example.yaml)");
  return c;
}

std::optional<int> RunApiCommands(const ApiCommands& c) {
  if (c.serve && *c.serve) return RunServe(c.serve_args);
  if (c.user_add && *c.user_add) return RunUserAdd(c.user_args);
  if (c.user_set_password && *c.user_set_password) return RunUserSetPassword(c.user_args);
  if (c.config_example && *c.config_example) {
    std::fputs(RenderExampleConfig().c_str(), stdout);
    return 0;
  }
  return std::nullopt;
}

}  // namespace approvald::api
