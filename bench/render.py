#!/usr/bin/env python3
"""Renders the figures of a bench/run.sh run (its JSON, bench/results.json) as Markdown.

    bench/render.py RESULTS.json [-o docs/performance.md]   the whole page (stdout without -o)
    bench/render.py RESULTS.json --summary                   the tables and targets only

The JSON holds the raw samples (wall milliseconds per run, keyed "ENGINE WORKLOAD TOOL",
"start TOOL" or "postgres catalog TOOL") and the peak RSS in KiB per key; every median,
ratio and verdict is computed here, the same way for every run.
"""
import argparse
import json
import sys


def median(values):
    """The median in whole milliseconds; of an even count, the mean of the middle two, truncated."""
    v = sorted(int(x) for x in values or [])
    if not v:
        return None
    if len(v) % 2:
        return v[len(v) // 2]
    return (v[len(v) // 2 - 1] + v[len(v) // 2]) // 2


def ms(value):
    return "-" if value is None else f"{value} ms"


def per(value, count, digits=2):
    return "-" if value is None else f"{value / count:.{digits}f} ms"


class Report:
    def __init__(self, data):
        self.d = data
        self.samples = data.get("samples", {})
        self.peak = data.get("peak_rss_kib", {})
        self.n = data["n"]
        self.engines = data["engines"]

    def med(self, key):
        return median(self.samples.get(key))

    def cell(self, key, floor_key):
        """'median ms (ratio to the floor)'."""
        m = self.med(key)
        if m is None:
            return "-"
        f = self.med(floor_key)
        if f is not None and f > 0 and key != floor_key:
            return "%d ms (%.2f×)" % (m, m / f)
        return "%d ms" % m

    def rss_cell(self, key):
        k = self.peak.get(key)
        return "%.1f MiB" % (k / 1024) if k else "-"

    def ratio(self, key, floor_key):
        m, f = self.med(key), self.med(floor_key)
        return "%.2f" % (m / f) if m is not None and f else None

    def table(self):
        tools = ("floor", "installer", "dbmate", "sqitch")
        out = ["| workload | floor | installer | dbmate | sqitch |", "|---|---|---|---|---|"]
        labels = {
            "apply": "{e}: apply {n} migrations",
            "revert": "{e}: revert all {n}",
            "noop": "{e}: no-op start, {n} applied",
        }
        for e in self.engines:
            for row in ("apply", "revert", "noop"):
                cells = [self.cell(f"{e} {row} {t}", f"{e} {row} floor") for t in tools]
                out.append(f"| {labels[row].format(e=e, n=self.n)} | " + " | ".join(cells) + " |")
            out.append(f"| {e}: no-op `installer run -- /bin/true`, {self.n} applied | | "
                       f"{self.cell(f'{e} noop installer-run', f'{e} noop floor')} | | |")
            read = self.med(f"{e} noop read-floor")
            if read is not None:
                out.append(f"| {e}: reading the files of the {self.n} updates, nothing else "
                           f"(bench/floor/read_updates.c) | {read} ms | | | |")
            out.append(f"| {e}: apply {self.n}, snapshots around the run's edges only (`--fingerprint-limit 1`) | | "
                       f"{self.cell(f'{e} apply installer-edges', f'{e} apply floor')} | | |")
        out.append("| start and exit (`--version`; floor: /bin/true) | "
                   + " | ".join(self.cell(f"start {t}", "start floor") for t in tools) + " |")
        out.append(f"| catalog scan, {self.d['catalog_files']} step files (PostgreSQL) | "
                   + " | ".join(self.cell(f"postgres catalog {t}", "postgres catalog floor") for t in tools) + " |")
        return out

    def rss_table(self):
        tools = ("floor", "installer", "dbmate", "sqitch")
        out = ["| peak RSS | floor | installer | dbmate | sqitch |", "|---|---|---|---|---|"]
        for e in self.engines:
            for row in ("apply", "revert", "noop"):
                out.append(f"| {e} {row} | " + " | ".join(self.rss_cell(f"{e} {row} {t}") for t in tools) + " |")
        out.append("| catalog scan | " + " | ".join(self.rss_cell(f"postgres catalog {t}") for t in tools) + " |")
        return out

    def verdict(self, ok):
        return "met" if ok else "NOT met"

    def targets(self):
        """One line per target of issue 19, 'met' or 'NOT met', with the figures."""
        out = []
        for e in self.engines:
            m, run = self.med(f"{e} noop installer"), self.med(f"{e} noop installer-run")
            if m is not None:
                read = self.med(f"{e} noop read-floor")
                out.append(f"- {e} no-op start with {self.n} applied at most 30 ms (median): "
                           f"**{self.verdict(m <= 30)}** ({m} ms for `installer migrate`"
                           + (f", {run} ms for `installer run -- /bin/true`" if run is not None else "")
                           + (f"; reading the files alone: {read} ms" if read is not None else "") + ")")
        m = self.med("start installer")
        if m is not None:
            out.append(f"- start and exit (`--version`) at most 5 ms: **{self.verdict(m <= 5)}** ({m} ms)")
        if "mariadb" in self.engines:
            r = self.ratio("mariadb apply installer", "mariadb apply floor")
            if r is not None:
                out.append(f"- mariadb apply within 1.4× of the floor: **{self.verdict(float(r) <= 1.4)}** ({r}×)")
            m, other = self.med("mariadb apply installer"), self.med("mariadb apply dbmate")
            if m is not None and other is not None:
                out.append(f"- mariadb apply faster than dbmate: **{self.verdict(m < other)}** ({m} ms against "
                           f"{other} ms)")
        for e in self.engines:
            r = self.ratio(f"{e} revert installer", f"{e} revert floor")
            if r is not None:
                out.append(f"- {e} revert within 1.5× of the floor: **{self.verdict(float(r) <= 1.5)}** ({r}×)")
        out += self.scale_targets()
        heavier = [k for k in self.rss_keys() if self.peak.get(f"{k} installer") and self.peak.get(f"{k} dbmate")
                   and self.peak[f"{k} installer"] > self.peak[f"{k} dbmate"]]
        if any(self.peak.get(f"{k} dbmate") for k in self.rss_keys()):
            out.append(f"- peak RSS at most dbmate's on every row: **{self.verdict(not heavier)}**"
                       + (f" (more on: {', '.join(heavier)})" if heavier else ""))
        out.append("")
        out.append("Compared with the other tools (not targets):")
        out.append("")
        for e in self.engines:
            for row in ("apply", "revert", "noop"):
                m = self.med(f"{e} {row} installer")
                for tool in ("dbmate", "sqitch"):
                    other = self.med(f"{e} {row} {tool}")
                    if m is not None and other is not None:
                        out.append(f"- {e} {row} faster than {tool}: **{'yes' if m < other else 'no'}** ({m} ms "
                                   f"against {other} ms)")
        m = self.med("postgres catalog installer")
        for tool in ("dbmate", "sqitch"):
            other = self.med(f"postgres catalog {tool}")
            if m is not None and other is not None:
                out.append(f"- catalog scan faster than {tool}: **{'yes' if m < other else 'no'}** ({m} ms against "
                           f"{other} ms)")
        return out

    def rss_keys(self):
        keys = [f"{e} {row}" for e in self.engines for row in ("apply", "revert", "noop")]
        return keys + ["postgres catalog"]

    # ------------------------------------------------------------ scale
    def scale_rows(self, e, kind, sizes, workloads):
        """Rows of (size, {workload: ms}) for the sizes that were measured."""
        rows = []
        for size in sizes:
            figures = {w: self.med(f"{e} {kind}-{size} {w}") for w in workloads}
            if any(v is not None for v in figures.values()):
                rows.append((size, figures))
        return rows

    def scale_tables(self):
        out = []
        history = ("install installer", "install floor", "noop installer", "remove installer")
        schema = ("install installer", "noop installer", "snapshot installer")
        for e in self.engines:
            rows = self.scale_rows(e, "history", self.d.get("scale_updates", []), history)
            if rows:
                if not out:
                    out += ["| engine | updates | first install (floor) | per update | no-op start | remove all |"
                            " per update |", "|---|---|---|---|---|---|---|"]
                for size, f in rows:
                    inst, floor, noop, rem = (f[w] for w in history)
                    out.append(f"| {e} | {size} | {ms(inst)} ({ms(floor)}) | {per(inst, size)} | {ms(noop)} | "
                               f"{ms(rem)} | {per(rem, size)} |")
        wide = []
        for e in self.engines:
            rows = self.scale_rows(e, "schema", self.d.get("scale_tables", []), schema)
            if rows:
                if not wide:
                    wide += ["| engine | tables | updates creating them | no-op start | snapshot "
                             "(`installer diff`) | per table |", "|---|---|---|---|---|---|"]
                for size, f in rows:
                    inst, noop, snap = (f[w] for w in schema)
                    wide.append(f"| {e} | {size} | {ms(inst)} | {ms(noop)} | {ms(snap)} | {per(snap, size, 3)} |")
        return out + ([""] if out and wide else []) + wide

    def scale_noop_samples(self):
        """' (the no-op starts: the median of N)' when they were sampled more than once."""
        counts = [len(v) for k, v in self.samples.items() if " history-" in k and k.endswith(" noop installer")]
        return f" (the no-op starts: the median of {max(counts)})" if counts and max(counts) > 1 else ""

    def growth(self, kind, sizes, workload, e):
        """How the time grows from the smallest size to the largest: the exponent k of
        time ~ size^k (1 is linear), or None."""
        import math
        points = [(s, self.med(f"{e} {kind}-{s} {workload}")) for s in sizes]
        points = [(s, t) for s, t in points if t]
        if len(points) < 2 or points[0][0] == points[-1][0]:
            return None
        (s0, t0), (s1, t1) = points[0], points[-1]
        return math.log(t1 / t0) / math.log(s1 / s0)

    def scale_targets(self):
        out = []
        checks = [("history", "scale_updates", w) for w in ("install installer", "noop installer", "remove installer")]
        checks += [("schema", "scale_tables", w) for w in ("install installer", "noop installer", "snapshot installer")]
        found = []
        for e in self.engines:
            for kind, sizes_key, workload in checks:
                k = self.growth(kind, self.d.get(sizes_key, []), workload, e)
                if k is not None:
                    found.append((f"{e} {kind} {workload.replace(' installer', '')}", k))
        if found:
            worst = max(found, key=lambda f: f[1])
            # Above 1.15 the curve bends upwards beyond what one run's noise explains.
            out.append(f"- nothing grows faster than linearly: **{self.verdict(worst[1] <= 1.15)}** (exponent k of "
                       f"time ~ size^k, smallest to largest size: "
                       + ", ".join(f"{name} {k:.2f}" for name, k in found) + ")")
        return out

    def phase_lines(self):
        """The no-op start part by part, from the installer's own log (bench/run.sh noop_phases)."""
        out = []
        order = ("connected", "locked", "catalog read", "journal read: nothing to do")
        for e in self.engines:
            phases = self.d.get("noop_phases_ms", {}).get(e, {})
            if not phases:
                continue
            parts = [f"{p} at {median(phases[p])} ms" for p in order if p in phases]
            read = self.med(f"{e} noop read-floor")
            out.append(f"- {e} no-op start, when each part ended (ms after the command started, median of "
                       f"{len(next(iter(phases.values())))} starts): " + ", ".join(parts) + "."
                       + (f" Reading the same files and nothing else takes {read} ms." if read is not None else ""))
        return out

    def summary(self):
        return ["", *self.table(), "", *self.rss_table(), "", *self.scale_tables(), "", *self.targets()]

    def page(self):
        d, m, v, n = self.d, self.d["machine"], self.d["versions"], self.n
        lines = [
            "# Performance",
            "",
            f"Written by `bench/run.sh` on {d['date']}; do not edit by hand. To measure again",
            "(it installs what it needs: sqitch from Debian, dbmate from the npm registry):",
            "",
            "```",
            "bench/run.sh                                  # about 15 minutes on 2 cores",
            "BENCH_N=200 BENCH_RUNS=1 bench/run.sh --no-doc # a quick look, nothing written",
            "```",
            "",
            "## Machine and versions",
            "",
            f"- {m['cpus']} CPU ({m['cpu_model']}), {m['mem_kib'] / 1048576:.1f} GiB RAM, {m['os']}",
            f"- {v['installer']} (Release build), PostgreSQL {v['postgres']}, MariaDB {v['mariadb']}",
        ]
        if v.get("dbmate"):
            lines.append(f"- dbmate {v['dbmate']} (npm), {v['sqitch']}")
        lines += [
            "- The servers are the test suite's throwaway ones: PostgreSQL with `fsync = off` and",
            "  `synchronous_commit = off`, MariaDB with its defaults, both with their files in",
            f"  `{d['server_tmp']}`: on this machine's virtual disk, creating and deleting the files of",
            "  1000 tables took from 1.6 to 3.4 s from one run to the next, for every tool alike. Commit cost is",
            "  therefore small here; on a durable server every tool but the floor pays one flush per migration",
            "  (installer, dbmate and Sqitch all commit each migration on its own).",
            "",
            "## Results",
            "",
            f"Median of {d['runs']} runs (Sqitch: {d['sqitch_runs']}), each on a fresh database; in brackets the ratio"
            " to the floor",
            "of the same run."
            + (f" The no-op and start-and-exit rows take {d['noop_repeat']} samples in each run"
               f" ({d['runs'] * d['noop_repeat']} in all; Sqitch: 1 a run): they last milliseconds, and"
               " this machine's noise is of that size." if d.get("noop_repeat", 1) > 1 else ""),
            f"The workload: {n} migrations, each creating a table (serial/auto-increment key, a default, a",
            "timestamp), an index and a row, with a down script dropping the table; the same SQL for every tool.",
            "",
            *self.table(),
            "",
            *self.rss_table(),
            "",
            "## Scale",
            "",
            f"One run at each size, each on a fresh database{self.scale_noop_samples()}: the history is the "
            "workload above at "
            "that many updates (the floor: the same SQL through the client, statement by statement); the "
            "schema is that many tables of the same shape, made by updates of 500 tables each. "
            "`installer diff` reads the whole schema and compares it with the snapshot recorded after "
            "the last update.",
            "",
            *self.scale_tables(),
            "",
            *SCALE_NOTES.split("\n"),
            "",
            "## Targets",
            "",
            *self.targets(),
            "",
            "## Where the time goes",
            "",
        ]
        for e in self.engines:
            per, floor_per = self.med(f"{e} apply installer"), self.med(f"{e} apply floor")
            if per is not None and floor_per is not None:
                lines.append(f"- {e} apply: {per / n:.2f} ms per migration against {floor_per / n:.2f} ms for the"
                             f" floor, {(per - floor_per) / n:.2f} ms more.")
        start = self.med("start installer")
        lines += WHERE_THE_TIME_GOES.format(start="?" if start is None else start,
                                            true="?" if self.med("start floor") is None else self.med("start floor"),
                                            libs=d["installer_shared_libraries"], files=3 * n, n=n).rstrip("\n").split("\n")
        lines += self.phase_lines()
        for e in self.engines:
            every, edges = self.med(f"{e} apply installer"), self.med(f"{e} apply installer-edges")
            if every is not None and edges is not None:
                lines.append(f"- {e}: verifying every update: {(every - edges) / n:.2f} ms per update more than"
                             " snapshots around the run's edges only (the snapshot's parts: above).")
        lines += ["", *FIXED.split("\n")]
        return lines


SCALE_NOTES = """\
How the history rows stay linear: every update of this history adds a table, and the snapshot
after it is the one before with that table's objects replaced. A snapshot keeps its tables in
chunks of 32 to 63, shared with the snapshots it was made from, so copying it, comparing it and
making the journal's delta cost the chunks that changed, not the list of every table. Its digest
(the SHA-256 over one line per table, in name order) keeps the hash's state at the start of each
chunk and hashes again from the first chunk that changed: part of a pass, at SHA-256's speed,
over lines that are kept rather than written again. The journal stores each snapshot as a delta
against one chosen as a binary counter counts (docs/journal.md), so n updates write about
n log2(n) / 2 tables' lines in all, where a delta against the chain's full snapshot grew with
every table added since it. A removal reads the snapshot recorded before its update from its
chain, stopping at a snapshot the run already has. The no-op start grows with the history by
reading its files and its journal rows. Each size is one run, so a single slow run moves an
exponent: `installer diff` of 10,000 tables on PostgreSQL took from 1.6 to 2.8 s in runs of the
same build on this machine. On MariaDB that whole-schema read has cost more per table at 10,000
tables than at 5,000 in every run so far; not investigated yet."""

WHERE_THE_TIME_GOES = """\
  Round trips per migration of this workload (3 statements): the floor 3 (and one transaction
  for all), dbmate 4 (BEGIN, the whole file as one query, its version row, COMMIT), installer 2 on
  PostgreSQL: RESET ALL (so that one update's SET cannot leak into the next), BEGIN and the step's
  statements go out together in a libpq pipeline, each still answered on its own, so a failure
  names its statement and line; then the journal's rows, as one prepared statement, and COMMIT.
  One transaction per update is the atomicity guarantee. What remains above the floor on PostgreSQL
  is mostly the server's own work for installer: the journal rows, a COMMIT per update, and the
  snapshot after each update (below).
- MariaDB commits every DDL statement on its own, so installer journals each statement's progress
  as it commits: that is what lets it revert exactly the statements of a failed step that are in
  the database. Those writes travel ahead of the next statement, in its round trip: 5 round trips
  per migration here (the 3 statements, the attempt's row, its final state), down from 11. But
  they are still statements the server runs and commits one by one: 7 journal writes (the session
  reset, the attempt, the step, two progress marks, the step's and the attempt's final state) next
  to the 3 statements of the migration, where dbmate writes one version row per migration and
  cannot say which statements of a failed migration were committed. That server work is the
  distance to the floor and to dbmate; fewer writes would mean a journal that knows less.
- The snapshot after each update, measured with PostgreSQL's statement log on this workload at
  1,000 tables: the read of the tables the update names (about 0.4 ms to bind, 0.6 ms to run on
  the server), the server's counters of catalog changes at the transaction's start and end (two
  round trips), the snapshot's lookup and INSERT in the journal, and in installer the digest over
  every table's digest, the new map of tables and the delta (under 1 ms together). Each is a round
  trip or a pass over the list of tables, not over their objects; folding the counters and the
  journal's lookup into round trips that happen anyway is what is left to gain. On MariaDB the
  read is most of it: information_schema answers each of its 8 kinds of objects by opening the
  table's definition again.
- No-op start: the process alone, `installer --version`, takes {start} ms here against {true} ms
  for /bin/true. `ldd` lists {libs} objects (the loader, the kernel's vDSO, the C library and
  zlib): the C++ runtime, Boost.Filesystem, fmt and toml++ are compiled in, because each C++
  shared library cost the loader thousands of symbol lookups at start; libcrypto, libpq (with the
  Kerberos, LDAP and TLS libraries it brings), libmariadb and libarchive are opened only by a run
  that uses them, and libcrypto stays Debian's shared library so that its security updates
  apply without a rebuild. Every
  start reads and hashes all {files} files of the {n} updates, because an applied update that
  changed on disk is refused: the row "reading the files … nothing else" is what this machine's
  kernel takes for that alone, with the same system calls and no program logic. Only the
  updates that may run are split into statements and linted, once the journal says which (here
  none): counted with callgrind on PostgreSQL, splitting and linting the 2000 applied scripts were
  45 of the 271 million instructions a no-op start ran in user space. Each update folder
  is listed once (readdir's file kinds, no stat per entry) and its files are opened relative to it
  (one openat, fstat and read each), on 2 threads. Meanwhile a thread of its own connects (TCP,
  SCRAM), takes the migration lock and reads the journal (two queries of {n} rows each); the run
  goes on when both are done, so "nothing to do" comes at the later of the two. On this 2-core
  machine the two compete with each other, and with the server, for the same cores. The parts,
  from the installer's own log:
"""

FIXED = """\
## What installer does per migration that the others do not

- Journals every update and step in the database, with the down script itself, checksums, host,
  timings, in the update's own transaction (PostgreSQL) or as each statement commits (MariaDB).
- Snapshots the schema (every table, column, constraint, index, view, sequence, routine, trigger,
  event, extension, type, schema) before and after each update, and stores each snapshot in the
  journal as its difference from the one before, so that every revert can be verified and every
  difference named (docs/snapshots.md). A full read of the catalog per update made a long run
  quadratic; the snapshot after an update now re-reads only the tables its statements name,
  checked against the server's counts of objects. The row with `--fingerprint-limit 1` is the same
  run with snapshots around its first and last update only. Removing many updates in one run (here:
  an image without them, `--auto-remove-unknown`) verifies each removal the same way.
- Holds a database lock for the whole run, and checks that the applied updates did not change.

## Found and fixed with this benchmark

- MariaDB's fingerprint used correlated subqueries on information_schema, which MariaDB fills again
  for every outer row: with 1,000 tables one fingerprint took about 4.5 minutes; with grouped
  derived tables it takes about half a second, with the same digest.
- Per-update fingerprints (above) and the journal read in full for every removed update.
- Verifying every update (PostgreSQL): the installer's prepared statements kept the plan made at
  their sixth run, when the catalogs were those of an empty database; by update 1,000 the scoped
  read hashed and scanned pg_class whole (4.4 ms a read). Each statement is now prepared again
  after 64, 128, 256 … runs, and the read looks each table's catalog rows up by index, fenced so
  that no plan can turn them into scans: 1.0 ms.
- Removing 1,000 updates, each verified, took 27 to 80 s: every removal read the snapshot recorded
  before it back from the journal (a chain of deltas to decode from the full snapshot it starts
  from, parsed again each time), and counted the catalogs' objects with a scan of each after its
  commit. Now a schema whose digest is the recorded one is equal without reading anything, the
  full snapshot of a chain is kept once read, the schema is read before the revert's commit where
  the server's counters of the transaction say what changed, and a removal that had no snapshot to
  compare with still leaves the schema known to the next: about 5 s.
- PostgreSQL: 8 round trips per update down to 2 (a pipeline for the step's statements, BEGIN folded
  into it, the journal's rows in one statement sent with the COMMIT), the journal's statements
  prepared once per session instead of parsed and planned per update (their server time fell from
  about 190 µs for the two inserts to 90 µs for the one), and libpq used directly: libpqxx 6.4 has no pipeline.
- MariaDB: the journal's progress writes go ahead of the next statement in one multi-statement
  query: 11 round trips per migration down to 5, about 10% of the apply time.
- The catalog is read on several threads with one open, fstat and read per file: a no-op start
  with 1,000 applied updates went from about 115 to 75 ms on a quiet server.
- No-op start (issue 19): libpq, libmariadb and libarchive opened on first use (42 shared
  libraries mapped at start down to 11); each update folder listed once with the kinds readdir
  reports and its files opened relative to it (no stat per entry, no walk of the whole path per
  file: 21 system calls per update of this workload down to 17, and 8 lookups of a whole path
  down to 1, its files opened by name relative to the folder); OpenSSL 3's SHA-256
  fetched once, not looked up under a lock for every digest (10% of the catalog's time); versions
  compared without building vectors (6%); applied updates matched against the catalog through a
  set instead of a scan per update; the connection and the server's first catalog query made on a
  thread of their own while the catalog is read; one query fewer for the journal's format. Then the
  migration lock and the journal's read moved onto that thread too, so that they overlap the
  catalog instead of following it (the journal read ahead is used once, and dropped by any write
  before it is used). In PostgreSQL's statement log of a no-op start, the statements after the
  catalog went from 9 (the lock, two format checks of two statements each, a probe of the attempts,
  the two reads, the unlock) to 1 (the unlock), and from 11 to 6 in all."""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", help="the JSON written by bench/run.sh")
    ap.add_argument("-o", "--output", help="write the page here (default: stdout)")
    ap.add_argument("--summary", action="store_true", help="only the tables and the targets")
    args = ap.parse_args()
    with open(args.results, encoding="utf-8") as f:
        report = Report(json.load(f))
    text = "\n".join(report.summary() if args.summary else report.page()) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
