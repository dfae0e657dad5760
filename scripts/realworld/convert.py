#!/usr/bin/env python3
"""Convert a local copy of a project's migration folder into installer updates.

    convert.py SOURCE OUTDIR --engine postgres|mariadb [--layout LAYOUT] [--summary FILE] [--quiet]

SOURCE is the folder that holds the migrations for the engine in question (the caller picks
per-engine folders such as migrations/postgres or migrations/mysql); --engine picks among
per-dialect files inside one folder (pop/fizz). OUTDIR must not exist or be empty. Each source
migration becomes one update directory OUTDIR/NNNN-ID/ with

    update.toml              id = the migration's own name/version (sanitized),
                             version = its 1-based position in the history (exact order),
                             description = the original file name(s)
    001_NAME.up.sql          the statements exactly as the project wrote them, minus the
    001_NAME.down.sql        tool's own section markers (goose, dbmate); nothing is added

and, when the tool runs the migration outside a transaction, [steps.001_NAME] transaction = false.
A migration without a down script gets an EMPTY down file (and is counted and listed as such):
the installer requires a down for every up. Nothing is done to "help" the installer's splitter.

Layouts (auto-detected; --layout forces one):
  golang-migrate  N_name.up.sql / N_name.down.sql (up-only folders too: flipt)
  pop             ory's pop/popx: N_name[.DIALECT][.autocommit].(up|down).sql, DIALECT one of
                  postgres, mysql, cockroach, sqlite3 (aliases accepted); for postgres the
                  .postgres. file wins over the generic one, for mariadb the .mysql. file;
                  .autocommit. means popx runs the file outside a transaction
  goose           N_name.sql with -- +goose Up / Down, StatementBegin/End, NO TRANSACTION
  dbmate          N_name.sql with -- migrate:up / -- migrate:down [transaction:false]
  flyway          V<ver>__desc.sql with optional U<ver>__desc.sql undo and V...sql.conf
                  (executeInTransaction=false)
  diesel          folders holding up.sql / down.sql (metadata.toml run_in_transaction = false)
  authelia        V<ver>.<Name>.up.sql / V<ver>.<Name>.down.sql
  prisma          folders holding migration.sql (up-only)
  temporal        v<x.y>/manifest.json listing the version's files (up-only; one step per file)
  sql-files       plain *.sql files in name order (up-only)

The summary (--summary FILE, JSON) lists every update with its steps, statement counts (our own
rough splitter, sqlsplit.py), empty scripts and the notes of the conversion.
"""

import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sqlsplit  # noqa: E402

LAYOUTS = ["golang-migrate", "pop", "goose", "dbmate", "flyway", "diesel", "authelia", "prisma",
           "temporal", "sql-files"]

POP_DIALECTS = {
    "postgres": "postgres", "postgresql": "postgres", "pg": "postgres",
    "mysql": "mysql", "mariadb": "mysql",
    "cockroach": "cockroach", "cockroachdb": "cockroach", "crdb": "cockroach",
    "sqlite": "sqlite3", "sqlite3": "sqlite3",
}
ENGINE_POP_DIALECT = {"postgres": "postgres", "mariadb": "mysql"}

RE_POP = re.compile(r"^(\d+)_([^.]+)(?:\.(?!autocommit\.)([a-z0-9]+))?(\.autocommit)?\.(up|down)\.(sql|fizz)$")
RE_GOLANG = re.compile(r"^(\d+)_(.*)\.(up|down)\.sql$")
RE_GOOSE_FILE = re.compile(r"^(\d+)_(.*)\.(sql|go)$")
RE_DBMATE_FILE = re.compile(r"^(\d+)(?:_(.*))?\.sql$")
RE_FLYWAY = re.compile(r"^([VUBR])(\d+(?:[._]\d+)*)?__(.+)\.sql$")
RE_AUTHELIA = re.compile(r"^V(\d+)\.([^.]+)\.(up|down)\.sql$")
RE_GOOSE_MARK = re.compile(r"^\s*--\s*\+goose\s+(.*?)\s*$", re.IGNORECASE)
RE_DBMATE_MARK = re.compile(r"^\s*--\s*migrate:(up|down)\b(.*?)\s*$")


