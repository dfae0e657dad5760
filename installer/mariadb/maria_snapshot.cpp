#include "installer/mariadb/maria_database.hpp"

#include <algorithm>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace installer {
namespace {

// Every branch reads one kind from information_schema for the current database. In the
// text, {journal} stands for the journal's tables (left out wherever tables are listed)
// and {scope:COLUMN} for the condition that keeps only the scope's tables; bound() makes
// them '?' placeholders.
//
// Each branch names the database through the column MariaDB looks it up by (TABLE_SCHEMA,
// EVENT_OBJECT_SCHEMA, ...): with another one, EXPLAIN says "Scanned all databases".
// Joins of two tables' rows compare names in bytes as well: information_schema compares
// them without case, and a database may hold both `Orders` and `orders`.
struct Branch {
  const char* kind;
  const char* described;  ///< name, definition, table
  const char* source;
  bool table_less = false;  ///< routines and events: a scoped read leaves them out unless asked
};

// Tables and sequences, views; a table as CREATE TABLE's options say it.
const char* const kTableDescribed = R"SQL(t.TABLE_NAME,
  CONCAT_WS(' ', t.TABLE_TYPE, CONCAT('ENGINE=', t.ENGINE), CONCAT('COLLATE=', t.TABLE_COLLATION),
            NULLIF(t.CREATE_OPTIONS, ''), IF(t.TABLE_COMMENT = '', NULL, CONCAT('COMMENT=', QUOTE(t.TABLE_COMMENT)))),
  t.TABLE_NAME)SQL";

const char* const kTableSource = R"SQL(information_schema.TABLES t
  WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE NOT IN ('VIEW', 'TEMPORARY')
    AND t.TABLE_NAME NOT IN ({journal}){scope:t.TABLE_NAME})SQL";

const char* const kViewDescribed = R"SQL(v.TABLE_NAME,
  CONCAT('ALGORITHM=', v.ALGORITHM, ' SQL SECURITY ', v.SECURITY_TYPE, ' AS ', v.VIEW_DEFINITION,
         IF(v.CHECK_OPTION = 'NONE', '', CONCAT(' WITH ', v.CHECK_OPTION, ' CHECK OPTION'))),
  v.TABLE_NAME)SQL";

const char* const kViewSource = R"SQL(information_schema.VIEWS v
  WHERE v.TABLE_SCHEMA = DATABASE() AND v.TABLE_NAME NOT IN ({journal}){scope:v.TABLE_NAME})SQL";

// Columns read like their DDL; a character set and collation only where they are not the
// table's, as SHOW CREATE TABLE writes them. The tables' collations are a grouped derived
// table, which MariaDB materializes with a key: merged into the query instead, the join of
// two information_schema tables became a nested loop over both (300 ms for 1,000 tables
// instead of 17).
const char* const kColumnDescribed = R"SQL(CONCAT(c.TABLE_NAME, '.', c.COLUMN_NAME),
  CONCAT_WS(' ', c.COLUMN_TYPE,
            IF(c.COLLATION_NAME <> t.TABLE_COLLATION,
               CONCAT('CHARACTER SET ', c.CHARACTER_SET_NAME, ' COLLATE ', c.COLLATION_NAME), NULL),
            IF(c.IS_NULLABLE = 'NO', 'NOT NULL', NULL),
            IF(c.GENERATION_EXPRESSION IS NULL, CONCAT('DEFAULT ', c.COLUMN_DEFAULT), NULL),
            CONCAT('AS (', c.GENERATION_EXPRESSION, ')'), NULLIF(c.EXTRA, ''),
            IF(c.COLUMN_COMMENT = '', NULL, CONCAT('COMMENT ', QUOTE(c.COLUMN_COMMENT)))),
  c.TABLE_NAME)SQL";

const char* const kColumnSource = R"SQL(information_schema.COLUMNS c
  LEFT JOIN (SELECT TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES
              WHERE TABLE_SCHEMA = DATABASE(){scope:TABLE_NAME}
              GROUP BY BINARY TABLE_NAME) t
    ON t.TABLE_NAME = c.TABLE_NAME AND BINARY t.TABLE_NAME = BINARY c.TABLE_NAME
  WHERE c.TABLE_SCHEMA = DATABASE() AND c.TABLE_NAME NOT IN ({journal}){scope:c.TABLE_NAME})SQL";

