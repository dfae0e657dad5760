#!/usr/bin/env python3
"""Helpers of scripts/realworld.sh (python3 standard library only).

    harness.py plan SUMMARY                     TSV: seq id step up_path transaction(1|0) statements
    harness.py choose SUMMARY --engine E        shell assignments: the updates the failure checks use
    harness.py inject SUMMARY SRC DST --mode end|mid --engine E [--after K]
                                                copy the updates SRC to DST and inject the failing
                                                statement; prints what it did (one line)
    harness.py normalize --engine E --db NAME   dump on stdin -> normalised dump on stdout
    harness.py plan-compare SUMMARY PLAN.json   where installer plan's statement counts differ from ours
    harness.py first-error LOG                  the installer's first error message, on one line
    harness.py record --results FILE KEY=VALUE...   append one JSON line

The failure checks:
  end  the middle update (number N//2 + 1 of N) gets the failing statement appended to its
       last step's up script, on a line of its own;
  mid  among the updates of the earlier half of the history (the first ceil(N/2)), the step
       with the most statements (on MariaDB: the most DDL statements, then the most
       statements), at least 3, earliest on ties; if the earlier half has none, the whole
       history; the failing statement goes after its statement ceil(n/2), between statements,
       on a line of its own (statements counted by sqlsplit.py, our own rough splitter).

Normalisation of dumps (so that two dumps of the same schema compare equal):
  both      drop blank lines and comment lines ("-- ..."); inside every CREATE TABLE, strip
            the trailing commas of the body lines and sort the column lines (the installer
            deliberately ignores column order: PostgreSQL cannot re-add a column in its old
            place) and, separately, the key/constraint lines
  postgres  drop pg_dump's \\restrict / \\unrestrict lines (a random key per dump) and any line
            that names the installer's journal schema
  mariadb   remove AUTO_INCREMENT=N table options; replace the database's own name by `DB`
"""

import argparse
import json
import math
import os
import re
import shlex
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sqlsplit  # noqa: E402
from convert import read, write  # noqa: E402  (scripts keep the project's bytes as they are)

FAIL_STATEMENT = "SELECT * FROM realworld_injected_failure"


def load(summary):
    with open(summary, encoding="utf-8") as f:
        return json.load(f)


def cmd_plan(a):
    s = load(a.summary)
    for u in s["list"]:
        for st in u["steps"]:
            print("\t".join([str(u["seq"]), u["id"], st["name"], st["up"], "1" if st["transaction"] else "0",
                             str(st["up_statements"])]))


