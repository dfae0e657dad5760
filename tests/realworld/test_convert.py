#!/usr/bin/env python3
"""Tests for scripts/realworld/convert.py (python3 standard library only).

Every test builds a small migration folder of its own in a temporary directory (the SQL is
written here, for these tests), runs convert.py as a subprocess and checks the output tree
and the --summary JSON that scripts/realworld.sh and harness.py rely on.

    python3 -B tests/realworld/test_convert.py -v
    cd tests/realworld && python3 -B -m unittest -v test_convert
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
CONVERT = os.path.normpath(os.path.join(HERE, "..", "..", "scripts", "realworld", "convert.py"))

try:
    import tomllib  # python 3.11+
except ImportError:  # pragma: no cover
    tomllib = None


def parse_toml(text):
    """update.toml as a dict: tomllib when there is one, else the subset convert.py writes."""
    if tomllib is not None:
        return tomllib.loads(text)
    doc, table = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        m = re.match(r"^\[steps\.([A-Za-z0-9_-]+)\]$", line)
        if m:
            table = doc.setdefault("steps", {}).setdefault(m.group(1), {})
            continue
        k, _, v = line.partition("=")
        k, v = k.strip(), v.strip()
        val = (v == "true") if v in ("true", "false") else json.loads(v)
        (doc if table is None else table)[k] = val
    return doc


class ConvertTestCase(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="convert-test-")
        self.addCleanup(self._tmp.cleanup)
        self.tmp = self._tmp.name
        self.src = os.path.join(self.tmp, "src")
        os.makedirs(self.src)

    # ---------------------------------------------------------------- building the source

    def write(self, rel, content, base=None):
        """Write content (str, or bytes written as they are) to SRC/rel."""
        path = os.path.join(base or self.src, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        with open(path, "wb") as f:
            f.write(data)
        return path

    def write_all(self, files, base=None):
        for rel, content in files.items():
            self.write(rel, content, base)

    # ---------------------------------------------------------------- running convert.py

    def run_convert(self, *args, src=None, out=None, engine="postgres", layout=None, summary=True):
        src = self.src if src is None else src
        out = os.path.join(self.tmp, "out") if out is None else out
        cmd = [sys.executable, "-B", CONVERT, src, out]
        if engine is not None:
            cmd += ["--engine", engine]
        if layout is not None:
            cmd += ["--layout", layout]
        sfile = os.path.join(self.tmp, "summary.json")
        if summary:
            cmd += ["--summary", sfile]
        cmd += list(args)
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, env=env, timeout=60), out, sfile

    def convert(self, **kw):
        """Run convert.py expecting success; returns (out dir, summary dict, stdout)."""
        p, out, sfile = self.run_convert(**kw)
        self.assertEqual(p.returncode, 0, "convert.py failed:\n%s%s" % (p.stdout, p.stderr))
        self.assertNotIn("Traceback", p.stderr)
        with open(sfile, encoding="utf-8") as f:
            summary = json.load(f)
        return out, summary, p.stdout

    def convert_fails(self, message, **kw):
        p, out, sfile = self.run_convert(**kw)
        self.assertNotEqual(p.returncode, 0, "convert.py succeeded:\n%s" % p.stdout)
        self.assertNotIn("Traceback", p.stderr)
        self.assertIn(message, p.stderr)
        self.assertFalse(os.path.exists(sfile), "no summary is written on failure")
        return p, out

    # ---------------------------------------------------------------- reading the output

    @staticmethod
    def read_bytes(path):
        with open(path, "rb") as f:
            return f.read()

    def update_dirs(self, out):
        return sorted(os.listdir(out))

    def assert_update(self, out, dirname, uid, version, description, steps, no_tx=()):
        """steps: [(step name, expected up, expected down)], texts as str or bytes."""
        udir = os.path.join(out, dirname)
        self.assertTrue(os.path.isdir(udir), "%s missing; have %s" % (dirname, os.listdir(out)))
        want_files = ["update.toml"]
        for name, _, _ in steps:
            want_files += [name + ".up.sql", name + ".down.sql"]
        self.assertEqual(sorted(os.listdir(udir)), sorted(want_files), dirname)
        toml_text = self.read_bytes(os.path.join(udir, "update.toml")).decode("utf-8")
        doc = parse_toml(toml_text)
        self.assertEqual(doc.get("id"), uid, dirname)
        self.assertEqual(doc.get("version"), str(version), dirname)
        self.assertEqual(doc.get("description"), description, dirname)
        want_steps = {n: {"transaction": False} for n in no_tx}
        self.assertEqual(doc.get("steps", {}), want_steps, dirname)
        self.assertEqual(set(doc) - {"id", "version", "description", "steps"}, set(), dirname)
        for name, up, down in steps:
            for suffix, want in ((".up.sql", up), (".down.sql", down)):
                got = self.read_bytes(os.path.join(udir, name + suffix))
                want_b = want if isinstance(want, bytes) else want.encode("utf-8")
                self.assertEqual(got, want_b, "%s/%s%s" % (dirname, name, suffix))
        return doc

    def all_output_text(self, out):
        text = ""
        for root, _, files in os.walk(out):
            for f in files:
                text += self.read_bytes(os.path.join(root, f)).decode("utf-8", "replace")
        return text


# ============================================================================ golang-migrate

class GolangMigrateTest(ConvertTestCase):
    def test_pairs_exact_text_natural_order_and_notes(self):
        self.write_all({
            "1_create_users.up.sql": "CREATE TABLE users (\r\n  id integer PRIMARY KEY\r\n);\r\n",
            "1_create_users.down.sql": "DROP TABLE users;\r\n",
            # not valid UTF-8 and no final newline: copied byte for byte
            "2_add_email.up.sql": b"-- caf\xe9 (latin-1)\nALTER TABLE users ADD COLUMN email text;",
            "2_add_email.down.sql": "ALTER TABLE users DROP COLUMN email;\n",
            "10_users_email_idx.up.sql": "CREATE INDEX users_email_idx ON users (email);\n",
            "10_users_email_idx.down.sql": "DROP INDEX users_email_idx;\n",
            "3_orphan.down.sql": "DROP TABLE nothing;\n",
            "notes.sql": "-- scratch file\n",
            "README.md": "not a migration\n",
        })
        out, s, _ = self.convert()
        self.assertEqual(s["layout"], "golang-migrate")
        self.assertEqual(self.update_dirs(out),
                         ["0001-1_create_users", "0002-2_add_email", "0003-10_users_email_idx"])
        self.assert_update(out, "0001-1_create_users", "1_create_users", 1, "1_create_users.up.sql",
                           [("001_create_users",
                             "CREATE TABLE users (\r\n  id integer PRIMARY KEY\r\n);\r\n",
                             "DROP TABLE users;\r\n")])
        self.assert_update(out, "0002-2_add_email", "2_add_email", 2, "2_add_email.up.sql",
                           [("001_add_email",
                             b"-- caf\xe9 (latin-1)\nALTER TABLE users ADD COLUMN email text;",
                             "ALTER TABLE users DROP COLUMN email;\n")])
        self.assert_update(out, "0003-10_users_email_idx", "10_users_email_idx", 3,
                           "10_users_email_idx.up.sql",
                           [("001_users_email_idx", "CREATE INDEX users_email_idx ON users (email);\n",
                             "DROP INDEX users_email_idx;\n")])
        self.assertEqual((s["updates"], s["steps"], s["down_missing"], s["no_transaction"]), (3, 3, 0, 0))
        notes = "\n".join(s["notes"])
        self.assertIn("ignored notes.sql", notes)
        self.assertIn("ignored 3_orphan.down.sql: a down without an up", notes)

    def test_up_only_folder_gets_empty_downs(self):
        self.write_all({
            "1_create_flags.up.sql": "CREATE TABLE flags (key text PRIMARY KEY);\n",
            "2_add_enabled.up.sql": "ALTER TABLE flags ADD COLUMN enabled boolean;\n",
        })
        out, s, _ = self.convert()
        self.assertEqual(s["layout"], "golang-migrate")
        self.assert_update(out, "0001-1_create_flags", "1_create_flags", 1, "1_create_flags.up.sql",
                           [("001_create_flags", "CREATE TABLE flags (key text PRIMARY KEY);\n", "")])
        self.assert_update(out, "0002-2_add_enabled", "2_add_enabled", 2, "2_add_enabled.up.sql",
                           [("001_add_enabled", "ALTER TABLE flags ADD COLUMN enabled boolean;\n", "")])
        self.assertEqual((s["down_missing"], s["empty_down"], s["empty_up"]), (2, 2, 0))
        self.assertTrue(all(st["down_missing"] and st["down_source"] is None
                            for u in s["list"] for st in u["steps"]))
        self.assertIn("up-only history: every down script was written as an empty file", s["notes"])


# ============================================================================ pop

V1, V2, V3, V4, V5, V6 = ("20200101000000", "20200102000000", "20200103000000", "20200104000000",
                          "20200105000000", "20200106000000")


class PopTest(ConvertTestCase):
    def setUp(self):
        super().setUp()
        self.write_all({
            # generic only
            V1 + "_create_things.up.sql": "CREATE TABLE things (id int);\n",
            V1 + "_create_things.down.sql": "DROP TABLE things;\n",
            # generic plus per-dialect files
            V2 + "_things_name.up.sql": "ALTER TABLE things ADD COLUMN name CHAR(64); -- generic\n",
            V2 + "_things_name.down.sql": "ALTER TABLE things DROP COLUMN name; -- generic\n",
            V2 + "_things_name.postgres.up.sql": "ALTER TABLE things ADD COLUMN name text;\n",
            V2 + "_things_name.postgres.down.sql": "ALTER TABLE things DROP COLUMN name; -- pg\n",
            V2 + "_things_name.mysql.up.sql": "ALTER TABLE things ADD COLUMN name VARCHAR(64);\n",
            V2 + "_things_name.mysql.down.sql": "ALTER TABLE things DROP COLUMN name; -- my\n",
            V2 + "_things_name.sqlite3.up.sql": "ALTER TABLE things ADD COLUMN name TEXT; -- lite\n",
            V2 + "_things_name.cockroach.up.sql": "ALTER TABLE things ADD COLUMN name STRING;\n",
            # outside a transaction on postgres only
            V3 + "_things_idx.postgres.autocommit.up.sql":
                "CREATE INDEX CONCURRENTLY things_name_idx ON things (name);\n",
            V3 + "_things_idx.postgres.autocommit.down.sql": "DROP INDEX CONCURRENTLY things_name_idx;\n",
            V3 + "_things_idx.mysql.up.sql": "CREATE INDEX things_name_idx ON things (name);\n",
            V3 + "_things_idx.mysql.down.sql": "DROP INDEX things_name_idx ON things;\n",
            # only for another dialect: not an update on either engine
            V4 + "_lite_only.sqlite3.up.sql": "CREATE TABLE lite (id integer);\n",
            V4 + "_lite_only.sqlite3.down.sql": "DROP TABLE lite;\n",
            # no down; the mariadb alias counts as mysql
            V5 + "_flags.up.sql": "ALTER TABLE things ADD COLUMN flags int;\n",
            V5 + "_flags.mariadb.up.sql": "ALTER TABLE things ADD COLUMN flags INT UNSIGNED;\n",
            # fizz is not SQL
            V6 + "_fizzy.up.fizz": 'create_table("fizzy") {}\n',
        })

    def test_postgres_prefers_postgres_files(self):
        out, s, _ = self.convert(engine="postgres")
        self.assertEqual(s["layout"], "pop")
        self.assertEqual(self.update_dirs(out), ["0001-%s_create_things" % V1, "0002-%s_things_name" % V2,
                                                 "0003-%s_things_idx" % V3, "0004-%s_flags" % V5])
        self.assert_update(out, "0001-%s_create_things" % V1, V1 + "_create_things", 1,
                           "%s_create_things.up.sql (down: %s_create_things.down.sql)" % (V1, V1),
                           [("001_create_things", "CREATE TABLE things (id int);\n", "DROP TABLE things;\n")])
        self.assert_update(out, "0002-%s_things_name" % V2, V2 + "_things_name", 2,
                           "%s_things_name.postgres.up.sql (down: %s_things_name.postgres.down.sql)" % (V2, V2),
                           [("001_things_name", "ALTER TABLE things ADD COLUMN name text;\n",
                             "ALTER TABLE things DROP COLUMN name; -- pg\n")])
        self.assert_update(out, "0003-%s_things_idx" % V3, V3 + "_things_idx", 3,
                           "%s_things_idx.postgres.autocommit.up.sql (down: %s_things_idx.postgres.autocommit.down.sql)"
                           % (V3, V3),
                           [("001_things_idx", "CREATE INDEX CONCURRENTLY things_name_idx ON things (name);\n",
                             "DROP INDEX CONCURRENTLY things_name_idx;\n")],
                           no_tx=["001_things_idx"])
        self.assert_update(out, "0004-%s_flags" % V5, V5 + "_flags", 4, V5 + "_flags.up.sql",
                           [("001_flags", "ALTER TABLE things ADD COLUMN flags int;\n", "")])
        self.assertEqual((s["updates"], s["no_transaction"], s["down_missing"]), (4, 1, 1))
        notes = "\n".join(s["notes"])
        self.assertIn("1 versions have files only for other dialects (not postgres", notes)
        self.assertIn("ignored version %s: fizz migrations are not SQL" % V6, notes)

    def test_mariadb_prefers_mysql_files(self):
        out, s, _ = self.convert(engine="mariadb")
        self.assertEqual(s["layout"], "pop")
        self.assertEqual(s["engine"], "mariadb")
        self.assertEqual(len(self.update_dirs(out)), 4)
        self.assert_update(out, "0001-%s_create_things" % V1, V1 + "_create_things", 1,
                           "%s_create_things.up.sql (down: %s_create_things.down.sql)" % (V1, V1),
                           [("001_create_things", "CREATE TABLE things (id int);\n", "DROP TABLE things;\n")])
        self.assert_update(out, "0002-%s_things_name" % V2, V2 + "_things_name", 2,
                           "%s_things_name.mysql.up.sql (down: %s_things_name.mysql.down.sql)" % (V2, V2),
                           [("001_things_name", "ALTER TABLE things ADD COLUMN name VARCHAR(64);\n",
                             "ALTER TABLE things DROP COLUMN name; -- my\n")])
        self.assert_update(out, "0003-%s_things_idx" % V3, V3 + "_things_idx", 3,
                           "%s_things_idx.mysql.up.sql (down: %s_things_idx.mysql.down.sql)" % (V3, V3),
                           [("001_things_idx", "CREATE INDEX things_name_idx ON things (name);\n",
                             "DROP INDEX things_name_idx ON things;\n")])
        self.assert_update(out, "0004-%s_flags" % V5, V5 + "_flags", 4, V5 + "_flags.mariadb.up.sql",
                           [("001_flags", "ALTER TABLE things ADD COLUMN flags INT UNSIGNED;\n", "")])
        self.assertEqual(s["no_transaction"], 0)
        self.assertIn("not mysql", "\n".join(s["notes"]))

    def test_generic_autocommit_file(self):
        for f in os.listdir(self.src):
            os.remove(os.path.join(self.src, f))
        self.write_all({
            "1_idx.autocommit.up.sql": "CREATE INDEX CONCURRENTLY t_idx ON t (a);\n",
            "1_idx.down.sql": "DROP INDEX t_idx;\n",
        })
        out, s, _ = self.convert(engine="postgres")
        self.assertEqual(s["layout"], "pop")
        self.assert_update(out, "0001-1_idx", "1_idx", 1, "1_idx.autocommit.up.sql (down: 1_idx.down.sql)",
                           [("001_idx", "CREATE INDEX CONCURRENTLY t_idx ON t (a);\n", "DROP INDEX t_idx;\n")],
                           no_tx=["001_idx"])


# ============================================================================ goose

GOOSE_ACCOUNTS = """-- accounts hold the balance
-- +goose Up
CREATE TABLE accounts (id bigint PRIMARY KEY, balance numeric NOT NULL DEFAULT 0);

