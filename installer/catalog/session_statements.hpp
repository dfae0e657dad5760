#pragma once
#include "installer/catalog/sql_splitter.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace installer {

/// Why a statement would change the session the installer shares with the steps in a way
/// its journal writes cannot live with (who it runs as, read-only mode, autocommit, the
/// current database), or nothing. The server applies such a change to every statement
/// after it, the installer's own included: the journal would be written as another user,
/// into another database, or not committed at all. Settings that only change how the
/// step's own SQL behaves (search_path, sql_mode, timeouts) are not refused: the installer
/// puts them back after each step. `transactional`: the statement runs inside the update's
/// transaction (a default for later transactions then ends with the step).
std::optional<std::string> session_change(std::string_view statement, SqlDialect dialect, bool transactional);

/// MariaDB runs the text of an executable comment (/*! ... */, /*!50003 ... */,
/// /*M! ... */) as code: the statement with those markers blanked out, so that what they
/// hold is linted like the rest. Lines and offsets are kept.
std::string unwrap_executable_comments(std::string_view statement);

}  // namespace installer
