// Schema versions and forward migrations for the store's two databases.
//
// PRAGMA user_version holds the number of migrations applied. migrate() runs
// each missing step in its own transaction, so a crash leaves the database at
// some whole version. A database newer than this program knows is refused
// (Invalid) rather than written by code that does not understand it.
// Migrations are append-only: never edit a released step, add a new one.
#pragma once

#include <span>

#include "storage/sqlite.h"

namespace postern::store {

struct Migration {
    const char* sql;  // constant schema text; may hold several statements
};

std::span<const Migration> directory_migrations();
std::span<const Migration> index_migrations();

// Brings db up to steps.size(); returns the version it found before.
StoreResult<int> migrate(Db& db, std::span<const Migration> steps);

}  // namespace postern::store
