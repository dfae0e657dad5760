// Restoring a MariaDB table's definition from SHOW CREATE TABLE: the ALTER statements that
// undo a statement, and the changes that cannot be undone without losing data.
#include "installer/db/undo.hpp"
#include "installer/mariadb/maria_table_definition.hpp"

#include <doctest/doctest.h>

using namespace installer;

namespace {

const char* const kBefore = "CREATE TABLE `t` (\n"
                            "  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
                            "  `a` varchar(40) NOT NULL DEFAULT 'x' COMMENT 'it, has; commas',\n"
                            "  `pid` int(11) DEFAULT NULL,\n"
                            "  PRIMARY KEY (`id`),\n"
                            "  UNIQUE KEY `ua` (`a`),\n"
                            "  KEY `fk_p` (`pid`),\n"
                            "  CONSTRAINT `fk_p` FOREIGN KEY (`pid`) REFERENCES `p` (`id`) ON DELETE CASCADE,\n"
                            "  CONSTRAINT `chk` CHECK (`id` > 0)\n"
                            ") ENGINE=InnoDB AUTO_INCREMENT=7 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci";

std::vector<std::string> restore(const std::string& now, const std::string& before,
                                 std::vector<std::pair<std::string, std::string>> renames = {}) {
  return restore_table_statements("`t`", parse_table_definition(now), parse_table_definition(before), renames);
}

}  // namespace

TEST_CASE("table definition: read line by line") {
  TableDefinition t = parse_table_definition(kBefore);
  REQUIRE(t.columns.size() == 3);
  CHECK(t.columns[1].first == "a");
  CHECK(t.columns[1].second == "varchar(40) NOT NULL DEFAULT 'x' COMMENT 'it, has; commas'");
  CHECK(t.keys.size() == 3);
  CHECK(t.keys.at("PRIMARY") == "PRIMARY KEY (`id`)");
  CHECK(t.foreign_keys.size() == 1);
  CHECK(t.checks.size() == 1);
  CHECK(t.options == "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci");  // no counter
  CHECK_THROWS_WITH_AS(parse_table_definition("CREATE ALGORITHM=UNDEFINED VIEW `v` AS select 1"),
                       "SHOW CREATE TABLE did not describe a table", NotExact);
}

TEST_CASE("table definition: the same definition needs nothing, whatever the counter") {
  std::string later = kBefore;
  later.replace(later.find("AUTO_INCREMENT=7"), 16, "AUTO_INCREMENT=99");
  CHECK(restore(later, kBefore).empty());
}

TEST_CASE("table definition: added columns, indexes and constraints are dropped; changed ones put back") {
  std::string now = "CREATE TABLE `t` (\n"
                    "  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
                    "  `a` varchar(80) DEFAULT NULL COMMENT 'it, has; commas',\n"
                    "  `pid` int(11) DEFAULT NULL,\n"
                    "  `d` int(11) DEFAULT NULL,\n"
                    "  PRIMARY KEY (`id`),\n"
                    "  UNIQUE KEY `ua` (`a`,`d`),\n"
                    "  KEY `fk_p` (`pid`),\n"
                    "  KEY `d` (`d`),\n"
                    "  CONSTRAINT `fk_p` FOREIGN KEY (`pid`) REFERENCES `p` (`id`) ON DELETE CASCADE,\n"
                    "  CONSTRAINT `t_ibfk_1` FOREIGN KEY (`d`) REFERENCES `p` (`id`),\n"
                    "  CONSTRAINT `chk` CHECK (`id` > 0),\n"
                    "  CONSTRAINT `CONSTRAINT_1` CHECK (`d` > 1)\n"
                    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='new'";
  auto statements = restore(now, kBefore);
  REQUIRE(statements.size() == 2);
  CHECK(statements[0] == "ALTER TABLE `t` DROP FOREIGN KEY `t_ibfk_1`");
  CHECK(statements[1] ==
        "ALTER TABLE `t` DROP CONSTRAINT `CONSTRAINT_1`, DROP INDEX `d`, DROP INDEX `ua`, "
        "MODIFY COLUMN `a` varchar(40) NOT NULL DEFAULT 'x' COMMENT 'it, has; commas', DROP COLUMN `d`, "
        "ADD UNIQUE KEY `ua` (`a`), ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT=''");
}