// Indexes: their columns in order, with prefix lengths and descending parts.
const char* const kIndexDescribed = R"SQL(CONCAT(MAX(s.TABLE_NAME), '.', s.INDEX_NAME),
  CONCAT(IF(MAX(s.NON_UNIQUE) = 0, 'UNIQUE ', ''), MAX(s.INDEX_TYPE), ' (',
         GROUP_CONCAT(CONCAT(s.COLUMN_NAME, IFNULL(CONCAT('(', s.SUB_PART, ')'), ''), IF(s.COLLATION = 'D', ' DESC', ''))
                      ORDER BY s.SEQ_IN_INDEX SEPARATOR ', '), ')',
         IF(MAX(s.INDEX_COMMENT) = '', '', CONCAT(' COMMENT ', QUOTE(MAX(s.INDEX_COMMENT)))),
         IF(MAX(s.IGNORED) = 'YES', ' IGNORED', '')),
  MAX(s.TABLE_NAME))SQL";

const char* const kIndexSource = R"SQL(information_schema.STATISTICS s
  WHERE s.TABLE_SCHEMA = DATABASE() AND s.TABLE_NAME NOT IN ({journal}){scope:s.TABLE_NAME}
  GROUP BY BINARY s.TABLE_NAME, s.INDEX_NAME)SQL";

// Constraints: a key's columns, a foreign key's references and rules, a check's clause,
// each from its own table, brought together by grouping (not joins, as for columns). A
// foreign key may share its name with a key of the same table: `class` keeps them apart.
const char* const kConstraintDescribed = R"SQL(CONCAT(MAX(x.tbl), '.', x.name),
  CASE MAX(x.type)
    WHEN 'CHECK' THEN CONCAT('CHECK (', IFNULL(MAX(x.clause), ''), ')')
    WHEN 'FOREIGN KEY' THEN
      CONCAT('FOREIGN KEY (', IFNULL(GROUP_CONCAT(x.col ORDER BY x.pos SEPARATOR ', '), ''), ') REFERENCES ',
             IF(MAX(x.ref_schema) = DATABASE(), '', CONCAT(MAX(x.ref_schema), '.')), IFNULL(MAX(x.ref_table), ''),
             ' (', IFNULL(GROUP_CONCAT(x.ref_col ORDER BY x.pos SEPARATOR ', '), ''), ') ON UPDATE ',
             IFNULL(MAX(x.on_update), ''), ' ON DELETE ', IFNULL(MAX(x.on_delete), ''))
    ELSE CONCAT(MAX(x.type), ' (', IFNULL(GROUP_CONCAT(x.col ORDER BY x.pos SEPARATOR ', '), ''), ')') END,
  MAX(x.tbl))SQL";

const char* const kConstraintSource = R"SQL((
    SELECT TABLE_NAME AS tbl, CONSTRAINT_NAME AS name, CONSTRAINT_TYPE AS type,
           IF(CONSTRAINT_TYPE IN ('FOREIGN KEY', 'CHECK'), CONSTRAINT_TYPE, 'KEY') AS class, NULL AS col, NULL AS pos,
           NULL AS ref_col, NULL AS ref_schema, NULL AS ref_table, NULL AS on_update, NULL AS on_delete, NULL AS clause
      FROM information_schema.TABLE_CONSTRAINTS
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT IN ({journal}){scope:TABLE_NAME}
    UNION ALL
    SELECT TABLE_NAME, CONSTRAINT_NAME, NULL, IF(REFERENCED_TABLE_NAME IS NULL, 'KEY', 'FOREIGN KEY'), COLUMN_NAME,
           ORDINAL_POSITION, REFERENCED_COLUMN_NAME, REFERENCED_TABLE_SCHEMA, REFERENCED_TABLE_NAME, NULL, NULL, NULL
      FROM information_schema.KEY_COLUMN_USAGE
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT IN ({journal}){scope:TABLE_NAME}
    UNION ALL
    SELECT TABLE_NAME, CONSTRAINT_NAME, NULL, 'FOREIGN KEY', NULL, NULL, NULL, NULL, NULL, UPDATE_RULE, DELETE_RULE, NULL
      FROM information_schema.REFERENTIAL_CONSTRAINTS
     WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME NOT IN ({journal}){scope:TABLE_NAME}
    UNION ALL
    SELECT TABLE_NAME, CONSTRAINT_NAME, NULL, 'CHECK', NULL, NULL, NULL, NULL, NULL, NULL, NULL, CHECK_CLAUSE
      FROM information_schema.CHECK_CONSTRAINTS
     WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME NOT IN ({journal}){scope:TABLE_NAME}
  ) x
  GROUP BY BINARY x.tbl, x.name, x.class
  HAVING MAX(x.type) IS NOT NULL)SQL";

