#include "installer/journal/journal_ddl.hpp"

#include <fmt/format.h>

namespace installer {
namespace {

std::vector<std::string> postgres_ddl(const std::string& schema, const TableName& t) {
  return {
      fmt::format("CREATE SCHEMA IF NOT EXISTS {}", schema),
      fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                  " format_version integer NOT NULL,"
                  " written_by text NOT NULL,"
                  " created_at timestamptz NOT NULL DEFAULT now())",
                  t("journal_format")),
      fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                  " attempt_id bigserial PRIMARY KEY,"
                  " update_id text NOT NULL, version text NOT NULL, checksum text NOT NULL,"
                  " description text NOT NULL DEFAULT '', requires text NOT NULL DEFAULT '',"
                  " state text NOT NULL, host text NOT NULL, installer_version text NOT NULL,"
                  " started_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz,"
                  " fingerprint_before text NOT NULL DEFAULT '', fingerprint_after text NOT NULL DEFAULT '',"
                  " error text NOT NULL DEFAULT '', error_step text NOT NULL DEFAULT '',"
                  " error_statement text NOT NULL DEFAULT '', error_sqlstate text NOT NULL DEFAULT '',"
                  " reason text NOT NULL DEFAULT '')",
                  t("updates")),
      fmt::format("CREATE INDEX IF NOT EXISTS updates_update_id_idx ON {} (update_id, attempt_id)", t("updates")),
      fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                  " attempt_id bigint NOT NULL REFERENCES {} (attempt_id) ON DELETE CASCADE,"
                  " position integer NOT NULL, name text NOT NULL,"
                  " up_checksum text NOT NULL, down_checksum text NOT NULL, down_script text NOT NULL,"
                  " transactional boolean NOT NULL, state text NOT NULL,"
                  " statements_total integer NOT NULL DEFAULT 0, statements_done integer NOT NULL DEFAULT 0,"
                  " down_statements_done integer NOT NULL DEFAULT 0,"
                  " fingerprint_before text NOT NULL DEFAULT '',"
                  " duration_ms bigint NOT NULL DEFAULT 0, error text NOT NULL DEFAULT '',"
                  " PRIMARY KEY (attempt_id, position))",
                  t("steps"), t("updates")),
  };
}

std::string postgres_installs_ddl(const TableName& t) {
  return fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                     " install_id bigserial PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                     " kind text NOT NULL, state text NOT NULL, host text NOT NULL, installer_version text NOT NULL,"
                     " ran_at timestamptz NOT NULL DEFAULT now(), duration_ms bigint NOT NULL DEFAULT 0,"
                     " output text NOT NULL DEFAULT '')",
                     t("installs"));
}

std::string mariadb_installs_ddl(const TableName& t) {
  return fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                     " install_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(255) NOT NULL,"
                     " checksum CHAR(64) NOT NULL, kind VARCHAR(16) NOT NULL, state VARCHAR(16) NOT NULL,"
                     " host VARCHAR(255) NOT NULL, installer_version VARCHAR(64) NOT NULL,"
                     " ran_at DATETIME(6) NOT NULL, duration_ms BIGINT NOT NULL DEFAULT 0, output LONGTEXT NOT NULL)"
                     " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
                     t("installs"));
}

// utf8mb4_bin: journal text is compared byte for byte, whatever the database's default.
std::vector<std::string> mariadb_ddl(const TableName& t) {
  return {
      fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                  " format_version INT NOT NULL,"
                  " written_by VARCHAR(255) NOT NULL,"
                  " created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))"
                  " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
                  t("journal_format")),
      fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                  " attempt_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
                  " update_id VARCHAR(255) NOT NULL, version VARCHAR(255) NOT NULL, checksum CHAR(64) NOT NULL,"
                  " description TEXT NOT NULL, requires TEXT NOT NULL,"
                  " state VARCHAR(32) NOT NULL, host VARCHAR(255) NOT NULL, installer_version VARCHAR(64) NOT NULL,"
                  " started_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), finished_at DATETIME(6) NULL,"
                  " fingerprint_before TEXT NOT NULL, fingerprint_after TEXT NOT NULL,"
                  " error LONGTEXT NOT NULL, error_step VARCHAR(255) NOT NULL DEFAULT '',"
                  " error_statement LONGTEXT NOT NULL, error_sqlstate VARCHAR(64) NOT NULL DEFAULT '',"
                  " reason VARCHAR(64) NOT NULL DEFAULT '',"
                  " KEY updates_update_id_idx (update_id, attempt_id))"
                  " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
                  t("updates")),
      fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                  " attempt_id BIGINT NOT NULL, position INT NOT NULL, name VARCHAR(255) NOT NULL,"
                  " up_checksum CHAR(64) NOT NULL, down_checksum CHAR(64) NOT NULL, down_script LONGTEXT NOT NULL,"
                  " transactional BOOLEAN NOT NULL, state VARCHAR(32) NOT NULL,"
                  " statements_total INT NOT NULL DEFAULT 0, statements_done INT NOT NULL DEFAULT 0,"
                  " down_statements_done INT NOT NULL DEFAULT 0,"
                  " fingerprint_before TEXT NOT NULL,"
                  " duration_ms BIGINT NOT NULL DEFAULT 0, error LONGTEXT NOT NULL,"
                  " PRIMARY KEY (attempt_id, position),"
                  " FOREIGN KEY (attempt_id) REFERENCES {} (attempt_id) ON DELETE CASCADE)"
                  " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
                  t("steps"), t("updates")),
  };
}

