#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace installer {

/// A table as MariaDB's SHOW CREATE TABLE prints it, one part per line of its body.
struct TableDefinition {
  std::vector<std::pair<std::string, std::string>> columns;  ///< name, definition after the name
  std::map<std::string, std::string> keys;                   ///< "PRIMARY" or the index name -> its line
  std::map<std::string, std::string> foreign_keys;           ///< constraint name -> its line
  std::map<std::string, std::string> checks;                 ///< constraint name -> its line
  std::vector<std::string> other_lines;                      ///< PERIOD FOR ..., anything else
  std::string options;                                       ///< ENGINE=... after ")", without AUTO_INCREMENT
  std::string trailer;                                       ///< partitioning and what else follows
};

/// Reads SHOW CREATE TABLE's text; throws NotExact when it is not the layout expected.
TableDefinition parse_table_definition(const std::string& show_create);

/// The ALTER TABLE statements that turn `now` back into `before` for the table named (as
/// SQL) `table`. `column_renames` are (old, new) pairs the undone statement renamed.
/// Throws NotExact when that cannot be done without losing data: a column of `before`
/// is gone, or the partitioning changed.
std::vector<std::string> restore_table_statements(
    const std::string& table, const TableDefinition& now, const TableDefinition& before,
    const std::vector<std::pair<std::string, std::string>>& column_renames);

/// `name` between backticks, with backticks doubled.
std::string backtick(const std::string& name);

}  // namespace installer