// Routines: their parameters, what they return and how, and the body in full.
const char* const kRoutineDescribed = R"SQL(r.ROUTINE_NAME,
  CONCAT('(', IFNULL(p.parameters, ''), ')', IF(r.ROUTINE_TYPE = 'FUNCTION', CONCAT(' RETURNS ', r.DTD_IDENTIFIER), ''),
         IF(r.IS_DETERMINISTIC = 'YES', ' DETERMINISTIC', ' NOT DETERMINISTIC'), ' ', r.SQL_DATA_ACCESS,
         ' SQL SECURITY ', r.SECURITY_TYPE,
         IF(r.ROUTINE_COMMENT = '', '', CONCAT(' COMMENT ', QUOTE(r.ROUTINE_COMMENT))),
         ' ', IFNULL(r.ROUTINE_DEFINITION, '')),
  '')SQL";

const char* const kRoutineSource = R"SQL(information_schema.ROUTINES r
  LEFT JOIN (SELECT SPECIFIC_NAME, ROUTINE_TYPE,
                    GROUP_CONCAT(CONCAT_WS(' ', PARAMETER_MODE, PARAMETER_NAME, DTD_IDENTIFIER)
                                 ORDER BY ORDINAL_POSITION SEPARATOR ', ') AS parameters
               FROM information_schema.PARAMETERS
              WHERE SPECIFIC_SCHEMA = DATABASE() AND ORDINAL_POSITION > 0
              GROUP BY SPECIFIC_NAME, ROUTINE_TYPE) p
    ON p.SPECIFIC_NAME = r.SPECIFIC_NAME AND p.ROUTINE_TYPE = r.ROUTINE_TYPE
  WHERE r.ROUTINE_SCHEMA = DATABASE())SQL";

// Triggers are the database's, but named with their table here: the table is what a
// statement that changes one names. Their order among the table's triggers is theirs too.
const char* const kTriggerDescribed = R"SQL(CONCAT(g.EVENT_OBJECT_TABLE, '.', g.TRIGGER_NAME),
  CONCAT(g.ACTION_TIMING, ' ', g.EVENT_MANIPULATION, ' FOR EACH ', g.ACTION_ORIENTATION, ' ORDER ', g.ACTION_ORDER,
         ' ', g.ACTION_STATEMENT),
  g.EVENT_OBJECT_TABLE)SQL";

const char* const kTriggerSource = R"SQL(information_schema.TRIGGERS g
  WHERE g.EVENT_OBJECT_SCHEMA = DATABASE()
    AND g.EVENT_OBJECT_TABLE NOT IN ({journal}){scope:g.EVENT_OBJECT_TABLE})SQL";

// Events, without what a re-creation moves (STARTS defaults to the time of CREATE EVENT)
// or what running them changes (LAST_EXECUTED).
const char* const kEventDescribed = R"SQL(e.EVENT_NAME,
  CONCAT_WS(' ', e.EVENT_TYPE, CONCAT('EVERY ', e.INTERVAL_VALUE, ' ', e.INTERVAL_FIELD), e.STATUS,
            CONCAT('ON COMPLETION ', e.ON_COMPLETION),
            IF(e.EVENT_COMMENT = '', NULL, CONCAT('COMMENT ', QUOTE(e.EVENT_COMMENT))),
            CONCAT('DO ', e.EVENT_DEFINITION)),
  '')SQL";