-- +goose Down
DROP TABLE accounts;
"""

GOOSE_FUNCTION_BODY = """CREATE FUNCTION touch() RETURNS trigger AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

GOOSE_FUNCTION = ("-- +goose Up\n-- +goose StatementBegin\n" + GOOSE_FUNCTION_BODY +
                  "-- +goose StatementEnd\n\n-- +goose Down\n-- +goose StatementBegin\n"
                  "DROP FUNCTION touch();\n-- +goose StatementEnd\n")

GOOSE_NO_TX = """-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY accounts_balance_idx ON accounts (balance);

-- +goose Down
DROP INDEX CONCURRENTLY accounts_balance_idx;
"""


class GooseTest(ConvertTestCase):
    def test_sections_no_transaction_up_only_and_order(self):
        self.write_all({
            "1_create_accounts.sql": GOOSE_ACCOUNTS,
            "2_touch_fn.sql": GOOSE_FUNCTION,
            "3_seed.sql": "-- +goose Up\nINSERT INTO accounts (id) VALUES (1);\n",
            "10_accounts_idx.sql": GOOSE_NO_TX,
            "4_helper.go": "package migrations\n",
            "5_not_goose.sql": "SELECT 1;\n",
        })
        out, s, _ = self.convert()
        self.assertEqual(s["layout"], "goose")
        self.assertEqual(self.update_dirs(out), ["0001-1_create_accounts", "0002-2_touch_fn", "0003-3_seed",
                                                 "0004-10_accounts_idx"])
        # comments before "-- +goose Up" stay with the up script; the markers go
        self.assert_update(out, "0001-1_create_accounts", "1_create_accounts", 1, "1_create_accounts.sql",
                           [("001_create_accounts",
                             "-- accounts hold the balance\n"
                             "CREATE TABLE accounts (id bigint PRIMARY KEY, balance numeric NOT NULL DEFAULT 0);\n\n",
                             "DROP TABLE accounts;\n")])
        self.assert_update(out, "0002-2_touch_fn", "2_touch_fn", 2, "2_touch_fn.sql",
                           [("001_touch_fn", GOOSE_FUNCTION_BODY + "\n", "DROP FUNCTION touch();\n")])
        self.assert_update(out, "0003-3_seed", "3_seed", 3, "3_seed.sql",
                           [("001_seed", "INSERT INTO accounts (id) VALUES (1);\n", "")])
        self.assert_update(out, "0004-10_accounts_idx", "10_accounts_idx", 4, "10_accounts_idx.sql",
                           [("001_accounts_idx",
                             "CREATE INDEX CONCURRENTLY accounts_balance_idx ON accounts (balance);\n\n",
                             "DROP INDEX CONCURRENTLY accounts_balance_idx;\n")],
                           no_tx=["001_accounts_idx"])
        self.assertNotIn("+goose", self.all_output_text(out))
        self.assertEqual((s["no_transaction"], s["down_missing"]), (1, 1))
        notes = "\n".join(s["notes"])
        self.assertIn("ignored 4_helper.go: a Go migration", notes)
        self.assertIn("ignored 5_not_goose.sql: no -- +goose Up", notes)

    def test_statement_blocks_kept_verbatim_without_delimiter_mariadb(self):
        body = ("CREATE TRIGGER accounts_clamp BEFORE UPDATE ON accounts FOR EACH ROW\n"
                "BEGIN\n"
                "  IF NEW.balance < 0 THEN\n"
                "    SET NEW.balance = 0;\n"
                "  END IF;\n"
                "END;\n")
        self.write("1_clamp.sql", "-- +goose Up\n-- +goose StatementBegin\n" + body +
                   "-- +goose StatementEnd\n-- +goose Down\nDROP TRIGGER accounts_clamp;\n")
        out, s, _ = self.convert(engine="mariadb")
        self.assertEqual(s["layout"], "goose")
        self.assert_update(out, "0001-1_clamp", "1_clamp", 1, "1_clamp.sql",
                           [("001_clamp", body, "DROP TRIGGER accounts_clamp;\n")])
        self.assertNotIn("delimiter", self.all_output_text(out).lower())
        # the harness's counter sees the compound trigger as one statement
        self.assertEqual(s["list"][0]["steps"][0]["up_statements"], 1)

    def test_crlf_kept(self):
        self.write("1_crlf.sql", "-- +goose Up\r\nCREATE TABLE c (id int);\r\n-- +goose Down\r\nDROP TABLE c;\r\n")
        out, s, _ = self.convert()
        self.assert_update(out, "0001-1_crlf", "1_crlf", 1, "1_crlf.sql",
                           [("001_crlf", "CREATE TABLE c (id int);\r\n", "DROP TABLE c;\r\n")])

    def test_forced_sql_files_layout_copies_the_markers(self):
        self.write("1_create_accounts.sql", GOOSE_ACCOUNTS)
        out, s, _ = self.convert(layout="sql-files")
        self.assertEqual(s["layout"], "sql-files")
        self.assert_update(out, "0001-1_create_accounts", "1_create_accounts", 1, "1_create_accounts.sql",
                           [("001_1_create_accounts", GOOSE_ACCOUNTS, "")])


