// What a statement does to the schema, as exact undo reads it: every construct the undo
// relies on, and the look-alikes that must stay unknown.
#include "installer/catalog/statement_effect.hpp"

#include <doctest/doctest.h>

using namespace installer;

namespace {

StatementEffect maria(const char* sql) { return statement_effect(sql, SqlDialect::mariadb); }
StatementEffect pg(const char* sql) { return statement_effect(sql, SqlDialect::postgres); }

}  // namespace

TEST_CASE("statement effect: MariaDB creations, with their names unquoted") {
  auto e = maria("CREATE TABLE IF NOT EXISTS `shop`.`order``s` (id INT)");
  CHECK(e.action == Action::create);
  CHECK(e.kind == ObjectKind::table);
  CHECK(e.if_not_exists);
  REQUIRE(e.objects.size() == 1);
  CHECK(e.objects[0].schema == "shop");
  CHECK(e.objects[0].name == "order`s");

  e = maria("CREATE OR REPLACE ALGORITHM = MERGE DEFINER = `app`@`%` SQL SECURITY INVOKER VIEW v AS SELECT 1");
  CHECK(e.action == Action::create);
  CHECK(e.kind == ObjectKind::view);
  CHECK(e.or_replace);
  CHECK(e.objects[0].name == "v");

  e = maria("CREATE DEFINER=CURRENT_USER() PROCEDURE IF NOT EXISTS p(IN a INT) BEGIN SELECT a; END");
  CHECK(e.kind == ObjectKind::procedure);
  CHECK(e.if_not_exists);
  CHECK(e.objects[0].name == "p");

  CHECK(maria("CREATE DEFINER='root'@'localhost' TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1").kind ==
        ObjectKind::trigger);
  CHECK(maria("CREATE AGGREGATE FUNCTION f(x INT) RETURNS INT BEGIN RETURN 1; END").kind == ObjectKind::function);
  CHECK(maria("CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO DELETE FROM t").kind == ObjectKind::event);
  CHECK(maria("CREATE TEMPORARY TABLE tmp (a INT)").temporary);
  CHECK(maria("/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50001 VIEW `v` AS select 1 */").kind == ObjectKind::view);
}

TEST_CASE("statement effect: a MariaDB index changes its table's definition") {
  auto e = maria("CREATE UNIQUE INDEX IF NOT EXISTS ix ON orders (a)");
  CHECK(e.action == Action::alter_table);
  REQUIRE(e.objects.size() == 1);
  CHECK(e.objects[0].name == "orders");
  e = maria("DROP INDEX `PRIMARY` ON shop.orders");
  CHECK(e.action == Action::alter_table);
  CHECK(e.objects[0].schema == "shop");
  CHECK(e.objects[0].name == "orders");
}

TEST_CASE("statement effect: ALTER TABLE notes the renames a restore must undo by name") {
  auto e = maria("ALTER TABLE t ADD COLUMN x INT DEFAULT (1+2), CHANGE COLUMN a b VARCHAR(10), RENAME COLUMN c TO d, "
                 "RENAME INDEX i TO j, CHANGE e e INT, RENAME TO u");
  CHECK(e.action == Action::alter_table);
  CHECK(e.objects[0].name == "t");
  REQUIRE(e.column_renames.size() == 2);
  CHECK(e.column_renames[0] == std::pair<std::string, std::string>{"a", "b"});
  CHECK(e.column_renames[1] == std::pair<std::string, std::string>{"c", "d"});
  REQUIRE(e.renames.size() == 1);
  CHECK(e.renames[0].second.name == "u");
  CHECK(maria("ALTER ONLINE IGNORE TABLE IF EXISTS t ADD x INT").if_exists);
}

TEST_CASE("statement effect: drops, renames and other objects' ALTER") {
  auto e = maria("DROP TABLE IF EXISTS a, `b`, s.c");
  CHECK(e.action == Action::drop);
  CHECK(e.if_exists);
  CHECK(e.objects.size() == 3);
  CHECK(maria("DROP PROCEDURE IF EXISTS p").kind == ObjectKind::procedure);
  CHECK(maria("DROP TEMPORARY TABLE tmp").temporary);
  e = maria("RENAME TABLE a TO b, c TO d");
  CHECK(e.action == Action::rename_tables);
  CHECK(e.renames.size() == 2);
  CHECK(maria("ALTER VIEW v AS SELECT 2").action == Action::alter_object);
  CHECK(maria("ALTER DEFINER = x@y EVENT e ON SCHEDULE EVERY 2 DAY").action == Action::alter_object);
  CHECK(maria("ALTER EVENT e RENAME TO f").action == Action::unknown);
}

