// The SQLite schema as numbered, forward-only migrations.
//
// Migrations are applied in order at open, inside one transaction, and each
// applied one is recorded in `schema_migrations` (version, name, applied_at).
// A migration, once released, never changes: a schema change is a new entry
// at the end of kMigrations in migrations.cc.
#ifndef APPROVALD_STORE_SQLITE_MIGRATIONS_H_
#define APPROVALD_STORE_SQLITE_MIGRATIONS_H_

#include <span>

#include "approvald/status.h"
#include "store/sqlite/sqlite_db.h"

namespace approvald::sqlite {

struct Migration {
  int version;       // 1, 2, 3, ... without gaps
  const char* name;  // short snake_case description, recorded with it
  const char* sql;   // one or more statements
};

// Every migration this binary knows, in version order.
std::span<const Migration> Migrations();

// Brings the database on `db` up to the newest migration. Refuses (kInternal
// "schema_mismatch") a database that records a migration this binary does
// not know or knows under another name, e.g. one written by a newer
// approvald; applies nothing then. Returns the number of migrations applied.
// REQUIRES: no transaction is open on `db`.
Result<int> ApplyMigrations(Db& db);

}  // namespace approvald::sqlite

#endif  // APPROVALD_STORE_SQLITE_MIGRATIONS_H_