# ============================================================================ dbmate

class DbmateTest(ConvertTestCase):
    def test_sections_transaction_false_and_up_only(self):
        self.write_all({
            "20200101000000_create_notes.sql":
                "-- migrate:up\nCREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL);\n\n"
                "-- migrate:down\nDROP TABLE notes;\n",
            "20200102000000_notes_body_idx.sql":
                "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY notes_body_idx ON notes (body);\n\n"
                "-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY notes_body_idx;\n",
            "20200103000000_seed.sql": "-- migrate:up\nINSERT INTO notes (body) VALUES ('hello; world');\n",
            "20200104000000_no_marker.sql": "-- nothing here\n",
            "README.md": "dbmate folder\n",
        })
        out, s, _ = self.convert()
        self.assertEqual(s["layout"], "dbmate")
        self.assertEqual(self.update_dirs(out), ["0001-20200101000000_create_notes",
                                                 "0002-20200102000000_notes_body_idx", "0003-20200103000000_seed"])
        self.assert_update(out, "0001-20200101000000_create_notes", "20200101000000_create_notes", 1,
                           "20200101000000_create_notes.sql",
                           [("001_create_notes",
                             "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL);\n\n",
                             "DROP TABLE notes;\n")])
        self.assert_update(out, "0002-20200102000000_notes_body_idx", "20200102000000_notes_body_idx", 2,
                           "20200102000000_notes_body_idx.sql",
                           [("001_notes_body_idx", "CREATE INDEX CONCURRENTLY notes_body_idx ON notes (body);\n\n",
                             "DROP INDEX CONCURRENTLY notes_body_idx;\n")],
                           no_tx=["001_notes_body_idx"])
        self.assert_update(out, "0003-20200103000000_seed", "20200103000000_seed", 3, "20200103000000_seed.sql",
                           [("001_seed", "INSERT INTO notes (body) VALUES ('hello; world');\n", "")])
        self.assertNotIn("migrate:", self.all_output_text(out))
        self.assertEqual((s["no_transaction"], s["down_missing"]), (1, 1))
        self.assertIn("ignored 20200104000000_no_marker.sql: no -- migrate:up", "\n".join(s["notes"]))

    def test_transaction_false_on_down_only(self):
        self.write("1_x.sql", "-- migrate:up\nCREATE TABLE x (id int);\n-- migrate:down transaction:false\n"
                              "DROP TABLE x;\n")
        out, s, _ = self.convert()
        self.assertEqual(s["layout"], "dbmate")
        self.assert_update(out, "0001-1_x", "1_x", 1, "1_x.sql",
                           [("001_x", "CREATE TABLE x (id int);\n", "DROP TABLE x;\n")], no_tx=["001_x"])