TEST_CASE("statement effect: rows written to one table, and what is not recognised") {
  auto e = maria("INSERT IGNORE INTO settings (k, v) VALUES ('a', 'secret')");
  CHECK(e.action == Action::write_rows);
  CHECK(e.objects[0].name == "settings");
  CHECK(e.summary == "INSERT IGNORE INTO settings");  // no literal values: they may be secrets
  CHECK(maria("UPDATE t SET a = 1").action == Action::write_rows);
  CHECK(maria("UPDATE t AS x SET x.a = 1").action == Action::write_rows);
  CHECK(maria("UPDATE t JOIN u ON t.id = u.id SET t.a = 1").action == Action::unknown);
  CHECK(maria("DELETE FROM t WHERE a = 1").action == Action::write_rows);
  CHECK(maria("DELETE t FROM t JOIN u").action == Action::unknown);
  CHECK(maria("REPLACE INTO t VALUES (1)").action == Action::write_rows);
  CHECK(maria("TRUNCATE TABLE t").action == Action::write_rows);
  CHECK(maria("CALL p()").action == Action::runs_code);
  CHECK(maria("EXECUTE stmt").action == Action::runs_code);
  CHECK(maria("EXECUTE IMMEDIATE 'DROP TABLE t'").action == Action::runs_code);
  CHECK(maria("BEGIN NOT ATOMIC SELECT 1; END").action == Action::runs_code);
  CHECK(maria("IF (SELECT 1) THEN SELECT 2; END IF").action == Action::runs_code);
  CHECK(maria("BEGIN").action == Action::unknown);  // a transaction, which the lint refuses
  CHECK(pg("DO $$ BEGIN PERFORM 1; END $$").action == Action::runs_code);
  CHECK(maria("GRANT SELECT ON t TO u").action == Action::unknown);
  CHECK(maria("CREATE USER u IDENTIFIED BY 'x'").action == Action::unknown);
  CHECK(maria("CREATE DATABASE other").action == Action::unknown);
}

TEST_CASE("statement effect: statements that change no schema") {
  for (const char* sql : {"SET foreign_key_checks = 0", "SET @x = 1", "SET NAMES utf8mb4", "SELECT 1", "DO SLEEP(0)",
                          "ANALYZE TABLE t", "SHOW TABLES", "PREPARE s FROM @q", "DEALLOCATE PREPARE s"})
    CHECK_MESSAGE(maria(sql).action == Action::no_schema_change, sql);
  for (const char* sql : {"SET GLOBAL max_connections = 10", "SET @@global.x = 1", "SET PASSWORD = 'x'"})
    CHECK_MESSAGE(maria(sql).action == Action::unknown, sql);
  for (const char* sql : {"SET search_path = app", "RESET ALL", "VACUUM t", "REINDEX INDEX CONCURRENTLY i", "ANALYZE t",
                          "SELECT set_config('a.b', 'c', false)", "REFRESH MATERIALIZED VIEW m"})
    CHECK_MESSAGE(pg(sql).action == Action::no_schema_change, sql);
  CHECK(pg("SELECT * INTO newtable FROM t").action == Action::unknown);
  CHECK(pg("EXPLAIN ANALYZE DELETE FROM t").action == Action::unknown);
}

TEST_CASE("statement effect: PostgreSQL indexes, names folded to lower case") {
  auto e = pg(
      "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS Orders_Note ON ONLY public.\"Orders\" USING btree (note)");
  CHECK(e.action == Action::create);
  CHECK(e.kind == ObjectKind::index);
  CHECK(e.concurrently);
  CHECK(e.if_not_exists);
  CHECK(e.objects[0].name == "orders_note");
  CHECK(e.table.schema == "public");
  CHECK(e.table.name == "Orders");
  e = pg("CREATE INDEX ON t (a)");
  CHECK(e.action == Action::create);
  CHECK(e.objects.empty());
  CHECK(e.table.name == "t");
  e = pg("DROP INDEX CONCURRENTLY IF EXISTS a, b CASCADE");
  CHECK(e.action == Action::drop);
  CHECK(e.objects.size() == 2);
  CHECK(e.cascade);
  CHECK(pg("CREATE UNLOGGED TABLE IF NOT EXISTS t (a int)").kind == ObjectKind::table);
  CHECK(pg("CREATE MATERIALIZED VIEW m AS SELECT 1").kind == ObjectKind::materialized_view);
  CHECK(pg("ALTER TYPE mood ADD VALUE 'x'").action == Action::unknown);
  CHECK(pg("CREATE EXTENSION pg_trgm").action == Action::unknown);
  CHECK(pg("-- a comment\n/* and /* nested */ one */ CREATE TABLE t (a int)").kind == ObjectKind::table);
  CHECK(pg("INSERT INTO t SELECT $$a;b$$").action == Action::write_rows);
}
