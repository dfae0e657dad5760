#pragma once
#include "installer/db/server_dialect.hpp"

namespace installer {

/// How the installer's own statements are spelled for PostgreSQL.
const ServerDialect& postgres_dialect();

}  // namespace installer