# ============================================================================ flyway

class FlywayTest(ConvertTestCase):
    def test_versions_undo_conf_and_order(self):
        self.write_all({
            "V1__create_items.sql": "CREATE TABLE items (id int PRIMARY KEY);\n",
            "U1__create_items.sql": "DROP TABLE items;\n",
            "V1.1__seed_items.sql": "INSERT INTO items VALUES (1);\n",
            "V2__add_price.sql": "ALTER TABLE items ADD COLUMN price numeric;\n",
            "V10__items_price_idx.sql": "CREATE INDEX CONCURRENTLY items_price_idx ON items (price);\n",
            "V10__items_price_idx.sql.conf": "# per-script settings\nexecuteInTransaction=false\n",
            "U10__items_price_idx.sql": "DROP INDEX CONCURRENTLY items_price_idx;\n",
            "V2__add_price.sql.conf": "executeInTransaction=true\n",
            "R__items_view.sql": "CREATE OR REPLACE VIEW items_view AS SELECT id FROM items;\n",
            "U3__orphan.sql": "DROP TABLE orphan;\n",
        })
        out, s, _ = self.convert()
        self.assertEqual(s["layout"], "flyway")
        self.assertEqual(self.update_dirs(out), ["0001-V1__create_items", "0002-V1.1__seed_items",
                                                 "0003-V2__add_price", "0004-V10__items_price_idx"])
        self.assert_update(out, "0001-V1__create_items", "V1__create_items", 1,
                           "V1__create_items.sql (undo: U1__create_items.sql)",
                           [("001_create_items", "CREATE TABLE items (id int PRIMARY KEY);\n", "DROP TABLE items;\n")])
        self.assert_update(out, "0002-V1.1__seed_items", "V1.1__seed_items", 2, "V1.1__seed_items.sql",
                           [("001_seed_items", "INSERT INTO items VALUES (1);\n", "")])
        self.assert_update(out, "0003-V2__add_price", "V2__add_price", 3, "V2__add_price.sql",
                           [("001_add_price", "ALTER TABLE items ADD COLUMN price numeric;\n", "")])
        self.assert_update(out, "0004-V10__items_price_idx", "V10__items_price_idx", 4,
                           "V10__items_price_idx.sql (undo: U10__items_price_idx.sql)",
                           [("001_items_price_idx", "CREATE INDEX CONCURRENTLY items_price_idx ON items (price);\n",
                             "DROP INDEX CONCURRENTLY items_price_idx;\n")],
                           no_tx=["001_items_price_idx"])
        self.assertEqual((s["no_transaction"], s["down_missing"]), (1, 2))
        notes = "\n".join(s["notes"])
        self.assertIn("ignored R__items_view.sql", notes)
        self.assertIn("ignored U3__orphan.sql: an undo without a V file", notes)


