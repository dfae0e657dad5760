#include "installer/mariadb/maria_database.hpp"

namespace installer {
namespace {

// One row per kind, over tables, columns and indexes ...
const char* const kTablesAndColumns = R"SQL(
SELECT kind, COUNT(*), MD5(GROUP_CONCAT(item ORDER BY CAST(item AS BINARY) SEPARATOR '\n'))
FROM (
  SELECT 'table' AS kind,
         CONCAT_WS(' ', t.TABLE_NAME, t.TABLE_TYPE, IFNULL(t.ENGINE, ''), IFNULL(t.TABLE_COLLATION, ''),
                   t.TABLE_COMMENT) AS item
    FROM information_schema.TABLES t
    WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_NAME NOT IN ({journal})
  UNION ALL
  SELECT 'column',
         CONCAT_WS(' ', c.TABLE_NAME, c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE,
                   IFNULL(c.COLUMN_DEFAULT, '<no default>'), c.EXTRA, IFNULL(c.GENERATION_EXPRESSION, ''),
                   IFNULL(c.CHARACTER_SET_NAME, ''), IFNULL(c.COLLATION_NAME, ''), c.COLUMN_COMMENT)
    FROM information_schema.COLUMNS c
    WHERE c.TABLE_SCHEMA = DATABASE() AND c.TABLE_NAME NOT IN ({journal})
  UNION ALL
  SELECT 'index',
         CONCAT_WS(' ', s.TABLE_NAME, s.INDEX_NAME, s.NON_UNIQUE, s.INDEX_TYPE,
                   GROUP_CONCAT(CONCAT(s.COLUMN_NAME, IFNULL(CONCAT('(', s.SUB_PART, ')'), ''), IFNULL(s.COLLATION, ''))
                                ORDER BY s.SEQ_IN_INDEX SEPARATOR ','))
    FROM information_schema.STATISTICS s
    WHERE s.TABLE_SCHEMA = DATABASE() AND s.TABLE_NAME NOT IN ({journal})
    GROUP BY s.TABLE_NAME, s.INDEX_NAME, s.NON_UNIQUE, s.INDEX_TYPE
  UNION ALL
)SQL";

// ... constraints and views ...
const char* const kIndexesAndConstraints = R"SQL(  SELECT 'constraint',
         CONCAT_WS(' ', tc.TABLE_NAME, tc.CONSTRAINT_NAME, tc.CONSTRAINT_TYPE, IFNULL(k.columns, ''),
                   IFNULL(r.rules, ''), IFNULL(cc.clause, ''))
    FROM information_schema.TABLE_CONSTRAINTS tc
    LEFT JOIN (SELECT TABLE_NAME, CONSTRAINT_NAME,
                      GROUP_CONCAT(CONCAT(COLUMN_NAME, '->', IFNULL(REFERENCED_TABLE_NAME, ''), '.',
                                          IFNULL(REFERENCED_COLUMN_NAME, ''))
                                   ORDER BY ORDINAL_POSITION) AS columns
                 FROM information_schema.KEY_COLUMN_USAGE
                 WHERE CONSTRAINT_SCHEMA = DATABASE()
                 GROUP BY TABLE_NAME, CONSTRAINT_NAME) k
      ON k.TABLE_NAME = tc.TABLE_NAME AND k.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
    LEFT JOIN (SELECT TABLE_NAME, CONSTRAINT_NAME, MAX(CONCAT(UPDATE_RULE, '/', DELETE_RULE)) AS rules
                 FROM information_schema.REFERENTIAL_CONSTRAINTS
                 WHERE CONSTRAINT_SCHEMA = DATABASE()
                 GROUP BY TABLE_NAME, CONSTRAINT_NAME) r
      ON r.TABLE_NAME = tc.TABLE_NAME AND r.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
    LEFT JOIN (SELECT TABLE_NAME, CONSTRAINT_NAME, MAX(CHECK_CLAUSE) AS clause
                 FROM information_schema.CHECK_CONSTRAINTS
                 WHERE CONSTRAINT_SCHEMA = DATABASE()
                 GROUP BY TABLE_NAME, CONSTRAINT_NAME) cc
      ON cc.TABLE_NAME = tc.TABLE_NAME AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME
    WHERE tc.CONSTRAINT_SCHEMA = DATABASE() AND tc.TABLE_NAME NOT IN ({journal})
  UNION ALL
  SELECT 'view', CONCAT_WS(' ', v.TABLE_NAME, MD5(v.VIEW_DEFINITION), v.CHECK_OPTION, v.SECURITY_TYPE, v.ALGORITHM)
    FROM information_schema.VIEWS v
    WHERE v.TABLE_SCHEMA = DATABASE()
  UNION ALL
)SQL";

// ... routines, triggers and events.
const char* const kCodeAndSummary = R"SQL(  SELECT 'routine',
         CONCAT_WS(' ', r.ROUTINE_TYPE, r.ROUTINE_NAME, IFNULL(r.DTD_IDENTIFIER, ''),
                   MD5(IFNULL(r.ROUTINE_DEFINITION, '')), r.IS_DETERMINISTIC, r.SQL_DATA_ACCESS, r.SECURITY_TYPE,
                   IFNULL(p.parameters, ''))
    FROM information_schema.ROUTINES r
    LEFT JOIN (SELECT SPECIFIC_NAME, ROUTINE_TYPE,
                      GROUP_CONCAT(CONCAT(IFNULL(PARAMETER_MODE, ''), ' ', IFNULL(PARAMETER_NAME, ''), ' ',
                                          DTD_IDENTIFIER) ORDER BY ORDINAL_POSITION) AS parameters
                 FROM information_schema.PARAMETERS
                 WHERE SPECIFIC_SCHEMA = DATABASE() AND ORDINAL_POSITION > 0
                 GROUP BY SPECIFIC_NAME, ROUTINE_TYPE) p
      ON p.SPECIFIC_NAME = r.SPECIFIC_NAME AND p.ROUTINE_TYPE = r.ROUTINE_TYPE
    WHERE r.ROUTINE_SCHEMA = DATABASE()
  UNION ALL
  SELECT 'trigger',
         CONCAT_WS(' ', t.TRIGGER_NAME, t.EVENT_MANIPULATION, t.EVENT_OBJECT_TABLE, t.ACTION_TIMING, t.ACTION_ORDER,
                   MD5(t.ACTION_STATEMENT))
    FROM information_schema.TRIGGERS t
    WHERE t.TRIGGER_SCHEMA = DATABASE()
  UNION ALL
  SELECT 'event',
         CONCAT_WS(' ', e.EVENT_NAME, MD5(e.EVENT_DEFINITION), e.EVENT_TYPE, IFNULL(e.INTERVAL_VALUE, ''),
                   IFNULL(e.INTERVAL_FIELD, ''), e.STATUS)
    FROM information_schema.EVENTS e
    WHERE e.EVENT_SCHEMA = DATABASE()
) items
GROUP BY kind
ORDER BY kind
)SQL";

}  // namespace

// Every branch that lists tables leaves out the journal's tables ({journal}: one
// placeholder for each; '' when there are none, as NOT IN () is no SQL). Sorting is on
// bytes: the information_schema collations are case-insensitive and would let
// equal-looking items swap places.
// Column order is left out, as on PostgreSQL. No correlated subqueries: MariaDB fills an
// information_schema table again for every outer row of one, which made a fingerprint of
// 1,000 tables take minutes; grouped derived tables are filled once.
std::string mariadb_fingerprint_sql(size_t excluded_tables) {
  std::string placeholders = excluded_tables == 0 ? "''" : "?";
  for (size_t i = 1; i < excluded_tables; ++i) placeholders += ", ?";
  std::string sql = std::string(kTablesAndColumns) + kIndexesAndConstraints + kCodeAndSummary;
  for (size_t at = sql.find("{journal}"); at != std::string::npos; at = sql.find("{journal}", at))
    sql.replace(at, 9, placeholders);
  return sql;
}

}  // namespace installer
