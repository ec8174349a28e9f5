// `approvald user add` and `approvald user set-password`: administration
// from the machine the daemon runs on, before any admin can log in. Both
// write to the same database the daemon uses (SQLite allows it while the
// daemon runs) and leave an audit record with actor "cli".
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "api/auth.h"
#include "api/bootstrap.h"
#include "api/commands.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/user_store.h"

namespace approvald::api {
namespace {

namespace fs = std::filesystem;

struct Opened {
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<SqliteUserStore> users;
};

Result<Opened> OpenData(const std::string& data_dir) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return Unavailable("data_dir", data_dir + ": " + ec.message());
  SqliteOptions o;
  o.path = (fs::path(data_dir) / "approvald.db").string();
  o.read_connections = 1;
  auto store = SqliteStore::Open(o);
  if (!store) return std::unexpected(store.error());
  auto users = SqliteUserStore::Open(o.path);
  if (!users) return std::unexpected(users.error());
  return Opened{std::move(*store), std::move(*users)};
}

int Fail(const std::string& msg) {
  std::fprintf(stderr, "approvald: %s\n", msg.c_str());
  return 1;
}

// The first line of stdin, without echo when it is a terminal.
std::string ReadPassword() {
  bool tty = isatty(STDIN_FILENO);
  termios old{};
  if (tty) {
    std::fprintf(stderr, "new password: ");
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::fprintf(stderr, "\n");
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

int RunUserAdd(const UserArgs& args) {
  auto role = ParseRole(args.role);
  if (!role) return Fail("--role must be user, admin or auditor, got '" + args.role + "'");
  if (!args.person.empty()) {
    auto org = LoadOrgFile(args.org_file);
    if (!org) return Fail(org.error().message);
    if (!(*org)->FindPerson(PersonId(args.person))) {
      return Fail("--person: no person '" + args.person + "' in " + args.org_file);
    }
  }
  auto data = OpenData(args.data_dir);
  if (!data) return Fail(data.error().message);
  SystemClock clock;
  AuthService auth(AuthOptions{}, *data->users, *data->store, clock);
  auto user = auth.AddUser(args.username, *role, PersonId(args.person), "", "cli");
  if (!user) return Fail(user.error().message);
  std::printf("user %s added (role %s%s); set a password with:\n"
              "  approvald user set-password %s --data-dir %s\n",
              args.username.c_str(), args.role.c_str(),
              args.person.empty() ? "" : (", person " + args.person).c_str(),
              args.username.c_str(), args.data_dir.c_str());
  return 0;
}

int RunUserSetPassword(const UserArgs& args) {
  auto data = OpenData(args.data_dir);
  if (!data) return Fail(data.error().message);
  std::string password = ReadPassword();
  SystemClock clock;
  AuthService auth(AuthOptions{}, *data->users, *data->store, clock);
  if (auto st = auth.SetPassword(args.username, password, "cli"); !st) {
    return Fail(st.error().message);
  }
  std::printf("password of %s set; its sessions were ended\n", args.username.c_str());
  return 0;
}

}  // namespace approvald::api