# ============================================================================ diesel

class DieselTest(ConvertTestCase):
    def test_folders_metadata_and_missing_down(self):
        self.write_all({
            "00000000000000_diesel_initial_setup/up.sql": "CREATE TABLE setup_marker (id int);\n",
            "00000000000000_diesel_initial_setup/down.sql": "DROP TABLE setup_marker;\n",
            "2020-01-01-000000_create_posts/up.sql": "CREATE TABLE posts (id serial PRIMARY KEY, title text);\n",
            "2020-01-01-000000_create_posts/down.sql": "DROP TABLE posts;\n",
            "2020-01-02-000000_posts_title_idx/up.sql":
                "CREATE INDEX CONCURRENTLY posts_title_idx ON posts (title);\n",
            "2020-01-02-000000_posts_title_idx/down.sql": "DROP INDEX CONCURRENTLY posts_title_idx;\n",
            "2020-01-02-000000_posts_title_idx/metadata.toml": "run_in_transaction = false\n",
            "2020-01-03-000000_seed_posts/up.sql": "INSERT INTO posts (title) VALUES ('first');\n",
            "2020-01-03-000000_seed_posts/metadata.toml": "run_in_transaction = true\n",
            "not_a_migration/README.md": "nothing\n",
            ".hidden/up.sql": "SELECT 1;\n",
        })
        out, s, _ = self.convert()
        self.assertEqual(s["layout"], "diesel")
        self.assertEqual(self.update_dirs(out), ["0001-00000000000000_diesel_initial_setup",
                                                 "0002-2020-01-01-000000_create_posts",
                                                 "0003-2020-01-02-000000_posts_title_idx",
                                                 "0004-2020-01-03-000000_seed_posts"])
        self.assert_update(out, "0001-00000000000000_diesel_initial_setup", "00000000000000_diesel_initial_setup", 1,
                           "00000000000000_diesel_initial_setup/up.sql",
                           [("001_diesel_initial_setup", "CREATE TABLE setup_marker (id int);\n",
                             "DROP TABLE setup_marker;\n")])
        self.assert_update(out, "0002-2020-01-01-000000_create_posts", "2020-01-01-000000_create_posts", 2,
                           "2020-01-01-000000_create_posts/up.sql",
                           [("001_create_posts", "CREATE TABLE posts (id serial PRIMARY KEY, title text);\n",
                             "DROP TABLE posts;\n")])
        self.assert_update(out, "0003-2020-01-02-000000_posts_title_idx", "2020-01-02-000000_posts_title_idx", 3,
                           "2020-01-02-000000_posts_title_idx/up.sql",
                           [("001_posts_title_idx", "CREATE INDEX CONCURRENTLY posts_title_idx ON posts (title);\n",
                             "DROP INDEX CONCURRENTLY posts_title_idx;\n")],
                           no_tx=["001_posts_title_idx"])
        self.assert_update(out, "0004-2020-01-03-000000_seed_posts", "2020-01-03-000000_seed_posts", 4,
                           "2020-01-03-000000_seed_posts/up.sql",
                           [("001_seed_posts", "INSERT INTO posts (title) VALUES ('first');\n", "")])
        self.assertEqual((s["no_transaction"], s["down_missing"]), (1, 1))
        self.assertIn("ignored folder not_a_migration: no up.sql", "\n".join(s["notes"]))
        steps = s["list"][2]["steps"][0]
        self.assertEqual((steps["up_source"], steps["down_source"]),
                         ("2020-01-02-000000_posts_title_idx/up.sql", "2020-01-02-000000_posts_title_idx/down.sql"))


