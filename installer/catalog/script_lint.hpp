#pragma once
#include "installer/catalog/problems.hpp"
#include "installer/catalog/sql_splitter.hpp"

#include <string>
#include <vector>

namespace installer {

/// Checks a step script's statements for what the installer cannot run safely:
/// transaction control (the installer owns transactions), psql meta-commands, and on
/// PostgreSQL statements that cannot run inside a transaction in a step that has one.
void lint_statements(const std::vector<Statement>& statements, SqlDialect dialect, bool transactional,
                     const std::string& path, const std::string& step_name, std::vector<Problem>& problems);

}  // namespace installer