class Script:
    def __init__(self, text, source, autocommit=False):
        self.text = text  # str (surrogateescape), exact content
        self.source = source  # relative path of the file it came from, or None (written empty)
        self.autocommit = autocommit


class Migration:
    def __init__(self, key, raw_id, name, up, down, description, transaction=True, extra_steps=None):
        self.key = key
        self.raw_id = raw_id
        self.name = name
        self.up = up
        self.down = down
        self.description = description
        self.transaction = transaction
        # temporal: more than one file per version; list of (name, up Script, down Script)
        self.extra_steps = extra_steps


def read(path):
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
        return f.read()


def write(path, text):
    with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="") as f:
        f.write(text)


def natural_key(s):
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", s) if p != ""]


def files_in(src):
    return sorted(e.name for e in os.scandir(src) if e.is_file())


def dirs_in(src):
    return sorted(e.name for e in os.scandir(src) if e.is_dir() and not e.name.startswith("."))


# ----------------------------------------------------------------------------- detection

def detect(src):
    dirs = dirs_in(src)
    if any(os.path.isfile(os.path.join(src, d, "up.sql")) for d in dirs):
        return "diesel"
    if any(os.path.isfile(os.path.join(src, d, "migration.sql")) for d in dirs):
        return "prisma"
    vdirs = [os.path.join(src, "versioned")] if os.path.isdir(os.path.join(src, "versioned")) else [src]
    for vd in vdirs:
        if any(os.path.isfile(os.path.join(vd, d, "manifest.json")) for d in dirs_in(vd)):
            return "temporal"
    files = [f for f in files_in(src) if f.endswith(".sql")]
    if not files:
        raise SystemExit("convert.py: no .sql files or migration folders in %s" % src)
    if any(RE_AUTHELIA.match(f) for f in files):
        return "authelia"
    if any(RE_FLYWAY.match(f) and f[0] in "VU" and "__" in f for f in files):
        return "flyway"
    pop_like = 0
    for f in files:
        m = RE_POP.match(f)
        if m and (m.group(4) or (m.group(3) and m.group(3) in POP_DIALECTS)):
            pop_like += 1
    if pop_like:
        return "pop"
    if any(RE_GOLANG.match(f) for f in files):
        return "golang-migrate"
    heads = {f: read(os.path.join(src, f)) for f in files}
    if any(re.search(r"^\s*--\s*\+goose\s+up\b", t, re.I | re.M) for t in heads.values()):
        return "goose"
    if any(re.search(r"^\s*--\s*migrate:up\b", t, re.M) for t in heads.values()):
        return "dbmate"
    return "sql-files"


# ----------------------------------------------------------------------------- layouts

def layout_golang_migrate(src, engine, notes):
    by_version = {}
    for f in files_in(src):
        m = RE_GOLANG.match(f)
        if not m:
            if f.endswith(".sql"):
                notes.append("ignored %s: not N_name.up.sql / N_name.down.sql" % f)
            continue
        v = int(m.group(1))
        by_version.setdefault(v, {})[m.group(3)] = (f, m.group(2))
    out = []
    for v in sorted(by_version):
        d = by_version[v]
        if "up" not in d:
            notes.append("ignored %s: a down without an up" % d["down"][0])
            continue
        upf, name = d["up"]
        up = Script(read(os.path.join(src, upf)), upf)
        if "down" in d:
            down = Script(read(os.path.join(src, d["down"][0])), d["down"][0])
        else:
            down = Script("", None)
        out.append(Migration(v, "%s_%s" % (upf.split("_", 1)[0], name), name, up, down, upf))
    return out