# ============================================================================ authelia

class AutheliaTest(ConvertTestCase):
    def test_versions_and_natural_order(self):
        self.write_all({
            "V0001.Initial_Schema.up.sql": "CREATE TABLE sessions (id int PRIMARY KEY);\n",
            "V0001.Initial_Schema.down.sql": "DROP TABLE sessions;\n",
            "V2.AddTotp.up.sql": "CREATE TABLE totp (id int PRIMARY KEY);\n",
            "V2.AddTotp.down.sql": "DROP TABLE totp;\n",
            "V10.Seed.up.sql": "INSERT INTO sessions VALUES (1);\n",
            "V11.Orphan.down.sql": "DROP TABLE orphan;\n",
        })
        out, s, _ = self.convert(engine="mariadb")
        self.assertEqual(s["layout"], "authelia")
        self.assertEqual(self.update_dirs(out), ["0001-V0001.Initial_Schema", "0002-V2.AddTotp", "0003-V10.Seed"])
        self.assert_update(out, "0001-V0001.Initial_Schema", "V0001.Initial_Schema", 1, "V0001.Initial_Schema.up.sql",
                           [("001_Initial_Schema", "CREATE TABLE sessions (id int PRIMARY KEY);\n",
                             "DROP TABLE sessions;\n")])
        self.assert_update(out, "0002-V2.AddTotp", "V2.AddTotp", 2, "V2.AddTotp.up.sql",
                           [("001_AddTotp", "CREATE TABLE totp (id int PRIMARY KEY);\n", "DROP TABLE totp;\n")])
        self.assert_update(out, "0003-V10.Seed", "V10.Seed", 3, "V10.Seed.up.sql",
                           [("001_Seed", "INSERT INTO sessions VALUES (1);\n", "")])
        self.assertEqual(s["down_missing"], 1)
        self.assertIn("ignored V11.Orphan.down.sql: a down without an up", "\n".join(s["notes"]))


# ============================================================================ prisma

class PrismaTest(ConvertTestCase):
    def test_folders_up_only(self):
        self.write_all({
            "20210101000000_init/migration.sql": "CREATE TABLE member (id int PRIMARY KEY);\n",
            "20210102000000_add_name/migration.sql": "ALTER TABLE member ADD COLUMN name text;\n",
            "migration_lock.toml": 'provider = "postgresql"\n',
        })
        out, s, _ = self.convert()
        self.assertEqual(s["layout"], "prisma")
        self.assertEqual(self.update_dirs(out), ["0001-20210101000000_init", "0002-20210102000000_add_name"])
        self.assert_update(out, "0001-20210101000000_init", "20210101000000_init", 1,
                           "20210101000000_init/migration.sql",
                           [("001_init", "CREATE TABLE member (id int PRIMARY KEY);\n", "")])
        self.assert_update(out, "0002-20210102000000_add_name", "20210102000000_add_name", 2,
                           "20210102000000_add_name/migration.sql",
                           [("001_add_name", "ALTER TABLE member ADD COLUMN name text;\n", "")])
        self.assertEqual((s["down_missing"], s["empty_down"]), (2, 2))
        self.assertIn("up-only history: every down script was written as an empty file", s["notes"])


# ============================================================================ temporal

class TemporalTest(ConvertTestCase):
    def manifest(self, files, key="SchemaUpdateCqlFiles"):
        return json.dumps({"CurrVersion": "x", "MinCompatibleVersion": "x", "Description": "test", key: files})

    def test_versioned_manifests_one_step_per_file(self):
        self.write_all({
            "versioned/v1.0/manifest.json": self.manifest(["base.sql", "indexes.sql"]),
            "versioned/v1.0/base.sql": "CREATE TABLE tasks (id bigint PRIMARY KEY);\n",
            "versioned/v1.0/indexes.sql": "CREATE INDEX tasks_id_idx ON tasks (id);\n",
            "versioned/v1.2/manifest.json": self.manifest(["add_col.sql", "missing.sql"], "SchemaUpdateSqlFiles"),
            "versioned/v1.2/add_col.sql": "ALTER TABLE tasks ADD COLUMN state int;\n",
            "versioned/v1.10/manifest.json": self.manifest(["more.sql"]),
            "versioned/v1.10/more.sql": "ALTER TABLE tasks ADD COLUMN owner text;\n",
            "versioned/v1.3/manifest.json": "{ not json",
            "versioned/v1.4/manifest.json": self.manifest([]),
            "schema.sql": "CREATE TABLE tasks (id bigint PRIMARY KEY, state int, owner text);\n",
        })
        out, s, _ = self.convert()
        self.assertEqual(s["layout"], "temporal")
        self.assertEqual(self.update_dirs(out), ["0001-v1.0", "0002-v1.2", "0003-v1.10"])
        self.assert_update(out, "0001-v1.0", "v1.0", 1, "versioned/v1.0/manifest.json",
                           [("001_base", "CREATE TABLE tasks (id bigint PRIMARY KEY);\n", ""),
                            ("002_indexes", "CREATE INDEX tasks_id_idx ON tasks (id);\n", "")])
        self.assert_update(out, "0002-v1.2", "v1.2", 2, "versioned/v1.2/manifest.json",
                           [("001_add_col", "ALTER TABLE tasks ADD COLUMN state int;\n", "")])
        self.assert_update(out, "0003-v1.10", "v1.10", 3, "versioned/v1.10/manifest.json",
                           [("001_more", "ALTER TABLE tasks ADD COLUMN owner text;\n", "")])
        self.assertEqual((s["updates"], s["steps"], s["down_missing"]), (3, 4, 4))
        self.assertEqual([st["up_source"] for st in s["list"][0]["steps"]],
                         ["versioned/v1.0/base.sql", "versioned/v1.0/indexes.sql"])
        notes = "\n".join(s["notes"])
        self.assertIn("v1.2: manifest names missing file missing.sql", notes)
        self.assertIn("ignored v1.3: bad manifest.json", notes)
        self.assertIn("ignored v1.4: its manifest lists no files", notes)

    def test_version_folders_directly_in_source(self):
        self.write_all({
            "v0.1/manifest.json": self.manifest(["a.sql"]),
            "v0.1/a.sql": "CREATE TABLE a (id int);\n",
        })
        out, s, _ = self.convert()
        self.assertEqual(s["layout"], "temporal")
        self.assertEqual(self.update_dirs(out), ["0001-v0.1"])
        doc = parse_toml(self.read_bytes(os.path.join(out, "0001-v0.1", "update.toml")).decode())
        self.assertEqual(os.path.normpath(doc["description"]), os.path.join("v0.1", "manifest.json"))
        self.assertEqual(s["list"][0]["steps"][0]["up_source"], os.path.join("v0.1", "a.sql"))


