#include "installer/postgres/pg_database.hpp"

#include <regex>
#include <stdexcept>
#include <utility>

namespace installer {
namespace {

// The namespaces looked at (as the fingerprint's) and the relations with the table each
// belongs to. A sequence a column owns (serial, identity) belongs to that column's table: a
// scoped read of the table then sees it come and go with the column. What an extension
// made is left to the extension. {relations} is where the relations come from: every one
// in the namespaces, or (kScopedRelations) the ones of some tables.
const char* const kRelations = R"SQL(
WITH RECURSIVE ns AS (
  SELECT oid, nspname::text AS nspname FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_toast%'
    AND nspname NOT LIKE 'pg\_temp\_%' AND nspname <> ?
),{wanted}
rel AS (
  SELECT c.oid, c.relkind, c.relname::text AS relname, n.nspname, c.relpersistence, c.relrowsecurity,
         c.relforcerowsecurity, c.relispartition, c.relpartbound, c.reloptions,
         CASE WHEN c.relkind = 'c' THEN '' ELSE coalesce(o.relname, c.relname)::text END AS tbl
  FROM {relations}
  JOIN ns n ON n.oid = c.relnamespace
  LEFT JOIN pg_depend d ON c.relkind = 'S' AND d.classid = 'pg_class'::regclass AND d.objid = c.oid
        AND d.objsubid = 0 AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
  LEFT JOIN pg_class o ON o.oid = d.refobjid
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c')
    AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid
                      AND e.objsubid = 0 AND e.deptype = 'e')
    AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_type'::regclass AND e.objid = c.reltype
                      AND e.objsubid = 0 AND e.deptype = 'e')
)
)SQL";

// Only in the scoped query: the relations of the tables named (exactly, through the
// catalog's name index; the tracker adds the spellings a statement's name may stand
// for), every partition or child below them and the sequences they own. Each step is an
// index look-up, so the read costs what those tables hold, not what the schema holds; the
// look-up of owned sequences is fenced as catalog_joins explains. The names stay a join
// of their own (measured: `relname = ANY (?)` made the planner keep custom plans, planned
// again at every bind for 3 ms).
const char* const kWanted = R"SQL(
names(name) AS (
  SELECT unnest(a) FROM (SELECT ?::name[] AS a OFFSET 0) given
),
named(oid) AS (
  SELECT c.oid FROM names JOIN pg_class c ON c.relname = names.name
  UNION
  SELECT i.inhrelid FROM pg_inherits i JOIN named w ON i.inhparent = w.oid
),
wanted(oid) AS (
  SELECT oid FROM named
  UNION
  SELECT d.objid FROM named w
    CROSS JOIN LATERAL (SELECT objid FROM pg_depend WHERE refclassid = 'pg_class'::regclass AND refobjid = w.oid
                          AND classid = 'pg_class'::regclass AND deptype IN ('a', 'i') OFFSET 0) d
),)SQL";

const char* const kAllRelations = "pg_class c";
const char* const kScopedRelations = "wanted w {lookup pg_class c oid w.oid}";
// A composite type is a relation of no table: read with the other table-less objects.
const char* const kScopedRelationsAndTypes =
    "(SELECT oid FROM wanted UNION SELECT oid FROM pg_class WHERE relkind = 'c') w {lookup pg_class c oid w.oid}";

/// One branch of the query: what kind of object each row is, its description (name,
/// definition, table) and where the rows come from. The snapshot selects the
/// description, object_counts() only counts the rows, so the two cannot disagree.
struct Branch {
  const char* kind;
  const char* described;
  const char* source;
  bool table_less = false;  ///< its objects belong to no table: a scoped read leaves it out unless asked
};

// Relations: what a table is (its kind, persistence, row security, partitioning and
// parents), a view's full text, a sequence's settings.
const char* const kRelationDescribed = R"SQL(r.nspname || '.' || r.relname,
  CASE WHEN r.relkind IN ('v', 'm') THEN
         CASE WHEN r.relkind = 'm' THEN 'MATERIALIZED ' ELSE '' END
         || coalesce('WITH (' || array_to_string(r.reloptions, ', ') || ') ', '') || ltrim(pg_get_viewdef(r.oid))
       WHEN r.relkind = 'S' THEN
         format_type(s.seqtypid, NULL) || ' START ' || s.seqstart || ' INCREMENT ' || s.seqincrement
         || ' MINVALUE ' || s.seqmin || ' MAXVALUE ' || s.seqmax || ' CACHE ' || s.seqcache
         || CASE WHEN s.seqcycle THEN ' CYCLE' ELSE ' NO CYCLE' END
       ELSE 'kind=' || r.relkind::text || ' persistence=' || r.relpersistence::text || ' rls=' || r.relrowsecurity
         || CASE WHEN r.relforcerowsecurity THEN ' rls_forced=true' ELSE '' END
         || CASE WHEN r.relkind = 'p' THEN ' partition_by=' || pg_get_partkeydef(r.oid) ELSE '' END
         || coalesce(' inherits=' || inh.parents, '')
         || CASE WHEN r.relispartition THEN ' partition=' || pg_get_expr(r.relpartbound, r.oid) ELSE '' END
         || coalesce(' options=' || array_to_string(r.reloptions, ','), '')
  END,
  r.tbl)SQL";

