#include "installer/catalog/foreign_updates.hpp"

#include "installer/catalog/foreign_migrations.hpp"
#include "installer/catalog/script_lint.hpp"
#include "installer/util/sha256.hpp"
#include "installer/util/version_order.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace fs = boost::filesystem;

namespace installer {
namespace {

std::string replace_outside(const std::string& name, const char* allowed, size_t max) {
  std::string out;
  for (char c : name.substr(0, max))
    out += std::isalnum(static_cast<unsigned char>(c)) || (c != '\0' && std::strchr(allowed, c)) ? c : '_';
  return out;
}

/// Step names are letters, digits, '_' and '-', starting with a letter or digit.
std::string as_step_name(const std::string& name) {
  std::string step = replace_outside(name, "_-", 255);
  if (step.empty() || !std::isalnum(static_cast<unsigned char>(step[0]))) step = ("m" + step).substr(0, 255);
  return step;
}

/// The statements as a text the installer's splitter splits back into them: what the
/// journal keeps of a down script whose statements the tool itself marked (goose's
/// StatementBegin/End), on MariaDB with a DELIMITER around those holding a ';'.
std::string rejoined(const std::vector<Statement>& statements, SqlDialect dialect) {
  std::string text;
  for (const auto& s : statements) {
    bool needs_delimiter = dialect == SqlDialect::mariadb && s.text.find(';') != std::string::npos;
    if (!needs_delimiter) {
      text += s.text + ";\n";
      continue;
    }
    std::string delimiter = "$$";
    while (s.text.find(delimiter) != std::string::npos) delimiter += "$";
    text += "DELIMITER " + delimiter + "\n" + s.text + "\n" + delimiter + "\nDELIMITER ;\n";
  }
  return text;
}

std::optional<ScriptFile> foreign_script(const ForeignScript& foreign, SqlDialect dialect,
                                         std::vector<Problem>& problems) {
  auto script = script_from_text(foreign.path, foreign.text, dialect, problems);
  if (script && foreign.statements) {
    script->statements = *foreign.statements;
    script->text = rejoined(script->statements, dialect);
  }
  return script;
}

LoadedUpdate foreign_update(ForeignMigration& m, UpdatesFormat format, SqlDialect dialect) {
  LoadedUpdate loaded;
  Update& u = loaded.update;
  std::vector<Problem>& problems = loaded.problems;
  u.id = as_update_id(m.name);
  u.version = m.version;
  u.source = m.up.path;
  u.description = m.description;
  u.origin = {format, m.key, m.project};
  if (auto why = invalid_update_id(u.id)) problems.push_back({m.up.path.string(), 0, *why});
  if (!is_valid_version(u.version))
    problems.push_back({m.up.path.string(), 0, fmt::format("'{}' cannot be ordered as a version", u.version)});
  Step step;
  step.name = as_step_name(m.name);
  step.transactional = m.transactional;
  auto up = foreign_script(m.up, dialect, problems);
  std::optional<ScriptFile> down;
  if (m.down) down = foreign_script(*m.down, dialect, problems);
  if (up) lint_statements(up->statements, dialect, step.transactional, up->path.string(), step.name, problems);
  if (down) lint_statements(down->statements, dialect, step.transactional, down->path.string(), step.name, problems);
  if (!up || (m.down && !down)) return loaded;
  step.up = std::move(*up);
  step.has_down = m.down.has_value();
  if (down) step.down = std::move(*down);
  u.checksum = sha256_hex(step.name + "\n" + step.up.checksum + "\n");
  u.content_checksum = sha256_hex(step.up.checksum + "\n" + step.down.checksum + "\n" + (m.transactional ? "t" : "f"));
  u.steps.push_back(std::move(step));
  loaded.valid = problems.empty();
  return loaded;
}

}  // namespace

std::string as_update_id(const std::string& name) { return replace_outside(name, "._-+@:~,=", 255); }

std::vector<LoadedUpdate> load_foreign_updates(const fs::path& dir, UpdatesFormat format, Engine engine,
                                               std::vector<Problem>& problems) {
  SqlDialect dialect = dialect_for(engine);
  std::vector<LoadedUpdate> updates;
  for (auto& migration : read_foreign_migrations(dir, format, dialect, problems))
    updates.push_back(foreign_update(migration, format, dialect));
  return updates;
}

}  // namespace installer