# ============================================================================ sql-files

class SqlFilesTest(ConvertTestCase):
    def test_plain_files_natural_order_and_unique_ids(self):
        self.write_all({
            "10.sql": "ALTER TABLE t ADD COLUMN c int;\n",
            "2.sql": "ALTER TABLE t ADD COLUMN b int;\n",
            "1.sql": "CREATE TABLE t (a int);\n",
            "a b.sql": "CREATE TABLE ab1 (id int);\n",
            "a_b.sql": "CREATE TABLE ab2 (id int);\n",
            "README.txt": "not sql\n",
        })
        out, s, _ = self.convert()
        self.assertEqual(s["layout"], "sql-files")
        self.assertEqual(self.update_dirs(out), ["0001-1", "0002-2", "0003-10", "0004-a_b", "0005-a_b-2"])
        self.assert_update(out, "0001-1", "1", 1, "1.sql", [("001_1", "CREATE TABLE t (a int);\n", "")])
        self.assert_update(out, "0002-2", "2", 2, "2.sql", [("001_2", "ALTER TABLE t ADD COLUMN b int;\n", "")])
        self.assert_update(out, "0003-10", "10", 3, "10.sql", [("001_10", "ALTER TABLE t ADD COLUMN c int;\n", "")])
        self.assert_update(out, "0004-a_b", "a_b", 4, "a b.sql", [("001_a_b", "CREATE TABLE ab1 (id int);\n", "")])
        self.assert_update(out, "0005-a_b-2", "a_b-2", 5, "a_b.sql", [("001_a_b", "CREATE TABLE ab2 (id int);\n", "")])
        self.assertEqual(s["down_missing"], 5)

    def test_update_dirs_numbered_with_four_digits_versions_in_order(self):
        for i in range(1, 13):
            self.write("%d.sql" % i, "SELECT %d;\n" % i)
        out, s, _ = self.convert()
        dirs = self.update_dirs(out)
        self.assertEqual(dirs[0], "0001-1")
        self.assertEqual(dirs[-1], "0012-12")
        versions = [parse_toml(self.read_bytes(os.path.join(out, d, "update.toml")).decode())["version"]
                    for d in dirs]
        self.assertEqual(versions, [str(i) for i in range(1, 13)])


# ============================================================================ detection

class DetectionTest(ConvertTestCase):
    """Auto-detection on minimal folders; --layout forces one."""

    CASES = {
        "golang-migrate": {"1_a.up.sql": "SELECT 1;\n", "1_a.down.sql": "SELECT 2;\n"},
        "pop": {"1_a.postgres.up.sql": "SELECT 1;\n", "1_a.up.sql": "SELECT 1;\n"},
        "goose": {"1_a.sql": "-- +goose Up\nSELECT 1;\n"},
        "dbmate": {"1_a.sql": "-- migrate:up\nSELECT 1;\n"},
        "flyway": {"V1__a.sql": "SELECT 1;\n"},
        "diesel": {"2020-01-01-000000_a/up.sql": "SELECT 1;\n", "2020-01-01-000000_a/down.sql": "SELECT 2;\n"},
        "authelia": {"V1.A.up.sql": "SELECT 1;\n"},
        "prisma": {"1_a/migration.sql": "SELECT 1;\n"},
        "temporal": {"versioned/v1.0/manifest.json": '{"SchemaUpdateCqlFiles": ["a.sql"]}',
                     "versioned/v1.0/a.sql": "SELECT 1;\n"},
        "sql-files": {"1_a.sql": "SELECT 1;\n"},
    }

    def test_each_layout_is_detected(self):
        for layout, files in self.CASES.items():
            with self.subTest(layout=layout):
                src = os.path.join(self.tmp, "src-" + layout)
                os.makedirs(src)
                self.write_all(files, base=src)
                out, s, _ = self.convert(src=src, out=os.path.join(self.tmp, "out-" + layout))
                self.assertEqual(s["layout"], layout)
                self.assertEqual(s["updates"], 1)
                self.assertEqual(s["source"], os.path.abspath(src))

    def test_layout_flag_overrides_detection(self):
        self.write_all({"1_a.up.sql": "SELECT 1;\n", "1_a.down.sql": "SELECT 2;\n"})
        out, s, _ = self.convert(layout="sql-files")
        self.assertEqual(s["layout"], "sql-files")
        self.assertEqual(self.update_dirs(out), ["0001-1_a.down", "0002-1_a.up"])