const char* const kRelationSource = R"SQL(rel r
  {left lookup pg_sequence s seqrelid r.oid}
  LEFT JOIN LATERAL (SELECT string_agg(inhparent::regclass::text, ', ' ORDER BY inhseqno) AS parents
                       FROM pg_inherits WHERE inhrelid = r.oid) inh ON true
  WHERE r.relkind <> 'c')SQL";

// Columns read like their DDL; the collation only where it is not the type's own.
const char* const kColumnDescribed = R"SQL(r.nspname || '.' || r.relname || '.' || a.attname,
  format_type(a.atttypid, a.atttypmod)
  || CASE WHEN a.attcollation <> ty.typcollation THEN ' COLLATE ' || quote_ident(co.collname) ELSE '' END
  || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
  || CASE WHEN a.attgenerated = 's' THEN ' GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED'
          ELSE coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '') END
  || CASE a.attidentity WHEN 'a' THEN ' GENERATED ALWAYS AS IDENTITY'
                        WHEN 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' ELSE '' END,
  r.tbl)SQL";

const char* const kColumnSource = R"SQL({table's pg_attribute a attrelid}
  JOIN pg_type ty ON ty.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  LEFT JOIN pg_collation co ON co.oid = a.attcollation
  WHERE a.attnum > 0 AND NOT a.attisdropped AND r.relkind <> 'S')SQL";

// Types: an enum's labels in order, a domain's base, NOT NULL and default (its CHECKs
// are constraints), a range's subtype. A table's row type is the table's.
const char* const kTypeDescribed = R"SQL(n.nspname || '.' || t.typname,
  CASE t.typtype
    WHEN 'e' THEN 'enum (' || coalesce((SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                                          FROM pg_enum e WHERE e.enumtypid = t.oid), '') || ')'
    WHEN 'd' THEN 'domain ' || format_type(t.typbasetype, t.typtypmod)
                  || CASE WHEN t.typcollation <> bt.typcollation THEN ' COLLATE ' || quote_ident(co.collname) ELSE '' END
                  || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END || coalesce(' DEFAULT ' || t.typdefault, '')
    WHEN 'r' THEN 'range of ' || format_type(rg.rngsubtype, NULL)
    WHEN 'm' THEN 'multirange'
    WHEN 'c' THEN 'composite'
    ELSE 'base' END,
  '')SQL";

const char* const kTypeSource = R"SQL(pg_type t
  JOIN ns n ON n.oid = t.typnamespace
  LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
  LEFT JOIN pg_collation co ON co.oid = t.typcollation
  LEFT JOIN pg_range rg ON rg.rngtypid = t.oid
  WHERE NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid
                      AND e.deptype IN ('e', 'i'))
    AND ((t.typtype IN ('e', 'd', 'r', 'm', 'b') AND t.typelem = 0)
         OR (t.typtype = 'c' AND t.typrelid IN (SELECT oid FROM rel WHERE relkind = 'c'))))SQL";