def choose(s, engine):
    ups = s["list"]
    n = len(ups)
    middle = ups[n // 2]
    pick = None

    def best(cands):
        b = None
        for u in cands:
            for st in u["steps"]:
                if st["up_statements"] < 3:
                    continue
                key = (st["up_ddl"], st["up_statements"]) if engine == "mariadb" else (st["up_statements"],)
                if b is None or key > b[0]:
                    b = (key, u, st)
        return b

    pick = best(ups[: math.ceil(n / 2)]) or best(ups)
    return middle, pick


def cmd_choose(a):
    s = load(a.summary)
    middle, pick = choose(s, a.engine)
    out = {
        "end_seq": middle["seq"], "end_id": middle["id"], "end_step": middle["steps"][-1]["name"],
    }
    if pick:
        _, u, st = pick
        k = math.ceil(st["up_statements"] / 2)
        out.update({"mid_seq": u["seq"], "mid_id": u["id"], "mid_step": st["name"],
                    "mid_n": st["up_statements"], "mid_after": k})
    else:
        out.update({"mid_seq": 0, "mid_id": "", "mid_step": "", "mid_n": 0, "mid_after": 0})
    for k, v in out.items():
        print("%s=%s" % (k, shlex.quote(str(v))))


def cmd_inject(a):
    s = load(a.summary)
    src = os.path.abspath(a.src)
    dst = os.path.abspath(a.dst)
    if os.path.exists(dst):
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    middle, pick = choose(s, a.engine)

    def target(u, st):
        rel = os.path.relpath(st["up"], src)
        return os.path.join(dst, rel), rel

    if a.mode == "end":
        st = middle["steps"][-1]
        path, rel = target(middle, st)
        text = read(path)
        sts = sqlsplit.split(text, a.engine)
        delim = sts[-1].delimiter if sts else ";"
        prefix = "" if text.endswith("\n") or text == "" else "\n"
        extra = ""
        if sts and not sts[-1].terminated:
            # the last statement has no terminator: close it, or ours would become part of it
            extra = delim + "\n"
        write(path, text + prefix + extra + FAIL_STATEMENT + delim + "\n")
        print("update %d/%d %s: appended the failing statement to %s (%d statements%s)" % (
            middle["seq"], s["updates"], middle["id"], rel, len(sts),
            "; its last statement had no terminator, so a terminator line was added first" if extra else ""))
        return
    if not pick:
        print("none")
        return
    _, u, st = pick
    path, rel = target(u, st)
    text = read(path)
    sts = sqlsplit.split(text, a.engine)
    k = a.after if a.after else math.ceil(len(sts) / 2)
    k = max(1, min(k, len(sts)))
    after = sts[k - 1]
    pos = after.term_end
    ins = "\n" + FAIL_STATEMENT + after.delimiter + "\n"
    write(path, text[:pos] + ins + text[pos:])
    line = text.count("\n", 0, pos) + 2
    print("update %d/%d %s: failing statement inserted in %s after statement %d of %d (line %d)" % (
        u["seq"], s["updates"], u["id"], rel, k, len(sts), line))


def cmd_plan_compare(a):
    """One line: where the installer's statement counts (installer plan --json) differ from
    ours. Ours come from a rough splitter, so a difference is a place to look, not a verdict."""
    s = load(a.summary)
    try:
        with open(a.plan, encoding="utf-8") as f:
            plan = json.load(f)
    except (OSError, ValueError) as e:
        print("installer plan --json gave no plan (%s)" % e.__class__.__name__)
        return
    theirs = {}
    for u in plan.get("pending", []):
        for st in u.get("steps", []):
            theirs[os.path.abspath(st.get("file", ""))] = st.get("statements")
    diffs = []
    for u in s["list"]:
        for st in u["steps"]:
            t = theirs.get(st["up"])
            if t is not None and t != st["up_statements"]:
                diffs.append((u["seq"], os.path.relpath(st["up"], os.path.dirname(os.path.dirname(st["up"]))),
                              st["up_statements"], t))
    if not theirs:
        print("installer plan --json listed no steps")
    elif not diffs:
        print("statement counts: the installer's plan and our splitter agree on all %d up scripts" % len(theirs))
    else:
        first = "; ".join("update %d %s: ours %d, installer %d" % d for d in diffs[:3])
        print("statement counts: the installer's plan differs from our splitter in %d of %d up scripts (%s%s)"
              % (len(diffs), len(theirs), first, "; ..." if len(diffs) > 3 else ""))


_PG_SKIP = re.compile(r"^(--|\\restrict|\\unrestrict)")


def normalize(text, engine, db):
    out = []
    lines = text.splitlines()
    if engine == "mariadb" and db:
        lines = [ln.replace("`%s`." % db, "`DB`.").replace("`%s`" % db, "`DB`") for ln in lines]
    i = 0
    n = len(lines)
    while i < n:
        ln = lines[i]
        i += 1
        if not ln.strip() or ln.startswith("--"):
            continue
        if engine == "postgres":
            if _PG_SKIP.match(ln) or re.search(r"\binstaller\.|SCHEMA installer\b", ln):
                continue
        else:
            ln = re.sub(r" AUTO_INCREMENT=\d+", "", ln)
        if re.match(r"^CREATE (UNLOGGED |TEMPORARY |GLOBAL TEMPORARY |LOCAL TEMPORARY )?TABLE .*\($", ln) or \
                re.match(r"^CREATE TABLE `[^`]*` \($", ln):
            out.append(ln)
            cols, keys = [], []
            while i < n and not re.match(r"^\)", lines[i]):
                body = lines[i].rstrip()
                i += 1
                if body.endswith(","):
                    body = body[:-1]
                if engine == "mariadb" and db:
                    pass
                stripped = body.lstrip()
                if re.match(r"(PRIMARY KEY|UNIQUE KEY|KEY|FULLTEXT|SPATIAL|CONSTRAINT|CHECK|INDEX|FOREIGN KEY|UNIQUE|EXCLUDE)\b",
                            stripped):
                    keys.append(body)
                else:
                    cols.append(body)
            out.extend(sorted(cols))
            out.extend(sorted(keys))
            if i < n:
                tail = lines[i]
                if engine == "mariadb":
                    tail = re.sub(r" AUTO_INCREMENT=\d+", "", tail)
                out.append(tail)
                i += 1
            continue
        out.append(ln)
    return "\n".join(out) + "\n"


def cmd_normalize(a):
    text = sys.stdin.buffer.read().decode("utf-8", errors="surrogateescape")
    sys.stdout.buffer.write(normalize(text, a.engine, a.db).encode("utf-8", errors="surrogateescape"))


_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT[0-9:.]+Z (\w+)\s+(.*)$")


def first_error(path, limit=1500):
    try:
        lines = read(path).splitlines()
    except OSError:
        return ""
    for k, ln in enumerate(lines):
        m = _LOG_LINE.match(ln)
        if m and m.group(1) == "error":
            parts = [m.group(2).strip()]
            for cont in lines[k + 1:]:
                if _LOG_LINE.match(cont):
                    break
                parts.append(cont.strip())
            msg = " | ".join(p for p in parts if p)
            return msg if len(msg) <= limit else msg[: limit - 3] + "..."
    # no log line at error level: the last non-empty line (a crash, a timeout)
    tail = [ln.strip() for ln in lines if ln.strip()]
    return tail[-1][:limit] if tail else ""


def cmd_first_error(a):
    print(first_error(a.log))


_STATEMENT_ECHO = re.compile(r"(statement \d+ \(.*?\):) \| .*? \| (the database said)")


def scrub(detail):
    """The installer's messages quote the failing statement: results (and docs/realworld.md)
    keep the file and line it names, not the project's SQL; likewise for dump diffs."""
    detail = re.sub(r"/tmp/realworld\.[A-Za-z0-9]+/", "", detail)
    # a dump diff shows the project's schema: keep that it differs (the run's output shows how)
    detail = re.sub(r"@@ -\d+(,\d+)? \+\d+(,\d+)? @@.*?(?=; the installer said:|$)",
                    "[dump diff in the run's output]", detail)
    detail = _STATEMENT_ECHO.sub(r"\1 [statement omitted] | \2", detail)
    # the statements a down script passed over: "line N: <statement> ([code] message)"
    return _PASSED_OVER.sub(r"\1 [statement omitted] (\2", detail)


_PASSED_OVER = re.compile(r"(line \d+:) .*? \((\[[0-9A-Z/]+\])")


def cmd_record(a):
    rec = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    for kv in a.fields:
        k, _, v = kv.partition("=")
        if re.fullmatch(r"-?\d+", v):
            rec[k] = int(v)
        elif re.fullmatch(r"-?\d+\.\d+", v):
            rec[k] = float(v)
        else:
            rec[k] = scrub(v) if k == "detail" else v
    with open(a.results, "a", encoding="utf-8") as f:
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("plan")
    p.add_argument("summary")
    p.set_defaults(fn=cmd_plan)
    p = sub.add_parser("choose")
    p.add_argument("summary")
    p.add_argument("--engine", required=True)
    p.set_defaults(fn=cmd_choose)
    p = sub.add_parser("inject")
    p.add_argument("summary")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--mode", required=True, choices=["end", "mid"])
    p.add_argument("--engine", required=True)
    p.add_argument("--after", type=int, default=0, help="mid: after this statement (default: ceil(n/2))")
    p.set_defaults(fn=cmd_inject)
    p = sub.add_parser("plan-compare")
    p.add_argument("summary")
    p.add_argument("plan")
    p.set_defaults(fn=cmd_plan_compare)
    p = sub.add_parser("normalize")
    p.add_argument("--engine", required=True)
    p.add_argument("--db", default="")
    p.set_defaults(fn=cmd_normalize)
    p = sub.add_parser("first-error")
    p.add_argument("log")
    p.set_defaults(fn=cmd_first_error)
    p = sub.add_parser("record")
    p.add_argument("--results", required=True)
    p.add_argument("fields", nargs="*")
    p.set_defaults(fn=cmd_record)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
