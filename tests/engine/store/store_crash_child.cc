// The child process of the crash and full-disk tests. It writes to an
// SQLite store and reports on stdout, one line per answer, written with a
// single write(2) so a SIGKILL never leaves half a line:
//   A <instance> <version>   an Append was acknowledged (durable)
//   R <index>                an AppendAudit was acknowledged
//   E <code> <reason>        a write failed (message on stderr)
//   S                        the store is open; writing starts
//
// Usage:
//   store_crash_child append <db> <threads> <key.pem>
//       appends from <threads> threads until killed; signs a checkpoint
//       every 20 ms with the Ed25519 key in <key.pem>
//   store_crash_child fill <db> <threads>
//       appends big events until every thread saw 3 failures, then exits 0
//       (run with RLIMIT_FSIZE so the disk "fills")
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "audit/checkpoint.h"
#include "crash_workload.h"
#include "store/common/store_common.h"
#include "store/sqlite/sqlite_store.h"

namespace approvald::crashtest {
namespace {

void Say(const std::string& line) {
  std::string l = line + "\n";
  // One write per line: atomic on a pipe (< PIPE_BUF).
  if (::write(1, l.data(), l.size()) != static_cast<ssize_t>(l.size())) std::_Exit(3);
}

void Failed(const Error& e) {
  Say("E " + std::string(ErrorCodeName(e.code)) + " " + e.reason);
  std::fprintf(stderr, "store_crash_child: %s\n", e.ToString().c_str());
}

int Run(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s append|fill <db> <threads> [key.pem]\n", argv[0]);
    return 2;
  }
  std::string mode = argv[1];
  int threads = std::atoi(argv[3]);
  auto store = SqliteStore::Open(SqliteOptions{.path = argv[2]});
  if (!store) {
    Failed(store.error());
    return 1;
  }
  SqliteStore& s = **store;
  std::string def_hash = store_internal::Sha256Address(kDefSource);
  if (auto r = s.SaveDefinition("expense", 1, def_hash, kDefSource); !r) {
    Failed(r.error());
    return 1;
  }
  Say("S");
  const bool fill = mode == "fill";
  const std::string padding = fill ? std::string(16 * 1024, 'x') : "";
  const std::string tag = std::to_string(::getpid());

  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      int failures = 0;
      for (int64_t seq = 0; !stop; ++seq) {
        std::string owner =
            "o" + tag + "-" + std::to_string(t) + "-" + std::to_string(seq);
        auto a = s.Append(TwoEvents(InstanceId{0}, 0, def_hash, owner, padding));
        if (!a) {
          Failed(a.error());
          if (fill && ++failures >= 3) return;
          continue;
        }
        Say("A " + std::to_string(a->instance.value) + " " + std::to_string(a->version));
        for (int64_t v = 2; v < 10 && !stop; v += 2) {
          auto c = s.Append(TwoEvents(a->instance, v, def_hash, owner, padding));
          if (!c) {
            Failed(c.error());
            if (fill && ++failures >= 3) return;
            break;
          }
          Say("A " + std::to_string(c->instance.value) + " " +
              std::to_string(c->version));
        }
        if (seq % 4 == 0) {
          auto r = s.AppendAudit(AuditRecord{Timestamp{1700000000000 + seq},
                                             "login",
                                             PersonId(owner),
                                             "user:" + owner,
                                             {}});
          if (!r) {
            Failed(r.error());
            if (fill && ++failures >= 3) return;
          } else {
            Say("R " + std::to_string(*r));
          }
        }
      }
    });

  std::thread signer;
  if (!fill && argc >= 5) {
    auto key = audit::SigningKey::LoadPem(argv[4]);
    if (!key) {
      Failed(key.error());
      return 1;
    }
    signer = std::thread([&, key = *key] {
      while (!stop) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        // The size and root are read together under a read snapshot only if
        // nothing is appended between; a checkpoint for a size the log has
        // since passed is still valid, as RootAt(size) is fixed forever.
        auto size = s.AuditSize();
        if (!size) continue;
        auto root = s.RootAt(*size);
        if (!root) continue;
        auto cp = audit::SignCheckpoint(key, kOrigin, *size, *root,
                                        Timestamp{1700000000000 + *size});
        if (!cp) continue;
        if (auto r = s.SaveCheckpoint(*cp); !r) Failed(r.error());
      }
    });
  }
  for (auto& w : workers) w.join();
  stop = true;
  if (signer.joinable()) signer.join();
  return 0;
}

}  // namespace
}  // namespace approvald::crashtest

int main(int argc, char** argv) { return approvald::crashtest::Run(argc, argv); }