std::vector<std::string> postgres_format3_ddl(const TableName& t) {
  return {
      fmt::format("ALTER TABLE {} ADD COLUMN IF NOT EXISTS revert_method text NOT NULL DEFAULT '', "
                  "ADD COLUMN IF NOT EXISTS undo_done integer NOT NULL DEFAULT 0, "
                  "ADD COLUMN IF NOT EXISTS revert_note text NOT NULL DEFAULT ''",
                  t("steps")),
      fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                  " attempt_id bigint NOT NULL REFERENCES {} (attempt_id) ON DELETE CASCADE,"
                  " position integer NOT NULL, statement integer NOT NULL, kind text NOT NULL,"
                  " summary text NOT NULL, why text NOT NULL, detail text NOT NULL, existed boolean,"
                  " PRIMARY KEY (attempt_id, position, statement))",
                  t("undo"), t("updates")),
  };
}

// MariaDB has ADD COLUMN IF NOT EXISTS too: an installer killed between these statements
// leaves a journal the next one finishes.
std::vector<std::string> mariadb_format3_ddl(const TableName& t) {
  return {
      fmt::format("ALTER TABLE {} ADD COLUMN IF NOT EXISTS revert_method VARCHAR(32) NOT NULL DEFAULT '', "
                  "ADD COLUMN IF NOT EXISTS undo_done INT NOT NULL DEFAULT 0, "
                  "ADD COLUMN IF NOT EXISTS revert_note LONGTEXT NOT NULL DEFAULT ''",
                  t("steps")),
      fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                  " attempt_id BIGINT NOT NULL, position INT NOT NULL, statement INT NOT NULL,"
                  " kind VARCHAR(32) NOT NULL, summary TEXT NOT NULL, why TEXT NOT NULL, detail LONGTEXT NOT NULL,"
                  " existed BOOLEAN NULL,"
                  " PRIMARY KEY (attempt_id, position, statement),"
                  " FOREIGN KEY (attempt_id) REFERENCES {} (attempt_id) ON DELETE CASCADE)"
                  " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
                  t("undo"), t("updates")),
  };
}

// Digests and base64 are ASCII: a byte a character, and compared byte for byte.
std::string postgres_snapshots_ddl(const TableName& t) {
  return fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                     " digest text PRIMARY KEY, base_digest text NOT NULL DEFAULT '',"
                     " objects integer NOT NULL, bytes bigint NOT NULL, body text NOT NULL,"
                     " created_at timestamptz NOT NULL DEFAULT now())",
                     t("schema_snapshots"));
}

std::string mariadb_snapshots_ddl(const TableName& t) {
  return fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                     " digest CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,"
                     " base_digest VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',"
                     " objects INT NOT NULL, bytes BIGINT NOT NULL,"
                     " body LONGTEXT CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
                     " created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))"
                     " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
                     t("schema_snapshots"));
}

std::string postgres_restores_ddl(const TableName& t) {
  return fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                     " restore_id bigserial PRIMARY KEY, file text NOT NULL, sha256 text NOT NULL,"
                     " restored_at timestamptz NOT NULL DEFAULT now(), host text NOT NULL,"
                     " installer_version text NOT NULL, by_whom text NOT NULL)",
                     t("restores"));
}

std::string mariadb_restores_ddl(const TableName& t) {
  return fmt::format("CREATE TABLE IF NOT EXISTS {} ("
                     " restore_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, file TEXT NOT NULL,"
                     " sha256 CHAR(64) NOT NULL, restored_at DATETIME(6) NOT NULL, host VARCHAR(255) NOT NULL,"
                     " installer_version VARCHAR(64) NOT NULL, by_whom TEXT NOT NULL)"
                     " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
                     t("restores"));
}

}  // namespace

std::vector<std::string> journal_ddl(const ServerDialect& dialect, int from, const std::string& quoted_schema,
                                     const TableName& t, int to) {
  const bool postgresql = dialect.family == ServerDialect::Family::postgresql;
  std::vector<std::string> out;
  auto add = [&out](std::vector<std::string> statements) {
    out.insert(out.end(), statements.begin(), statements.end());
  };
  if (from < 1 && to >= 1) add(postgresql ? postgres_ddl(quoted_schema, t) : mariadb_ddl(t));
  if (from < 2 && to >= 2) out.push_back(postgresql ? postgres_installs_ddl(t) : mariadb_installs_ddl(t));
  if (from < 3 && to >= 3) add(postgresql ? postgres_format3_ddl(t) : mariadb_format3_ddl(t));
  if (from < 4 && to >= 4) out.push_back(postgresql ? postgres_snapshots_ddl(t) : mariadb_snapshots_ddl(t));
  // An adopted update's reason says where the installer learned of it and who said so
  // (a path, an operator): more than MariaDB's VARCHAR(64) held. PostgreSQL's is text.
  // MODIFY to the same type again is harmless, as every step here must be.
  if (from < 5 && to >= 5 && !postgresql)
    out.push_back(fmt::format("ALTER TABLE {} MODIFY COLUMN reason TEXT NOT NULL DEFAULT ''", t("updates")));
  // The trusted key that signed the update (docs/update-format.md), '' for unsigned ones;
  // the backup taken before the run (docs/backup.md), '' when none was.
  if (from < 6 && to >= 6) {
    out.push_back(fmt::format("ALTER TABLE {} ADD COLUMN IF NOT EXISTS signed_by {} NOT NULL DEFAULT ''", t("updates"),
                              postgresql ? "text" : "VARCHAR(64)"));
    out.push_back(fmt::format("ALTER TABLE {} ADD COLUMN IF NOT EXISTS backup TEXT NOT NULL DEFAULT ''", t("updates")));
    out.push_back(postgresql ? postgres_restores_ddl(t) : mariadb_restores_ddl(t));
  }
  return out;
}

}  // namespace installer
