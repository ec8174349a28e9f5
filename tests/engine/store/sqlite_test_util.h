// Helpers of the SQLite store's tests that edit the database file as an
// operator with the sqlite3 shell could, apart from the store's own code.
#ifndef APPROVALD_TESTS_ENGINE_STORE_SQLITE_TEST_UTIL_H_
#define APPROVALD_TESTS_ENGINE_STORE_SQLITE_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <optional>
#include <string>
#include <string_view>

#include "approvald/event.h"
#include "audit/leaf.h"

namespace approvald::storetest {

// Turns a database of this binary back into what a binary before schema
// migration 10 leaves: every event also stored as a row of the events table
// (its columns taken from the event its leaf holds; rows it already has
// stay), no events_end, and migration 10 not recorded. The store must be closed. Opening
// the file again applies migration 10 over these rows.
inline void DowngradeToEventsTable(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  auto exec = [db](const char* sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK)
        << sql << ": " << (err ? err : "");
    sqlite3_free(err);
  };
  exec("BEGIN");
  exec("DROP TRIGGER events_closed");
  exec("DROP TABLE events_end");
  exec("DELETE FROM schema_migrations WHERE version >= 10");
  sqlite3_stmt* leaves = nullptr;
  sqlite3_stmt* insert = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db,
                               "SELECT leaf_data FROM audit_log WHERE kind = 'event'"
                               " ORDER BY idx",
                               -1, &leaves, nullptr),
            SQLITE_OK);
  EXPECT_EQ(
      sqlite3_prepare_v2(
          db, "INSERT OR IGNORE INTO events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", -1,
          &insert, nullptr),
      SQLITE_OK);
  auto bind_text = [&insert](int column, std::string_view text) {
    sqlite3_bind_text(insert, column, text.data(), static_cast<int>(text.size()),
                      SQLITE_TRANSIENT);
  };
  while (sqlite3_step(leaves) == SQLITE_ROW) {
    std::string_view leaf(static_cast<const char*>(sqlite3_column_blob(leaves, 0)),
                          static_cast<size_t>(sqlite3_column_bytes(leaves, 0)));
    std::optional<std::string_view> bytes = audit::EventBytesOfLeaf(leaf);
    std::optional<Event> e = bytes ? DecodeEvent(*bytes) : std::nullopt;
    EXPECT_TRUE(e.has_value()) << leaf;
    if (!e) break;
    sqlite3_bind_int64(insert, 1, e->instance.value);
    sqlite3_bind_int64(insert, 2, e->version);
    sqlite3_bind_int64(insert, 3, e->at.ms);
    bind_text(4, e->type);
    bind_text(5, e->actor.value);
    bind_text(6, e->on_behalf_of.value);
    bind_text(7, e->node);
    bind_text(8, *bytes);
    EXPECT_EQ(sqlite3_step(insert), SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_reset(insert);
  }
  sqlite3_finalize(leaves);
  sqlite3_finalize(insert);
  exec("COMMIT");
  sqlite3_close(db);
}

}  // namespace approvald::storetest

#endif  // APPROVALD_TESTS_ENGINE_STORE_SQLITE_TEST_UTIL_H_