TEST_CASE("table definition: a dropped index or foreign key is added back, the key after its index") {
  std::string now = "CREATE TABLE `t` (\n"
                    "  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
                    "  `a` varchar(40) NOT NULL DEFAULT 'x' COMMENT 'it, has; commas',\n"
                    "  `pid` int(11) DEFAULT NULL,\n"
                    "  PRIMARY KEY (`id`),\n"
                    "  UNIQUE KEY `ua` (`a`),\n"
                    "  CONSTRAINT `chk` CHECK (`id` > 0)\n"
                    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci";
  auto statements = restore(now, kBefore);
  REQUIRE(statements.size() == 2);
  CHECK(statements[0] == "ALTER TABLE `t` ADD KEY `fk_p` (`pid`)");
  CHECK(statements[1] ==
        "ALTER TABLE `t` ADD CONSTRAINT `fk_p` FOREIGN KEY (`pid`) REFERENCES `p` (`id`) ON DELETE CASCADE");
}

TEST_CASE("table definition: a renamed column gets its name back, with its data") {
  std::string now = kBefore;
  now.replace(now.find("`a` varchar(40)"), 15, "`b` varchar(60)");
  auto statements = restore(now, kBefore, {{"a", "b"}});
  REQUIRE(statements.size() == 1);
  CHECK(statements[0] ==
        "ALTER TABLE `t` CHANGE COLUMN `b` `a` varchar(40) NOT NULL DEFAULT 'x' COMMENT 'it, has; commas'");
  // Renamed twice in one step (a -> b, then b -> c): back to a.
  now.replace(now.find("`b` varchar(60)"), 15, "`c` varchar(60)");
  statements = restore(now, kBefore, {{"a", "b"}, {"b", "c"}});
  REQUIRE(statements.size() == 1);
  CHECK(statements[0].find("CHANGE COLUMN `c` `a` varchar(40)") != std::string::npos);
}

TEST_CASE("table definition: a dropped column or changed partitioning has no exact inverse") {
  std::string now = kBefore;
  const std::string pid_line = "  `pid` int(11) DEFAULT NULL,\n";
  now.erase(now.find(pid_line), pid_line.size());
  CHECK_THROWS_WITH_AS(restore(now, kBefore), "column `pid` was dropped: its data cannot be restored", NotExact);
  CHECK_THROWS_WITH_AS(restore(std::string(kBefore) + "\n PARTITION BY HASH (`id`)\nPARTITIONS 4", kBefore),
                       "its partitioning or versioning changed", NotExact);
}

TEST_CASE("table definition: names may hold backticks, spaces and newlines") {
  const std::string before = "CREATE TABLE `we``ird\nname` (\n"
                             "  `co l` int(11) DEFAULT NULL COMMENT 'line1\\n  `fake` int,',\n"
                             "  `a\nb` int(11) DEFAULT NULL\n"
                             ") ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci COMMENT='multi\\nline'";
  TableDefinition t = parse_table_definition(before);
  REQUIRE(t.columns.size() == 2);
  CHECK(t.columns[0].first == "co l");
  CHECK(t.columns[1].first == "a\nb");
  std::string now = before;
  now.insert(now.find("  `a\nb`"), "  `new``one` int(11) DEFAULT NULL,\n");
  auto statements = restore_table_statements(backtick("we`ird\nname"), parse_table_definition(now), t, {});
  REQUIRE(statements.size() == 1);
  CHECK(statements[0] == "ALTER TABLE `we``ird\nname` DROP COLUMN `new``one`");
}

TEST_CASE("table definition: an index under another name is renamed back, not dropped and added") {
  std::string now = kBefore;
  now.replace(now.find("KEY `fk_p` (`pid`)"), 18, "KEY `t_ibfk_1` (`pid`)");
  auto statements = restore(now, kBefore);
  REQUIRE(statements.size() == 1);
  CHECK(statements[0] == "ALTER TABLE `t` RENAME INDEX `t_ibfk_1` TO `fk_p`");
}