// Routines: everything CREATE FUNCTION says, the body in full (an aggregate's functions
// instead). SQL-standard bodies (BEGIN ATOMIC, PostgreSQL 14+) are not in prosrc: {body}.
// What PostgreSQL made for another object (a range type's constructors, its multirange)
// is left to that object.
const char* const kRoutineDescribed =
    R"SQL(n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
  CASE WHEN p.prokind = 'p' THEN '' ELSE 'RETURNS ' || coalesce(pg_get_function_result(p.oid), '') || ' ' END
  || 'LANGUAGE ' || l.lanname
  || CASE p.prokind WHEN 'a' THEN ' AGGREGATE' WHEN 'w' THEN ' WINDOW' ELSE '' END
  || CASE WHEN p.prokind = 'p' THEN '' WHEN p.provolatile = 'i' THEN ' IMMUTABLE' WHEN p.provolatile = 's' THEN ' STABLE'
          ELSE ' VOLATILE' END
  || CASE WHEN p.proisstrict THEN ' STRICT' ELSE '' END
  || CASE WHEN p.prosecdef THEN ' SECURITY DEFINER' ELSE '' END
  || CASE WHEN p.proleakproof THEN ' LEAKPROOF' ELSE '' END
  || CASE p.proparallel WHEN 's' THEN ' PARALLEL SAFE' WHEN 'r' THEN ' PARALLEL RESTRICTED' ELSE '' END
  || coalesce(' SET ' || array_to_string(p.proconfig, ' SET '), '')
  || CASE WHEN p.prokind = 'a' THEN ' SFUNC ' || ag.aggtransfn::regproc || ' STYPE ' || format_type(ag.aggtranstype, NULL)
            || CASE WHEN ag.aggfinalfn <> 0 THEN ' FINALFUNC ' || ag.aggfinalfn::regproc ELSE '' END
            || coalesce(' INITCOND ' || quote_literal(ag.agginitval), '')
          ELSE ' AS ' || {body} END,
  '')SQL";

const char* const kRoutineSource = R"SQL(pg_proc p
  JOIN ns n ON n.oid = p.pronamespace
  JOIN pg_language l ON l.oid = p.prolang
  LEFT JOIN pg_aggregate ag ON ag.aggfnoid = p.oid
  WHERE NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid
                      AND e.deptype IN ('e', 'i')))SQL";

// Row security policies, with their roles sorted: PostgreSQL keeps them as given.
const char* const kPolicyDescribed = R"SQL(r.nspname || '.' || r.relname || '.' || pol.polname,
  CASE pol.polcmd WHEN 'r' THEN 'FOR SELECT' WHEN 'a' THEN 'FOR INSERT' WHEN 'w' THEN 'FOR UPDATE'
                  WHEN 'd' THEN 'FOR DELETE' ELSE 'FOR ALL' END
  || ' TO ' || (SELECT string_agg(role, ', ' ORDER BY role)
                  FROM (SELECT CASE WHEN x = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(x)) END AS role
                          FROM unnest(pol.polroles) x) roles)
  || CASE WHEN pol.polpermissive THEN '' ELSE ' AS RESTRICTIVE' END
  || coalesce(' USING (' || pg_get_expr(pol.polqual, pol.polrelid) || ')', '')
  || coalesce(' WITH CHECK (' || pg_get_expr(pol.polwithcheck, pol.polrelid) || ')', ''),
  r.tbl)SQL";

// The first branch fixes the column types for the whole UNION: text, not name, or every
// description would be cut at 63 characters.
const Branch kBranches[] = {
    {"'schema'::text", "nspname, ''::text, ''::text", "ns", true},
    {"'extension'", "e.extname::text, e.extversion || ' in ' || n.nspname, ''",
     "pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace", true},
    {"CASE r.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'view' WHEN 'S' THEN 'sequence' ELSE 'table' END",
     kRelationDescribed, kRelationSource},
    {"'column'", kColumnDescribed, kColumnSource},
    {"'constraint'", "r.nspname || '.' || r.relname || '.' || con.conname, pg_get_constraintdef(con.oid), r.tbl",
     "{table's pg_constraint con conrelid}"},
    {"'constraint'", "n.nspname || '.' || t.typname || '.' || con.conname, pg_get_constraintdef(con.oid), ''",
     "pg_constraint con JOIN pg_type t ON t.oid = con.contypid JOIN ns n ON n.oid = t.typnamespace "
     "WHERE NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid "
     "AND e.deptype = 'e')",
     true},
    {"'index'",
     "r.nspname || '.' || ic.relname, pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' "
     "END || CASE WHEN i.indisclustered THEN ' CLUSTERED' ELSE '' END, r.tbl",
     "{table's pg_index i indrelid} {lookup pg_class ic oid i.indexrelid}"},
    {"CASE WHEN p.prokind = 'p' THEN 'procedure' ELSE 'function' END", kRoutineDescribed, kRoutineSource, true},
    {"'trigger'",
     "r.nspname || '.' || r.relname || '.' || t.tgname, pg_get_triggerdef(t.oid) || CASE t.tgenabled WHEN 'D' THEN "
     "' DISABLED' WHEN 'R' THEN ' ENABLE REPLICA' WHEN 'A' THEN ' ENABLE ALWAYS' ELSE '' END, r.tbl",
     "{table's pg_trigger t tgrelid} WHERE NOT t.tgisinternal"},
    {"'type'", kTypeDescribed, kTypeSource, true},
    {"'policy'", kPolicyDescribed, "{table's pg_policy pol polrelid}"},
    {"'rule'",
     "r.nspname || '.' || r.relname || '.' || ru.rulename, pg_get_ruledef(ru.oid) || CASE ru.ev_enabled WHEN 'D' "
     "THEN ' DISABLED' WHEN 'R' THEN ' ENABLE REPLICA' WHEN 'A' THEN ' ENABLE ALWAYS' ELSE '' END, r.tbl",
     "{table's pg_rewrite ru ev_class} WHERE ru.rulename <> '_RETURN'"},
};

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

