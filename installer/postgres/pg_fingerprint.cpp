#include "installer/postgres/pg_database.hpp"

namespace installer {
namespace {

// The namespaces looked at; schemas, extensions and relations (tables, views, sequences, types).
const char* const kSchemasAndRelations = R"SQL(
WITH ns AS (
  SELECT oid, nspname FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\_toast%'
    AND nspname NOT LIKE 'pg\_temp\_%' AND nspname <> $1
),
ext_objects AS (
  SELECT objid FROM pg_depend WHERE deptype = 'e'
),
items(kind, item) AS (
  -- The first branch fixes the column types for the whole UNION: text, not name,
  -- or every description would be cut at 63 characters.
  SELECT 'schema'::text, nspname::text FROM ns
  UNION ALL
  SELECT 'extension', e.extname || ' ' || e.extversion || ' in ' || n.nspname
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
  UNION ALL
  SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'view' WHEN 'S' THEN 'sequence' WHEN 'c' THEN 'type'
                        ELSE 'table' END,
         n.nspname || '.' || c.relname || ' kind=' || c.relkind::text || ' persistence=' || c.relpersistence::text
           || ' rls=' || c.relrowsecurity
           || CASE WHEN c.relkind IN ('v', 'm') THEN ' def=' || md5(pg_get_viewdef(c.oid)) ELSE '' END
           || CASE WHEN c.relispartition THEN ' partition=' || pg_get_expr(c.relpartbound, c.oid) ELSE '' END
    FROM pg_class c JOIN ns n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c') AND c.oid NOT IN (SELECT objid FROM ext_objects)
  UNION ALL
)SQL";

// Columns, constraints, indexes, sequence settings and routines.
const char* const kColumnsToSequences =
    R"SQL(  SELECT 'column', n.nspname || '.' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
           || ' notnull=' || a.attnotnull || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
           || ' identity=' || a.attidentity::text || ' generated=' || a.attgenerated::text
           || ' collation=' || coalesce((SELECT co.collname FROM pg_collation co WHERE co.oid = a.attcollation), '')
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN ns n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'c')
      AND c.oid NOT IN (SELECT objid FROM ext_objects)
  UNION ALL
  SELECT 'constraint', n.nspname || '.' || coalesce(cl.relname, t.typname) || ' ' || con.conname || ' '
           || pg_get_constraintdef(con.oid) || ' deferrable=' || con.condeferrable || ' deferred=' || con.condeferred
    FROM pg_constraint con
    JOIN ns n ON n.oid = con.connamespace
    LEFT JOIN pg_class cl ON cl.oid = con.conrelid
    LEFT JOIN pg_type t ON t.oid = con.contypid
  UNION ALL
  SELECT 'index', pg_get_indexdef(i.indexrelid) || ' valid=' || i.indisvalid || ' clustered=' || i.indisclustered
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN ns n ON n.oid = c.relnamespace
  UNION ALL
  SELECT 'sequence', n.nspname || '.' || c.relname || ' ' || format_type(s.seqtypid, NULL) || ' start=' || s.seqstart
           || ' increment=' || s.seqincrement || ' min=' || s.seqmin || ' max=' || s.seqmax || ' cache=' || s.seqcache
           || ' cycle=' || s.seqcycle
    FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN ns n ON n.oid = c.relnamespace
  UNION ALL
  SELECT 'routine', n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') '
           || coalesce(pg_get_function_result(p.oid), '') || ' kind=' || p.prokind::text || ' lang=' || l.lanname
           || ' volatility=' || p.provolatile::text || ' security_definer=' || p.prosecdef || ' strict=' || p.proisstrict
           || ' body=' || md5(coalesce(p.prosrc, '') || @SQLBODY@)
           || ' config=' || coalesce(array_to_string(p.proconfig, ','), '')
    FROM pg_proc p JOIN ns n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
    WHERE p.oid NOT IN (SELECT objid FROM ext_objects)
  UNION ALL
)SQL";

// Triggers, types, policies and rules; then one row per kind.
const char* const kCodeAndRules = R"SQL(  SELECT 'trigger', pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN ns n ON n.oid = c.relnamespace
    WHERE NOT t.tgisinternal
  UNION ALL
  SELECT 'type', n.nspname || '.' || t.typname || ' typtype=' || t.typtype::text
           || CASE t.typtype
                WHEN 'e' THEN ' labels=' || coalesce((SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                                                      FROM pg_enum e WHERE e.enumtypid = t.oid), '')
                WHEN 'd' THEN ' base=' || format_type(t.typbasetype, t.typtypmod) || ' notnull=' || t.typnotnull
                              || ' default=' || coalesce(t.typdefault, '')
                ELSE '' END
    FROM pg_type t JOIN ns n ON n.oid = t.typnamespace
    WHERE t.typtype IN ('e', 'd', 'r', 'm', 'b') AND t.typelem = 0 AND t.oid NOT IN (SELECT objid FROM ext_objects)
  UNION ALL
  SELECT 'policy', n.nspname || '.' || c.relname || ' ' || pol.polname || ' cmd=' || pol.polcmd::text
           || ' permissive=' || pol.polpermissive || ' using=' || coalesce(pg_get_expr(pol.polqual, pol.polrelid), '')
           || ' check=' || coalesce(pg_get_expr(pol.polwithcheck, pol.polrelid), '')
    FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN ns n ON n.oid = c.relnamespace
  UNION ALL
  SELECT 'rule', n.nspname || '.' || c.relname || ' ' || r.rulename || ' ' || md5(pg_get_ruledef(r.oid))
    FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN ns n ON n.oid = c.relnamespace
    WHERE r.rulename <> '_RETURN'
)
SELECT kind, count(*), md5(string_agg(item, E'\n' ORDER BY item COLLATE "C"))
FROM items GROUP BY kind ORDER BY kind
)SQL";

}  // namespace

// Column order is left out on purpose: PostgreSQL cannot put a re-added column back in
// its old place, so a correct down script could never match it. Extension-owned objects
// are left to the extension row. Everything is sorted in the C collation so the digest
// does not depend on the server's locale.
std::string postgres_fingerprint_sql(int server_version) {
  // SQL-standard bodies (BEGIN ATOMIC, PostgreSQL 14+) are not in prosrc.
  std::string body = server_version >= 140000 ? "coalesce(pg_get_function_sqlbody(p.oid), '')" : "''";
  std::string sql = std::string(kSchemasAndRelations) + kColumnsToSequences + kCodeAndRules;
  sql.replace(sql.find("@SQLBODY@"), 9, body);
  return sql;
}

}  // namespace installer