# ============================================================================ summary

class SummaryTest(ConvertTestCase):
    def test_fields_the_harness_reads(self):
        self.write_all({
            "1_placeholder.sql": "-- +goose Up\n-- nothing to do here\n-- +goose Down\n-- nor here\n",
            "2_tables.sql": "-- +goose Up\nCREATE TABLE t1 (id int);\nCREATE TABLE t2 (id int);\n"
                            "INSERT INTO t1 VALUES (1);\n-- +goose Down\nDROP TABLE t2;\nDROP TABLE t1;\n",
            "3_idx.sql": GOOSE_NO_TX,
            "4_up_only.sql": "-- +goose Up\nUPDATE t1 SET id = 2;\n",
        })
        out, s, stdout = self.convert()
        self.assertEqual(s["layout"], "goose")
        self.assertEqual(s["engine"], "postgres")
        self.assertEqual(s["source"], os.path.abspath(self.src))
        self.assertEqual(s["updates"], 4)
        self.assertEqual(s["steps"], 4)
        self.assertEqual(s["empty_up"], 1)
        self.assertEqual(s["empty_down"], 2)  # the placeholder's comment-only down and the missing one
        self.assertEqual(s["down_missing"], 1)
        self.assertEqual(s["no_transaction"], 1)
        self.assertEqual([u["seq"] for u in s["list"]], [1, 2, 3, 4])
        self.assertEqual([u["id"] for u in s["list"]], ["1_placeholder", "2_tables", "3_idx", "4_up_only"])
        for u in s["list"]:
            self.assertEqual(set(u), {"seq", "id", "dir", "description", "steps"})
            self.assertTrue(os.path.isabs(u["dir"]) and os.path.isdir(u["dir"]), u["dir"])
            self.assertEqual(os.path.dirname(u["dir"]), os.path.abspath(out))
            for st in u["steps"]:
                self.assertEqual(set(st), {"name", "up", "down", "up_source", "down_source", "transaction",
                                           "up_statements", "up_ddl", "down_statements", "down_missing"})
                self.assertEqual(st["up"], os.path.join(u["dir"], st["name"] + ".up.sql"))
                self.assertEqual(st["down"], os.path.join(u["dir"], st["name"] + ".down.sql"))
                self.assertTrue(os.path.isfile(st["up"]) and os.path.isfile(st["down"]))
        steps = [u["steps"][0] for u in s["list"]]
        self.assertEqual([(st["up_statements"], st["up_ddl"], st["down_statements"]) for st in steps],
                         [(0, 0, 0), (3, 2, 2), (1, 1, 1), (1, 0, 0)])
        self.assertEqual([st["transaction"] for st in steps], [True, True, False, True])
        self.assertEqual([st["down_missing"] for st in steps], [False, False, False, True])
        self.assertEqual([(st["up_source"], st["down_source"]) for st in steps],
                         [("1_placeholder.sql", "1_placeholder.sql"), ("2_tables.sql", "2_tables.sql"),
                          ("3_idx.sql", "3_idx.sql"), ("4_up_only.sql", None)])
        self.assertIn("1 migrations have no down script in the source: written as empty files (4_up_only.sql)",
                      s["notes"])
        self.assertIn("4 updates, 4 steps, 1 empty up scripts, 2 empty down scripts (1 missing in the source, "
                      "written empty), 1 steps outside a transaction", stdout)
        self.assertIn("  note: 1 migrations have no down script", stdout)

    def test_quiet_prints_nothing(self):
        self.write("1.sql", "SELECT 1;\n")
        p, out, _ = self.run_convert("--quiet")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "")


# ============================================================================ errors

class ErrorTest(ConvertTestCase):
    def test_missing_source(self):
        missing = os.path.join(self.tmp, "no-such-folder")
        p, out = self.convert_fails("is not a directory", src=missing)
        self.assertFalse(os.path.exists(out), "nothing is created for a missing source")

    def test_source_is_a_file(self):
        f = self.write("1.sql", "SELECT 1;\n")
        self.convert_fails("is not a directory", src=f)

    def test_output_not_empty(self):
        self.write("1.sql", "SELECT 1;\n")
        out = os.path.join(self.tmp, "out")
        os.makedirs(out)
        with open(os.path.join(out, "keep.txt"), "w") as f:
            f.write("mine\n")
        self.convert_fails("exists and is not empty", out=out)
        self.assertEqual(os.listdir(out), ["keep.txt"])

    def test_output_is_a_file(self):
        self.write("1.sql", "SELECT 1;\n")
        out = os.path.join(self.tmp, "out")
        with open(out, "w") as f:
            f.write("mine\n")
        self.convert_fails("exists and is not a directory", out=out)

    def test_empty_output_dir_is_accepted(self):
        self.write("1.sql", "SELECT 1;\n")
        out = os.path.join(self.tmp, "out")
        os.makedirs(out)
        self.convert(out=out)
        self.assertEqual(self.update_dirs(out), ["0001-1"])

    def test_unrecognisable_layout(self):
        self.write("README.md", "no migrations here\n")
        self.write("docs/notes.txt", "nor here\n")
        self.convert_fails("no .sql files or migration folders")

    def test_empty_source(self):
        self.convert_fails("no .sql files or migration folders")

    def test_forced_layout_finds_nothing(self):
        self.write("1.sql", "SELECT 1;\n")
        self.convert_fails("no migrations found", layout="golang-migrate")

    def test_bad_engine_and_layout_arguments(self):
        self.write("1.sql", "SELECT 1;\n")
        p, _, _ = self.run_convert(engine="oracle")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--engine", p.stderr)
        p, _, _ = self.run_convert(layout="liquibase")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--layout", p.stderr)
        p, _, _ = self.run_convert(engine=None)
        self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    unittest.main()