// How a branch reaches the catalog rows of its tables: {table's CATALOG ALIAS KEY} (the
// rows whose KEY is a table of rel r) and {[left ]lookup CATALOG ALIAS KEY EXPR} (the row
// whose KEY is EXPR). A full read joins whole catalogs, and the planner hashes them. A
// scoped read looks each table's rows up by index, fenced in LATERAL … OFFSET 0: the
// plan is kept for the whole session, and made while the schema is still small it
// would otherwise hash-join catalogs that then grow many times over (measured: a scan
// of pg_class was 2.4 ms of a 3.6 ms scoped read at 1000 tables).
std::string catalog_joins(const std::string& sql, bool scoped) {
  static const std::regex marker(R"(\{(left )?(table's|lookup) (\w+) (\w+) (\w+)(?: ([\w.]+))?\})");
  std::string out;
  auto tail = sql.cbegin();
  for (std::sregex_iterator it(sql.begin(), sql.end(), marker), end; it != end; ++it) {
    const std::smatch& m = *it;
    out.append(tail, m[0].first);
    tail = m[0].second;
    const std::string join = m[1].matched ? "LEFT JOIN " : "JOIN ";
    const std::string catalog = m[3], alias = m[4], key = m[5], value = m[2] == "lookup" ? m[6].str() : "r.oid";
    if (m[2] == "table's")
      out += scoped ? "rel r CROSS JOIN LATERAL (SELECT * FROM " + catalog + " WHERE " + key + " = r.oid OFFSET 0) " +
                          alias
                    : catalog + " " + alias + " JOIN rel r ON r.oid = " + alias + "." + key;
    else
      out += scoped ? join + "LATERAL (SELECT * FROM " + catalog + " WHERE " + key + " = " + value + " OFFSET 0) " +
                          alias + " ON true"
                    : join + catalog + " " + alias + " ON " + alias + "." + key + " = " + value;
  }
  out.append(tail, sql.cend());
  return out;
}

std::string relations(bool scoped, bool table_less) {
  std::string sql = kRelations;
  replace_all(sql, "{wanted}", scoped ? kWanted : "");
  replace_all(sql, "{relations}", !scoped ? kAllRelations : table_less ? kScopedRelationsAndTypes : kScopedRelations);
  return sql;
}

std::string snapshot_sql(bool scoped, bool table_less, const std::string& body) {
  std::string sql = relations(scoped, table_less);
  bool first = true;
  for (const Branch& b : kBranches) {
    if (b.table_less && !table_less) continue;
    sql += std::string(first ? "" : "UNION ALL\n") + "SELECT " + b.kind + "::text, " + b.described + "\n  FROM " +
           b.source + "\n";
    first = false;
  }
  replace_all(sql, "{body}", body);
  return catalog_joins(sql, scoped);
}

// The server's counters of the objects of each kind: no joins and no descriptions, one
// scan of each catalog. They are not the snapshot's counts (extensions' members, the
// objects PostgreSQL made for others and a dropped column's slot are in them), but they
// change as the snapshot's do when a statement creates or drops something: what the
// schema tracker compares, as changes, to find a statement that did more than it says.
const char* const kCounters = R"SQL(
WITH ns AS (
  SELECT oid FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_toast%'
    AND nspname NOT LIKE 'pg\_temp\_%' AND nspname <> ?
),
rels AS (
  SELECT count(*) FILTER (WHERE relkind IN ('r', 'p', 'f')) AS tables,
         count(*) FILTER (WHERE relkind IN ('v', 'm')) AS views,
         count(*) FILTER (WHERE relkind = 'S') AS sequences,
         count(*) FILTER (WHERE relkind IN ('i', 'I')) AS indexes,
         coalesce(sum(relnatts) FILTER (WHERE relkind IN ('r', 'p', 'f', 'v', 'm', 'c')), 0) AS columns,
         count(*) FILTER (WHERE relkind = 'c') AS composites
  FROM pg_class WHERE relnamespace IN (SELECT oid FROM ns)
),
procs AS (
  SELECT count(*) FILTER (WHERE prokind <> 'p') AS functions, count(*) FILTER (WHERE prokind = 'p') AS procedures
  FROM pg_proc WHERE pronamespace IN (SELECT oid FROM ns)
)
SELECT (SELECT count(*) FROM ns), (SELECT count(*) FROM pg_extension), r.tables, r.views, r.sequences, r.indexes,
       r.columns,
       r.composites + (SELECT count(*) FROM pg_type WHERE typnamespace IN (SELECT oid FROM ns)
                         AND (typtype IN ('e', 'd', 'r', 'm') OR (typtype = 'b' AND typelem = 0))),
       p.functions, p.procedures, (SELECT count(*) FROM pg_constraint WHERE connamespace IN (SELECT oid FROM ns)),
       (SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal), (SELECT count(*) FROM pg_policy),
       (SELECT count(*) FROM pg_rewrite WHERE rulename <> '_RETURN')
