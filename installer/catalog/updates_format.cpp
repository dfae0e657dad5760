#include "installer/catalog/updates_format.hpp"

#include "installer/catalog/foreign_files.hpp"
#include "installer/catalog/script_text.hpp"
#include "installer/util/file_reading.hpp"

#include <fmt/format.h>
#include <boost/filesystem.hpp>

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>

namespace fs = boost::filesystem;

namespace installer {

namespace {

struct FormatName {
  UpdatesFormat format;
  const char* name;
};
constexpr FormatName kFormatNames[] = {
    {UpdatesFormat::installer, "installer"}, {UpdatesFormat::golang_migrate, "golang-migrate"},
    {UpdatesFormat::dbmate, "dbmate"},       {UpdatesFormat::goose, "goose"},
    {UpdatesFormat::flyway, "flyway"},       {UpdatesFormat::sqitch, "sqitch"},
};

bool has_marker(const std::string& text, const std::regex& marker) { return std::regex_search(text, marker); }

/// What the file's own name and first lines say it is; nothing for files no tool owns.
std::optional<UpdatesFormat> format_of_file(const fs::path& path) {
  static const std::regex golang(R"(^\d+_.*\.(up|down)\.sql$)");
  static const std::regex flyway(R"(^[VU]\d+([._]\d+)*__.+\.sql$)");
  static const std::regex numbered(R"(^\d+.*\.sql$)");
  static const std::regex goose_marker(R"((^|\n)[ \t]*--[ \t]*\+goose[ \t]+(up|down)\b)", std::regex::icase);
  static const std::regex dbmate_marker(R"((^|\n)[ \t]*--[ \t]*migrate:(up|down)\b)");
  std::string name = path.filename().string();
  if (std::regex_match(name, golang)) return UpdatesFormat::golang_migrate;
  if (std::regex_match(name, flyway)) return UpdatesFormat::flyway;
  if (!std::regex_match(name, numbered)) return std::nullopt;
  std::string why;
  auto text = read_regular_file(path.string(), kMaxScriptBytes, why);
  if (!text) return std::nullopt;  // the reader reports it
  if (has_marker(*text, goose_marker)) return UpdatesFormat::goose;
  if (has_marker(*text, dbmate_marker)) return UpdatesFormat::dbmate;
  return std::nullopt;
}

}  // namespace

const char* to_string(UpdatesFormat format) {
  for (const auto& f : kFormatNames)
    if (f.format == format) return f.name;
  return "installer";
}

std::optional<UpdatesFormat> parse_updates_format(const std::string& text) {
  for (const auto& f : kFormatNames)
    if (text == f.name) return f.format;
  return std::nullopt;
}

std::string updates_format_names() {
  std::string names;
  for (const auto& f : kFormatNames) names += (names.empty() ? "" : ", ") + std::string(f.name);
  return names;
}

std::optional<UpdatesFormat> FormatChoice::for_directory(const fs::path& dir) const {
  if (auto it = by_directory.find(dir.string()); it != by_directory.end()) return it->second;
  return all;
}

std::optional<UpdatesFormat> detect_updates_format(const fs::path& dir, std::vector<Problem>& problems) {
  boost::system::error_code ec;
  if (fs::is_regular_file(dir / "sqitch.plan", ec)) return UpdatesFormat::sqitch;
  std::set<UpdatesFormat> found;
  std::vector<Problem> reported_by_the_reader;  // a listing that fails is reported when the folder is read
  for (const auto& file : files_in(dir, reported_by_the_reader))
    if (auto format = format_of_file(file)) found.insert(*format);
  if (found.empty()) return UpdatesFormat::installer;
  if (found.size() == 1) return *found.begin();
  std::string names;
  for (auto f : found) names += (names.empty() ? "" : " and ") + std::string(to_string(f));
  problems.push_back({dir.string(), 0,
                      fmt::format("holds migrations named or marked as {} would write them: name the directory's "
                                  "format with --updates-format {}=FORMAT ({})",
                                  names, dir.string(), updates_format_names())});
  return std::nullopt;
}

}  // namespace installer