def layout_pop(src, engine, notes):
    want = ENGINE_POP_DIALECT[engine]
    by_version = {}
    for f in files_in(src):
        m = RE_POP.match(f)
        if not m:
            if f.endswith(".sql") or f.endswith(".fizz"):
                notes.append("ignored %s: does not match pop's file pattern" % f)
            continue
        version, name, dialect, autocommit, direction, kind = m.groups()
        if dialect is None:
            dialect = "all"
        elif dialect in POP_DIALECTS:
            dialect = POP_DIALECTS[dialect]
        else:
            continue  # popx ignores unsupported dialects too
        by_version.setdefault(version, []).append((f, name, dialect, bool(autocommit), direction, kind))
    out = []
    skipped_other = 0
    # popx sorts versions as strings
    for version in sorted(by_version):
        entries = by_version[version]

        def pick(direction):
            specific = [e for e in entries if e[4] == direction and e[2] == want]
            generic = [e for e in entries if e[4] == direction and e[2] == "all"]
            cands = specific or generic
            if len(cands) > 1:
                notes.append("version %s has %d %s files for %s; took %s" %
                             (version, len(cands), direction, want, cands[0][0]))
            return cands[0] if cands else None

        up = pick("up")
        down = pick("down")
        if up is None:
            if any(e[4] == "up" for e in entries):
                skipped_other += 1
            else:
                notes.append("ignored version %s: no up file" % version)
            continue
        if up[5] == "fizz" or (down and down[5] == "fizz"):
            notes.append("ignored version %s: fizz migrations are not SQL (%s)" % (version, up[0]))
            continue
        up_s = Script(read(os.path.join(src, up[0])), up[0], up[3])
        if down is not None:
            down_s = Script(read(os.path.join(src, down[0])), down[0], down[3])
        else:
            down_s = Script("", None)
        desc = up[0] if down is None else "%s (down: %s)" % (up[0], down[0])
        out.append(Migration(version, "%s_%s" % (version, up[1]), up[1], up_s, down_s, desc,
                             transaction=not (up[3] or (down is not None and down[3]))))
    if skipped_other:
        notes.append("%d versions have files only for other dialects (not %s, no generic file): "
                     "not updates here, as popx skips them" % (skipped_other, want))
    return out


def _split_sections(text, mark_re, kinds):
    """Split text into {kind: [lines]} at marker lines; returns (sections, markers, prelude)."""
    sections = {k: [] for k in kinds}
    markers = []
    prelude = []
    cur = None
    for line in text.splitlines(keepends=True):
        m = mark_re.match(line.rstrip("\r\n"))
        if m:
            markers.append(m)
            word = m.group(1).strip().lower()
            if word in kinds:
                cur = word
            continue
        if cur is None:
            prelude.append(line)
        else:
            sections[cur].append(line)
    return sections, markers, prelude


def layout_goose(src, engine, notes):
    out = []
    items = []
    for f in files_in(src):
        m = RE_GOOSE_FILE.match(f)
        if not m:
            if f.endswith(".sql"):
                notes.append("ignored %s: not N_name.sql" % f)
            continue
        if m.group(3) == "go":
            notes.append("ignored %s: a Go migration" % f)
            continue
        items.append((int(m.group(1)), f, m.group(2)))
    for v, f, name in sorted(items):
        text = read(os.path.join(src, f))
        secs, marks, prelude = _split_sections(text, RE_GOOSE_MARK, ("up", "down"))
        words = [m.group(1).strip().upper() for m in marks]
        if "UP" not in words:
            notes.append("ignored %s: no -- +goose Up" % f)
            continue
        no_tx = "NO TRANSACTION" in words
        # goose allows only comments before "-- +goose Up": keep them with the up script
        up = Script("".join(prelude + secs["up"]), f, no_tx)
        down = Script("".join(secs["down"]), f if "DOWN" in words else None, no_tx)
        out.append(Migration(v, os.path.splitext(f)[0], name, up, down, f, transaction=not no_tx))
    return out


