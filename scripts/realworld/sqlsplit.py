"""A small SQL statement splitter for the real-history harness (python3 standard library only).

It is NOT the installer's splitter and must not become one: the harness uses it only to count
statements (how many a step has, which are DDL) and to choose where to insert an injected
failing statement, so that the injected statement always sits between two statements, on a
line of its own. "Well enough" is the bar, in both dialects:

  postgres  '...' (E'...' with backslash escapes), "...", -- and nested /* */ comments,
            $$ / $tag$ dollar quotes, parentheses (psql does not end a statement inside
            them: CREATE RULE ... DO ALSO (a; b)), BEGIN ATOMIC ... END bodies.
  mariadb   '...' and "..." with backslash escapes, `...`, "-- " / # / /* */ comments
            (/*! ... */ counts as content), DELIMITER lines, and compound statements
            (CREATE PROCEDURE/FUNCTION/TRIGGER/EVENT ... BEGIN ... END, BEGIN NOT ATOMIC)
            written without DELIMITER, the way a server-side multi-statement query has them.

split(text, dialect) returns Statement objects with the offsets of each statement in text.
"""

import bisect
import re

__all__ = ["Statement", "split", "statements", "is_ddl", "count"]

_WORD_START = re.compile(r"[A-Za-z_]")
_WORD = re.compile(r"[A-Za-z0-9_$]*")
_DELIM_LINE = re.compile(r"[ \t]*delimiter[ \t]+(\S+)[^\n]*(\n|$)", re.IGNORECASE)
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)?\$")

_ROUTINE_KINDS = {"PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"}
_OTHER_KINDS = {"TABLE", "VIEW", "INDEX", "UNIQUE", "FULLTEXT", "SPATIAL", "DATABASE", "SCHEMA",
                "USER", "ROLE", "SEQUENCE", "SERVER", "TABLESPACE", "LOGFILE"}
_DDL_WORDS = {"CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE", "COMMENT", "GRANT", "REVOKE"}
_END_SUFFIX_OPENERS = {"IF", "LOOP", "WHILE", "REPEAT", "FOR"}


class Statement:
    """One statement: text[start:end] is its text without the terminator; term_end is the
    offset just after its terminator (== end when it has none); delimiter is the
    terminator in force (';' unless a DELIMITER line changed it); words are its first
    upper-cased words outside quotes and comments."""

    __slots__ = ("start", "end", "term_end", "delimiter", "words", "content", "line")

    def __init__(self, start, end, term_end, delimiter, words, content, line):
        self.start = start
        self.end = end
        self.term_end = term_end
        self.delimiter = delimiter
        self.words = words
        self.content = content
        self.line = line

    @property
    def terminated(self):
        return self.term_end > self.end

    def __repr__(self):
        return "Statement(line=%d, words=%r, terminated=%r)" % (self.line, self.words[:4], self.terminated)


def is_ddl(stmt):
    return bool(stmt.words) and stmt.words[0] in _DDL_WORDS