FROM rels r, procs p
)SQL";

// The kinds of kCounters' columns, in order.
const char* const kCountedKinds[] = {"schema", "extension", "table",     "view",       "sequence", "index",  "column",
                                     "type",   "function",  "procedure", "constraint", "trigger",  "policy", "rule"};

/// A text[] literal of the names: each one double-quoted, its quotes and backslashes escaped.
std::string text_array(const std::vector<std::string>& names) {
  std::string out = "{";
  for (const auto& name : names) {
    out += out.size() > 1 ? ",\"" : "\"";
    for (char c : name) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace

PgSnapshotSql postgres_snapshot_sql(int server_version) {
  std::string body = server_version >= 140000 ? "coalesce(pg_get_function_sqlbody(p.oid), p.prosrc, '')"
                                              : "coalesce(p.prosrc, '')";
  return {snapshot_sql(false, true, body), snapshot_sql(true, false, body), snapshot_sql(true, true, body), kCounters};
}

Snapshot postgres_snapshot(Database& db, const PgSnapshotSql& sql, const ExcludedObjects& journal,
                           const SnapshotScope& scope) {
  auto rows = scope.everything ? db.query(sql.everything, {journal.schema})
                               : db.query(scope.table_less ? sql.some_tables_and_table_less : sql.some_tables,
                                          {journal.schema, text_array(scope.tables)});
  std::vector<SchemaObject> objects;
  objects.reserve(rows.size());
  for (auto& row : rows) {
    if (row.size() != 4) throw std::logic_error("postgres_snapshot: a row is not kind, name, definition and table");
    objects.push_back(SchemaObject{std::move(row[0]).value_or(""), std::move(row[1]).value_or(""),
                                   std::move(row[2]).value_or(""), std::move(row[3]).value_or("")});
  }
  return Snapshot(std::move(objects));
}

std::map<std::string, long> postgres_object_counts(Database& db, const PgSnapshotSql& sql,
                                                   const ExcludedObjects& journal) {
  auto rows = db.query(sql.counts, {journal.schema});
  constexpr size_t kinds = sizeof(kCountedKinds) / sizeof(kCountedKinds[0]);
  if (rows.size() != 1 || rows[0].size() != kinds)
    throw std::logic_error("postgres_object_counts: not one row of " + std::to_string(kinds) + " counters");
  std::map<std::string, long> counts;
  for (size_t i = 0; i < kinds; ++i) counts[kCountedKinds[i]] = std::stol(rows[0][i].value_or("0"));
  return counts;
}

CatalogCounters postgres_catalog_counters(Database& db) {
  // Each catalog by the kind of object its rows describe; everything of a table (its
  // columns, keys, indexes, triggers, rules, row type) counts as the table's.
  static const char* const kSql = R"SQL(
SELECT k, sum(pg_stat_get_xact_tuples_inserted(c::regclass) + pg_stat_get_xact_tuples_updated(c::regclass)
              + pg_stat_get_xact_tuples_deleted(c::regclass))::text, now()::text
FROM (VALUES ('pg_namespace', 'schema'), ('pg_extension', 'extension'), ('pg_proc', 'routine'),
             ('pg_policy', 'policy'), ('pg_event_trigger', 'event trigger'), ('pg_class', 'table'),
             ('pg_attribute', 'table'), ('pg_attrdef', 'table'), ('pg_constraint', 'table'), ('pg_index', 'table'),
             ('pg_trigger', 'table'), ('pg_type', 'table'), ('pg_rewrite', 'table')) catalogs(c, k)
GROUP BY k
)SQL";
  CatalogCounters counters;
  for (const auto& row : db.query(kSql, {})) {
    counters.rows[row.at(0).value_or("")] = std::stol(row.at(1).value_or("0"));
    counters.transaction = row.at(2).value_or("");
  }
  return counters;
}

}  // namespace installer