def layout_dbmate(src, engine, notes):
    out = []
    for f in sorted(files_in(src)):
        m = RE_DBMATE_FILE.match(f)
        if not m:
            if f.endswith(".sql"):
                notes.append("ignored %s: not VERSION_name.sql" % f)
            continue
        text = read(os.path.join(src, f))
        secs, marks, prelude = _split_sections(text, RE_DBMATE_MARK, ("up", "down"))
        opts = {m.group(1): m.group(2) for m in marks}
        if "up" not in opts:
            notes.append("ignored %s: no -- migrate:up" % f)
            continue
        no_tx_up = "transaction:false" in opts.get("up", "").replace(" ", "")
        no_tx_down = "transaction:false" in opts.get("down", "").replace(" ", "")
        up = Script("".join(prelude + secs["up"]), f, no_tx_up)
        down = Script("".join(secs["down"]), f if "down" in opts else None, no_tx_down)
        out.append(Migration(f, os.path.splitext(f)[0], m.group(2) or m.group(1), up, down, f,
                             transaction=not (no_tx_up or no_tx_down)))
    return out


def _flyway_conf_no_tx(path):
    if not os.path.isfile(path):
        return False
    for line in read(path).splitlines():
        k, _, v = line.partition("=")
        if k.strip() == "executeInTransaction" and v.strip().lower() == "false":
            return True
    return False


def layout_flyway(src, engine, notes):
    ups, undos = {}, {}
    for f in files_in(src):
        m = RE_FLYWAY.match(f)
        if not m:
            if f.endswith(".sql"):
                notes.append("ignored %s: not a Flyway V/U file" % f)
            continue
        kind, ver, desc = m.groups()
        if kind in "BR" or ver is None:
            notes.append("ignored %s: Flyway %s migrations are not versioned ups" %
                         (f, "baseline" if kind == "B" else "repeatable"))
            continue
        key = tuple(int(p) for p in re.split(r"[._]", ver))
        (ups if kind == "V" else undos)[key] = (f, desc)
    out = []
    for key in sorted(ups):
        f, desc = ups[key]
        no_tx = _flyway_conf_no_tx(os.path.join(src, f + ".conf"))
        up = Script(read(os.path.join(src, f)), f, no_tx)
        if key in undos:
            uf = undos[key][0]
            down = Script(read(os.path.join(src, uf)), uf, _flyway_conf_no_tx(os.path.join(src, uf + ".conf")))
        else:
            down = Script("", None)
        out.append(Migration(key, os.path.splitext(f)[0], desc, up, down,
                             f if key not in undos else "%s (undo: %s)" % (f, undos[key][0]),
                             transaction=not (no_tx or down.autocommit)))
    for key in sorted(set(undos) - set(ups)):
        notes.append("ignored %s: an undo without a V file" % undos[key][0])
    return out


def layout_diesel(src, engine, notes):
    out = []
    for d in dirs_in(src):
        up_p = os.path.join(src, d, "up.sql")
        if not os.path.isfile(up_p):
            notes.append("ignored folder %s: no up.sql" % d)
            continue
        down_p = os.path.join(src, d, "down.sql")
        no_tx = False
        meta = os.path.join(src, d, "metadata.toml")
        if os.path.isfile(meta):
            no_tx = bool(re.search(r"^\s*run_in_transaction\s*=\s*false\b", read(meta), re.M))
        up = Script(read(up_p), d + "/up.sql", no_tx)
        down = Script(read(down_p), d + "/down.sql", no_tx) if os.path.isfile(down_p) else Script("", None)
        name = d.split("_", 1)[1] if "_" in d else d
        # diesel's version is the name up to its first '_' with the dashes taken out, ordered
        # as text; with the dashes kept the order is the same for names of one shape
        # (YYYY-MM-DD-HHMMSS, or the all-zero initial setup)
        out.append(Migration((d.split("_", 1)[0], d), d, name, up, down, d + "/up.sql", transaction=not no_tx))
    return out