def split(text, dialect):
    """Split text into statements (only those with content: not just comments/blanks)."""
    if dialect not in ("postgres", "mariadb"):
        raise ValueError("dialect must be postgres or mariadb")
    my = dialect == "mariadb"
    n = len(text)
    i = 0
    out = []
    delimiter = ";"

    # state of the current statement
    st_start = None  # offset of its first content character
    words = []
    content = False
    depth = 0  # BEGIN ... END nesting inside a compound statement
    compound = False  # the statement is a routine/trigger/event/BEGIN NOT ATOMIC (mariadb) or has BEGIN ATOMIC (pg)
    pending_end = False  # saw END, waiting for the next word to know what it closes
    parens = 0
    prev_word = ""
    at_line_start = True

    newlines = [k for k, ch in enumerate(text) if ch == "\n"]

    def line_of(off):
        return bisect.bisect_left(newlines, off) + 1

    def finish(end, term_end):
        nonlocal st_start, words, content, depth, compound, pending_end, parens, prev_word
        if content and st_start is not None:
            out.append(Statement(st_start, end, term_end, delimiter, words, True, line_of(st_start)))
        st_start = None
        words = []
        content = False
        depth = 0
        compound = False
        pending_end = False
        parens = 0
        prev_word = ""

    def mark_content(pos):
        nonlocal st_start, content
        if st_start is None:
            st_start = pos
        content = True

    def on_word(w, pos):
        nonlocal depth, compound, pending_end, prev_word
        uw = w.upper()
        if len(words) < 12:
            words.append(uw)
        if my and not compound and len(words) <= 8:
            if _is_mariadb_routine(words):
                compound = True
            elif words == ["BEGIN", "NOT"]:
                compound = True
                depth = 1
        if pending_end:
            pending_end = False
            if uw in _END_SUFFIX_OPENERS:
                prev_word = uw
                return
            depth = max(0, depth - 1)
            if uw == "CASE":
                prev_word = uw
                return
        if my:
            if compound:
                if uw == "BEGIN":
                    depth += 1
                elif uw == "CASE":
                    depth += 1
                elif uw == "END":
                    pending_end = True
        else:
            if uw == "ATOMIC" and prev_word == "BEGIN" and words[:1] == ["CREATE"]:
                compound = True
                depth += 1
            elif compound and uw == "CASE":
                depth += 1
            elif compound and uw == "END":
                pending_end = True
        prev_word = uw

    while i < n:
        c = text[i]
        # DELIMITER lines (mariadb client syntax), only where a statement may start
        if my and at_line_start and st_start is None:
            m = _DELIM_LINE.match(text, i)
            if m:
                delimiter = m.group(1)
                i = m.end()
                at_line_start = True
                continue
        if c == "\n":
            at_line_start = True
            i += 1
            continue
        if c in " \t\r\f\v":
            i += 1
            continue
        at_line_start = False
        # custom delimiter (mariadb); ';' is handled below
        if my and delimiter != ";" and text.startswith(delimiter, i):
            if pending_end:
                pending_end = False
                depth = max(0, depth - 1)
            finish(i, i + len(delimiter))
            i += len(delimiter)
            continue
        # comments
        if c == "-" and text.startswith("--", i) and (
            not my or i + 2 >= n or text[i + 2] in " \t\r\n\f\v"
        ):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if my and c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "/" and text.startswith("/*", i):
            if my and text.startswith("/*!", i):
                mark_content(i)
                j = text.find("*/", i + 3)
                i = n if j < 0 else j + 2
                continue
            if my:
                j = text.find("*/", i + 2)
                i = n if j < 0 else j + 2
                continue
            lvl = 1
            j = i + 2
            while j < n and lvl:
                if text.startswith("/*", j):
                    lvl += 1
                    j += 2
                elif text.startswith("*/", j):
                    lvl -= 1
                    j += 2
                else:
                    j += 1
            i = j
            continue
        # terminator
        if c == ";" and delimiter == ";":
            if pending_end:
                pending_end = False
                depth = max(0, depth - 1)
            if depth == 0 and (my or parens <= 0):
                finish(i, i + 1)
                i += 1
                continue
            mark_content(i)
            i += 1
            prev_word = ";"
            continue
        mark_content(i)
        # quoted things
        if c == "'":
            backslash = my or (i > 0 and text[i - 1] in "eE" and (i < 2 or not _is_ident(text[i - 2])))
            i = _skip_quoted(text, i, "'", backslash)
            prev_word = ""
            continue
        if c == '"':
            i = _skip_quoted(text, i, '"', my)
            prev_word = ""
            continue
        if my and c == "`":
            i = _skip_quoted(text, i, "`", False)
            prev_word = ""
            continue
        if not my and c == "$":
            m = _DOLLAR_TAG.match(text, i)
            if m and not (i > 0 and _is_ident(text[i - 1])):
                tag = m.group(0)
                j = text.find(tag, m.end())
                i = n if j < 0 else j + len(tag)
                prev_word = ""
                continue
            i += 1
            continue
        if c == "(":
            parens += 1
            i += 1
            continue
        if c == ")":
            parens -= 1
            i += 1
            continue
        if _WORD_START.match(c):
            m = _WORD.match(text, i + 1)
            w = c + m.group(0)
            on_word(w, i)
            i = m.end()
            continue
        i += 1
    if pending_end:
        depth = max(0, depth - 1)
    # unterminated last statement
    if content and st_start is not None:
        end = n
        while end > st_start and text[end - 1] in " \t\r\n":
            end -= 1
        out.append(Statement(st_start, end, end, delimiter, words, True, line_of(st_start)))
    return out


def _is_mariadb_routine(words):
    # CREATE [OR REPLACE] [DEFINER = user] [AGGREGATE] PROCEDURE|FUNCTION|TRIGGER|EVENT: the
    # definer's quoted parts are not words, so look for the kind before any other object word
    if not words or words[0] != "CREATE":
        return False
    for w in words[1:8]:
        if w in _ROUTINE_KINDS:
            return True
        if w in _OTHER_KINDS:
            return False
    return False


def _is_ident(ch):
    return ch.isalnum() or ch in "_$"


def _skip_quoted(text, i, q, backslash):
    n = len(text)
    j = i + 1
    while j < n:
        ch = text[j]
        if backslash and ch == "\\":
            j += 2
            continue
        if ch == q:
            if j + 1 < n and text[j + 1] == q:
                j += 2
                continue
            return j + 1
        j += 1
    return n


def statements(text, dialect):
    return split(text, dialect)


def count(text, dialect):
    """(statements, ddl statements) with content in text."""
    sts = split(text, dialect)
    return len(sts), sum(1 for s in sts if is_ddl(s))


if __name__ == "__main__":  # debugging aid: sqlsplit.py DIALECT FILE...
    import sys

    dialect = sys.argv[1]
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
            t = f.read()
        for k, s in enumerate(split(t, dialect), 1):
            first = " ".join(t[s.start:s.end].split())[:100]
            print("%s:%d #%d%s %s" % (path, s.line, k, "" if s.terminated else " (unterminated)", first))
