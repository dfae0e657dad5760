#include "installer/catalog/section_readers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <regex>

namespace fs = boost::filesystem;

namespace installer {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      if (start < text.size()) lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start + 1));
    start = end + 1;
  }
  return lines;
}

bool is_blank_or_comment(const std::string& line) {
  size_t first = line.find_first_not_of(" \t\r\n");
  return first == std::string::npos || line.compare(first, 2, "--") == 0;
}

/// Where each line of a one-file migration goes, built line by line: the line itself to
/// the section it is in, a blank line to the other, so both keep the file's numbering.
struct SectionBuilder {
  const fs::path& path;
  std::vector<Problem>& problems;
  ForeignScript up, down;
  bool seen_up = false, seen_down = false;
  enum class In { nothing, up, down } in = In::nothing;

  void text_line(const std::string& line, int number) {
    if (in == In::nothing && !is_blank_or_comment(line))
      problems.push_back({path.string(), number, "a statement before the up section's marker"});
    up.text += in == In::up ? line : "\n";
    down.text += in == In::down ? line : "\n";
  }
  void marker_line() {
    up.text += "\n";
    down.text += "\n";
  }
  void start(In section, int number, const char* marker) {
    bool& seen = section == In::up ? seen_up : seen_down;
    if (seen) problems.push_back({path.string(), number, fmt::format("a second {} marker", marker)});
    if (section == In::up && seen_down)
      problems.push_back({path.string(), number, fmt::format("{} after the down section", marker)});
    seen = true;
    in = section;
  }
  ForeignMigration finish(const char* up_marker) {
    if (!seen_up) problems.push_back({path.string(), 0, fmt::format("no {} marker: nothing to apply", up_marker)});
    ForeignMigration m;
    up.path = down.path = path;
    m.up = std::move(up);
    if (seen_down) m.down = std::move(down);
    return m;
  }
};

/// Calls on_marker(match, number) for each line `marker` matches (line ends left out),
/// on_text(line, number) for the others.
template <typename OnMarker, typename OnText>
void for_each_line(const std::string& text, const std::regex& marker, OnMarker on_marker, OnText on_text) {
  int number = 0;
  for (const auto& line : lines_of(text)) {
    ++number;
    std::smatch m;
    std::string bare = line.substr(0, line.find_last_not_of("\r\n") + 1);
    if (std::regex_match(bare, m, marker)) on_marker(m, number);
    else on_text(line, number);
  }
}

std::string trimmed(const std::string& s) {
  size_t first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  size_t last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

/// goose's StatementBegin ... StatementEnd: one statement exactly as written, with the
/// final semicolon left out as the installer's splitter leaves it out.
struct GooseBlock {
  int line = 0;
  std::string text;
  void add(const std::string& l, int number) {
    if (line == 0 && !trimmed(l).empty()) line = number;
    text += l;
  }
  std::optional<Statement> statement() const {
    std::string t = trimmed(text);
    if (!t.empty() && t.back() == ';') t = trimmed(t.substr(0, t.size() - 1));
    if (t.empty()) return std::nullopt;
    return Statement{t, line};
  }
};

/// The installer's splitting of what lies outside the blocks (their lines blank in
/// `outside`), and the blocks, in the file's order.
void set_goose_statements(ForeignScript& script, const std::string& outside, std::vector<Statement> blocks,
                          SqlDialect dialect, std::vector<Problem>& problems) {
  if (blocks.empty()) return;  // split as any script is
  try {
    for (auto& s : split_sql(outside, dialect)) blocks.push_back(std::move(s));
  } catch (const SqlSplitError& e) {
    problems.push_back({script.path.string(), e.line(), e.what()});
    return;
  }
  std::stable_sort(blocks.begin(), blocks.end(),
                   [](const Statement& a, const Statement& b) { return a.line < b.line; });
  script.statements = std::move(blocks);
}

std::string lowered_words(const std::string& s) {
  std::string out;
  for (char c : trimmed(s)) {
    if (c == ' ' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

}  // namespace

ForeignMigration read_dbmate_file(const fs::path& path, const std::string& text, std::vector<Problem>& problems) {
  static const std::regex marker(R"(^[ \t]*--[ \t]*migrate:(up|down)\b(.*?)\s*$)");
  SectionBuilder b{path, problems, {}, {}};
  bool transactional = true;
  auto on_marker = [&](const std::smatch& m, int number) {
    b.marker_line();
    bool up = m[1] == "up";
    b.start(up ? SectionBuilder::In::up : SectionBuilder::In::down, number, up ? "-- migrate:up" : "-- migrate:down");
    if (up && trimmed(m[2]).find("transaction:false") != std::string::npos) transactional = false;
  };
  for_each_line(text, marker, on_marker, [&](const std::string& line, int number) { b.text_line(line, number); });
  ForeignMigration migration = b.finish("-- migrate:up");
  migration.transactional = transactional;
  return migration;
}

ForeignMigration read_goose_file(const fs::path& path, const std::string& text, SqlDialect dialect,
                                 std::vector<Problem>& problems) {
  static const std::regex marker(R"(^[ \t]*--[ \t]*\+goose[ \t]+(.*?)\s*$)");
  SectionBuilder b{path, problems, {}, {}};
  bool transactional = true;
  std::optional<GooseBlock> open;
  int open_at = 0;
  std::vector<Statement> up_blocks, down_blocks;
  std::string up_outside, down_outside;
  auto on_text = [&](const std::string& line, int number) {
    b.text_line(line, number);
    if (open) open->add(line, number);
    up_outside += !open && b.in == SectionBuilder::In::up ? line : "\n";
    down_outside += !open && b.in == SectionBuilder::In::down ? line : "\n";
  };
  auto on_marker = [&](const std::smatch& m, int number) {
    b.marker_line();
    up_outside += "\n";
    down_outside += "\n";
    std::string word = lowered_words(m[1]);
    auto problem = [&](std::string message) { problems.push_back({path.string(), number, std::move(message)}); };
    if (word == "up" || word == "down") {
      if (open) problem(fmt::format("-- +goose {} inside the StatementBegin of line {}", m[1].str(), open_at));
      b.start(word == "up" ? SectionBuilder::In::up : SectionBuilder::In::down, number,
              word == "up" ? "-- +goose Up" : "-- +goose Down");
    } else if (word == "statementbegin") {
      if (open) problem(fmt::format("StatementBegin inside the StatementBegin of line {}", open_at));
      if (b.in == SectionBuilder::In::nothing) problem("StatementBegin before -- +goose Up");
      open.emplace();
      open_at = number;
    } else if (word == "statementend") {
      if (!open) return problem("StatementEnd without a StatementBegin");
      if (auto statement = open->statement())
        (b.in == SectionBuilder::In::up ? up_blocks : down_blocks).push_back(std::move(*statement));
      open.reset();
    } else if (word == "no transaction") {
      transactional = false;
    } else if (word.rfind("envsub", 0) == 0) {
      problem("-- +goose ENVSUB is not supported: the installer runs a script as it is written");
    } else {
      problem(fmt::format("unknown goose annotation '-- +goose {}'", m[1].str()));
    }
  };
  for_each_line(text, marker, on_marker, on_text);
  if (open)
    problems.push_back({path.string(), open_at, "StatementBegin without a StatementEnd before the end of the file"});
  ForeignMigration migration = b.finish("-- +goose Up");
  migration.transactional = transactional;
  set_goose_statements(migration.up, up_outside, std::move(up_blocks), dialect, problems);
  if (migration.down) set_goose_statements(*migration.down, down_outside, std::move(down_blocks), dialect, problems);
  return migration;
}

}  // namespace installer