const Branch kBranches[] = {
    {"IF(t.TABLE_TYPE = 'SEQUENCE', 'sequence', 'table')", kTableDescribed, kTableSource},
    {"'view'", kViewDescribed, kViewSource},
    {"'column'", kColumnDescribed, kColumnSource},
    {"'index'", kIndexDescribed, kIndexSource},
    {"'constraint'", kConstraintDescribed, kConstraintSource},
    {"LOWER(r.ROUTINE_TYPE)", kRoutineDescribed, kRoutineSource, true},
    {"'trigger'", kTriggerDescribed, kTriggerSource},
    {"'event'", kEventDescribed, "information_schema.EVENTS e WHERE e.EVENT_SCHEMA = DATABASE()", true},
};

/// The text with {journal} and {scope:COLUMN} replaced by placeholders, and the values
/// to bind to them in order: `table` ("" for every table) is looked up by its exact name,
/// so that information_schema opens that table alone and lists no directory (a condition
/// on several names or on LOWER(name) made it read every table's name in each branch).
void bind_markers(const std::string& text, const ExcludedObjects& journal, const std::string* table, std::string& sql,
                  std::vector<SqlValue>& params) {
  size_t from = 0;
  for (size_t at = text.find('{'); at != std::string::npos; at = text.find('{', from)) {
    size_t end = text.find('}', at);
    if (end == std::string::npos) throw std::logic_error("mariadb_snapshot: an unclosed marker");
    sql.append(text, from, at - from);
    std::string marker = text.substr(at + 1, end - at - 1);
    from = end + 1;
    if (marker == "journal") {
      if (journal.tables.empty()) sql += "''";  // NOT IN () is no SQL
      for (size_t i = 0; i < journal.tables.size(); ++i) sql += i == 0 ? "?" : ", ?";
      params.insert(params.end(), journal.tables.begin(), journal.tables.end());
    } else if (marker.rfind("scope:", 0) == 0) {
      if (!table) continue;
      sql += " AND " + marker.substr(6) + " = ?";
      params.emplace_back(*table);
    } else {
      throw std::logic_error("mariadb_snapshot: unknown marker {" + marker + "}");
    }
  }
  sql.append(text, from, std::string::npos);
}

/// The branches that `table_less` selects (the table-less ones or the others), each as a
/// SELECT of kind, name, definition and table, joined by UNION ALL onto `sql`.
void append_branches(bool table_less, const ExcludedObjects& journal, const std::string* table, std::string& sql,
                     std::vector<SqlValue>& params) {
  for (const Branch& b : kBranches) {
    if (b.table_less != table_less) continue;
    if (!sql.empty()) sql += "UNION ALL\n";
    bind_markers(std::string("SELECT ") + b.kind + ", " + b.described + "\n  FROM " + b.source + "\n", journal, table,
                 sql, params);
  }
}

}  // namespace

Snapshot mariadb_snapshot(Database& db, const ExcludedObjects& journal, const SnapshotScope& scope) {
  std::string sql;
  std::vector<SqlValue> params;
  if (scope.everything) {
    append_branches(false, journal, nullptr, sql, params);
  } else {
    for (const auto& table : scope.tables) append_branches(false, journal, &table, sql, params);
  }
  if (scope.everything || scope.table_less) append_branches(true, journal, nullptr, sql, params);
  std::vector<SchemaObject> objects;
  if (!sql.empty()) {
    for (auto& row : db.query(sql, params)) {
      if (row.size() != 4) throw std::logic_error("mariadb_snapshot: a row is not kind, name, definition and table");
      objects.push_back(SchemaObject{std::move(row[0]).value_or(""), std::move(row[1]).value_or(""),
                                     std::move(row[2]).value_or(""), std::move(row[3]).value_or("")});
    }
  }
  // Two spellings of one name look up the same table where the server folds names
  // (lower_case_table_names): its rows then come twice.
  auto by_value = [](const SchemaObject& a, const SchemaObject& b) {
    return std::tie(a.kind, a.name, a.definition, a.table) < std::tie(b.kind, b.name, b.definition, b.table);
  };
  std::sort(objects.begin(), objects.end(), by_value);
  objects.erase(std::unique(objects.begin(), objects.end()), objects.end());
  return Snapshot(std::move(objects));
}

}  // namespace installer