def layout_authelia(src, engine, notes):
    by_version = {}
    for f in files_in(src):
        m = RE_AUTHELIA.match(f)
        if not m:
            if f.endswith(".sql"):
                notes.append("ignored %s: not V<ver>.<Name>.(up|down).sql" % f)
            continue
        by_version.setdefault(int(m.group(1)), {})[m.group(3)] = (f, m.group(2))
    out = []
    for v in sorted(by_version):
        d = by_version[v]
        if "up" not in d:
            notes.append("ignored %s: a down without an up" % d["down"][0])
            continue
        upf, name = d["up"]
        up = Script(read(os.path.join(src, upf)), upf)
        down = Script(read(os.path.join(src, d["down"][0])), d["down"][0]) if "down" in d else Script("", None)
        out.append(Migration(v, "V%s.%s" % (upf[1:].split(".", 1)[0], name), name, up, down, upf))
    return out


def layout_prisma(src, engine, notes):
    out = []
    for d in dirs_in(src):
        p = os.path.join(src, d, "migration.sql")
        if not os.path.isfile(p):
            continue
        name = d.split("_", 1)[1] if "_" in d else d
        out.append(Migration(d, d, name, Script(read(p), d + "/migration.sql"), Script("", None),
                             d + "/migration.sql"))
    return out


def layout_temporal(src, engine, notes):
    base = os.path.join(src, "versioned") if os.path.isdir(os.path.join(src, "versioned")) else src
    rel = os.path.relpath(base, src)
    out = []
    vers = []
    for d in dirs_in(base):
        mf = os.path.join(base, d, "manifest.json")
        if not os.path.isfile(mf):
            continue
        vers.append((natural_key(d.lstrip("v")), d, mf))
    for _, d, mf in sorted(vers):
        try:
            manifest = json.loads(read(mf))
        except ValueError as e:
            notes.append("ignored %s: bad manifest.json (%s)" % (d, e))
            continue
        files = manifest.get("SchemaUpdateCqlFiles") or manifest.get("SchemaUpdateSqlFiles") or []
        steps = []
        for fn in files:
            p = os.path.join(base, d, fn)
            relp = os.path.normpath(os.path.join(rel, d, fn))
            if not os.path.isfile(p):
                notes.append("%s: manifest names missing file %s" % (d, fn))
                continue
            steps.append((os.path.splitext(os.path.basename(fn))[0], Script(read(p), relp), Script("", None)))
        if not steps:
            notes.append("ignored %s: its manifest lists no files" % d)
            continue
        first = steps[0]
        out.append(Migration(d, d, first[0], first[1], first[2], os.path.join(rel, d, "manifest.json"),
                             extra_steps=steps[1:]))
    return out


def layout_sql_files(src, engine, notes):
    out = []
    for f in sorted((f for f in files_in(src) if f.endswith(".sql")), key=natural_key):
        stem = os.path.splitext(f)[0]
        out.append(Migration(f, stem, stem, Script(read(os.path.join(src, f)), f), Script("", None), f))
    return out


LAYOUT_FUNCS = {
    "golang-migrate": layout_golang_migrate, "pop": layout_pop, "goose": layout_goose,
    "dbmate": layout_dbmate, "flyway": layout_flyway, "diesel": layout_diesel,
    "authelia": layout_authelia, "prisma": layout_prisma, "temporal": layout_temporal,
    "sql-files": layout_sql_files,
}


# ----------------------------------------------------------------------------- output

def sanitize_id(raw):
    s = re.sub(r"[^A-Za-z0-9._-]", "_", raw).strip("._-") or "update"
    return s[:120]


def sanitize_step(raw):
    s = re.sub(r"[^A-Za-z0-9_-]", "_", raw).strip("_-") or "migration"
    return s[:80]


def toml_str(s):
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\u%04x" % ord(ch))
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            out.append("?")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def script_info(text, dialect):
    sts = sqlsplit.split(text, dialect)
    return {"statements": len(sts), "ddl": sum(1 for s in sts if sqlsplit.is_ddl(s))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source")
    ap.add_argument("outdir")
    ap.add_argument("--engine", required=True, choices=["postgres", "mariadb"])
    ap.add_argument("--layout", default="auto", choices=["auto"] + LAYOUTS)
    ap.add_argument("--summary", help="write the JSON summary to this file")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()

    src = os.path.abspath(a.source)
    if not os.path.isdir(src):
        raise SystemExit("convert.py: %s is not a directory" % src)
    if os.path.exists(a.outdir) and not os.path.isdir(a.outdir):
        raise SystemExit("convert.py: %s exists and is not a directory" % a.outdir)
    if os.path.exists(a.outdir) and os.listdir(a.outdir):
        raise SystemExit("convert.py: %s exists and is not empty" % a.outdir)
    os.makedirs(a.outdir, exist_ok=True)
    layout = detect(src) if a.layout == "auto" else a.layout
    notes = []
    migrations = LAYOUT_FUNCS[layout](src, a.engine, notes)
    if not migrations:
        raise SystemExit("convert.py: no migrations found in %s (layout %s)" % (src, layout))

    width = max(4, len(str(len(migrations))))
    used_ids = set()
    updates = []
    for seq, mig in enumerate(migrations, 1):
        uid = sanitize_id(mig.raw_id)
        base, k = uid, 2
        while uid in used_ids:
            uid = "%s-%d" % (base, k)
            k += 1
        used_ids.add(uid)
        udir = os.path.join(a.outdir, "%0*d-%s" % (width, seq, uid))
        os.makedirs(udir)
        steps_src = [(mig.name, mig.up, mig.down)] + list(mig.extra_steps or [])
        steps = []
        no_tx = []
        for sn, (name, up, down) in enumerate(steps_src, 1):
            step = "%03d_%s" % (sn, sanitize_step(name))
            up_path = os.path.join(udir, step + ".up.sql")
            down_path = os.path.join(udir, step + ".down.sql")
            write(up_path, up.text)
            write(down_path, down.text)
            tx = mig.transaction and not up.autocommit and not down.autocommit
            if not tx:
                no_tx.append(step)
            ui, di = script_info(up.text, a.engine), script_info(down.text, a.engine)
            steps.append({
                "name": step, "up": os.path.abspath(up_path), "down": os.path.abspath(down_path),
                "up_source": up.source, "down_source": down.source, "transaction": tx,
                "up_statements": ui["statements"], "up_ddl": ui["ddl"],
                "down_statements": di["statements"], "down_missing": down.source is None,
            })
        lines = ["id = %s" % toml_str(uid), 'version = "%d"' % seq,
                 "description = %s" % toml_str(mig.description)]
        for step in no_tx:
            lines += ["", "[steps.%s]" % step, "transaction = false"]
        write(os.path.join(udir, "update.toml"), "\n".join(lines) + "\n")
        updates.append({"seq": seq, "id": uid, "dir": os.path.abspath(udir),
                        "description": mig.description, "steps": steps})

    all_steps = [s for u in updates for s in u["steps"]]
    missing = [s for s in all_steps if s["down_missing"]]
    summary = {
        "source": src, "engine": a.engine, "layout": layout, "updates": len(updates),
        "steps": len(all_steps),
        "empty_up": sum(1 for s in all_steps if s["up_statements"] == 0),
        "empty_down": sum(1 for s in all_steps if s["down_statements"] == 0),
        "down_missing": len(missing),
        "no_transaction": sum(1 for s in all_steps if not s["transaction"]),
        "notes": notes, "list": updates,
    }
    if missing and len(missing) == len(all_steps):
        notes.append("up-only history: every down script was written as an empty file")
    elif missing:
        notes.append("%d migrations have no down script in the source: written as empty files (%s%s)" %
                     (len(missing), ", ".join(s["up_source"] for s in missing[:5]),
                      ", ..." if len(missing) > 5 else ""))
    if a.summary:
        with open(a.summary, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=1)
    if not a.quiet:
        print("converted %s (%s, %s): %d updates, %d steps, %d empty up scripts, %d empty down "
              "scripts (%d missing in the source, written empty), %d steps outside a transaction"
              % (src, layout, a.engine, summary["updates"], summary["steps"], summary["empty_up"],
                 summary["empty_down"], summary["down_missing"], summary["no_transaction"]))
        for n in notes:
            print("  note: " + n)


if __name__ == "__main__":
    main()
