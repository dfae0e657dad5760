#include "installer/adopt/release_snapshots.hpp"

#include "installer/journal/snapshot_codec.hpp"
#include "installer/util/error.hpp"
#include "installer/util/file_reading.hpp"
#include "installer/util/sha256.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <boost/filesystem/operations.hpp>
#include <nlohmann/json.hpp>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <regex>

namespace installer {
namespace fs = boost::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kFormat = "installer-snapshots 1";
/// A release's snapshots are text of a few MB even for thousands of tables.
constexpr size_t kMaxSnapshotsFileBytes = size_t{256} << 20;

bool valid_utf8(std::string_view text) {
  try {
    (void)json(std::string(text)).dump();
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

/// A snapshot's text as lines, which a vendor's review reads as diffs; packed when a
/// definition holds bytes JSON cannot carry.
void put_text(json& entry, const char* key, const std::string& text) {
  if (!valid_utf8(text)) {
    entry[key] = {{"packed", pack_snapshot_text(text)}, {"bytes", text.size()}};
    return;
  }
  json lines = json::array();
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  entry[key] = std::move(lines);
}

std::string get_text(const json& value) {
  if (value.is_object())
    return unpack_snapshot_text(value.at("packed").get<std::string>(), value.at("bytes").get<size_t>());
  std::string text;
  for (const auto& line : value) text += line.get<std::string>() + '\n';
  return text;
}

std::string document_checksum(json document) {
  document.erase("checksum");
  return "sha256:" + sha256_hex(document.dump());
}

json to_json(const ReleaseSnapshots& snapshots) {
  json document{{"format", kFormat},
                {"engine", engine_name(snapshots.engine)},
                {"server_version", snapshots.server_version},
                {"server_release", snapshots.server_release},
                {"installer_version", snapshots.installer_version},
                {"updates", json::array()}};
  const Snapshot* before = nullptr;
  for (const auto& e : snapshots.entries) {
    json entry{{"id", e.update_id}, {"checksum", e.checksum}, {"digest", e.schema.short_digest()}};
    // The first in full, each later one as what its update changed: small, and a review
    // of a new release's file shows what each update does to the schema.
    if (before) put_text(entry, "delta", snapshot_delta(*before, e.schema));
    else put_text(entry, "objects", e.schema.serialize());
    document["updates"].push_back(std::move(entry));
    before = &e.schema;
  }
  document["checksum"] = document_checksum(document);
  return document;
}

ReleaseSnapshots from_json(const json& document, Engine engine) {
  if (document.at("format").get<std::string>() != kFormat)
    throw std::invalid_argument("format is not \"" + std::string(kFormat) + "\"");
  if (document.at("checksum").get<std::string>() != document_checksum(document))
    throw std::invalid_argument("its checksum does not match its content: it was damaged or edited by hand");
  ReleaseSnapshots out;
  out.engine = engine;
  out.server_version = document.at("server_version").get<std::string>();
  out.server_release = document.at("server_release").get<std::string>();
  out.installer_version = document.at("installer_version").get<std::string>();
  std::vector<SchemaObject> objects;
  for (const auto& entry : document.at("updates")) {
    if (out.entries.empty()) {
      objects = Snapshot::parse(get_text(entry.at("objects"))).objects();
    } else {
      apply_snapshot_delta(objects, get_text(entry.at("delta")));
    }
    out.entries.push_back(
        {entry.at("id").get<std::string>(), entry.at("checksum").get<std::string>(), Snapshot(objects)});
  }
  return out;
}

void write_all(int fd, const std::string& text, const fs::path& file) {
  for (size_t done = 0; done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw UserError(exit_config, fmt::format("{}: cannot write: {}", file.string(), std::strerror(errno)));
    done += static_cast<size_t>(n);
  }
}

}  // namespace

std::string release_snapshots_file_name(Engine engine) {
  return fmt::format("installer-snapshots.{}.json", engine_name(engine));
}

void write_release_snapshots(const fs::path& file, const ReleaseSnapshots& snapshots) {
  const std::string text = to_json(snapshots).dump(1) + "\n";
  const fs::path temporary = file.string() + fmt::format(".tmp{}", static_cast<long>(getpid()));
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    throw UserError(exit_config, fmt::format("{}: cannot create: {}", temporary.string(), std::strerror(errno)));
  try {
    write_all(fd, text, temporary);
    if (::fsync(fd) != 0)
      throw UserError(exit_config, fmt::format("{}: cannot sync: {}", temporary.string(), std::strerror(errno)));
  } catch (...) {
    ::close(fd);
    ::unlink(temporary.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(temporary.c_str(), file.c_str()) != 0) {
    int error = errno;
    ::unlink(temporary.c_str());
    throw UserError(exit_config, fmt::format("{}: cannot rename into place: {}", file.string(), std::strerror(error)));
  }
}

std::optional<ReleaseSnapshots> read_release_snapshots(const std::vector<fs::path>& dirs, Engine engine) {
  for (const auto& dir : dirs) {
    fs::path file = dir / release_snapshots_file_name(engine);
    boost::system::error_code ec;
    if (!fs::exists(fs::symlink_status(file, ec))) continue;
    std::string why;
    auto text = read_regular_file(file.string(), kMaxSnapshotsFileBytes, why);
    if (!text) throw UserError(exit_data, fmt::format("{}: {}", file.string(), why));
    try {
      ReleaseSnapshots snapshots = from_json(json::parse(*text), engine);
      snapshots.file = file.string();
      return snapshots;
    } catch (const std::exception& e) {
      throw UserError(exit_data, fmt::format("{}: not a file installer verify --record wrote: {}. Record it again "
                                             "with installer verify --record",
                                             file.string(), e.what()));
    }
  }
  return std::nullopt;
}

std::string server_version(Database& db) {
  auto rows = db.query(db.engine() == Engine::postgres ? "SHOW server_version" : "SELECT VERSION()");
  return rows.empty() || rows[0].empty() ? std::string() : rows[0][0].value_or("");
}

std::string server_release(Engine engine, const std::string& version) {
  static const std::regex numbers(R"((\d+)(?:\.(\d+))?)");
  std::smatch m;
  std::string first, second;
  if (std::regex_search(version, m, numbers)) {
    first = m[1];
    second = m[2];
  }
  if (engine == Engine::postgres) {
    // From 10 on the first number is the major release; before, the first two were.
    bool old_scheme = !first.empty() && std::stoi(first) < 10;
    return "PostgreSQL " + first + (old_scheme && !second.empty() ? "." + second : "");
  }
  std::string flavour = version.find("MariaDB") != std::string::npos ? "MariaDB" : "MySQL";
  return flavour + " " + first + (second.empty() ? "" : "." + second);
}

Snapshot portable_snapshot(Database& db, const Snapshot& snapshot) {
  if (db.engine() != Engine::mariadb) return snapshot;
  auto rows = db.query("SELECT DATABASE()");
  std::string name = rows.empty() || rows[0].empty() ? std::string() : rows[0][0].value_or("");
  if (name.empty()) return snapshot;
  std::string qualifier = "`" + name + "`.";
  std::vector<SchemaObject> objects = snapshot.objects();
  bool changed = false;
  for (auto& o : objects) {
    for (size_t at = o.definition.find(qualifier); at != std::string::npos; at = o.definition.find(qualifier, at)) {
      o.definition.erase(at, qualifier.size());
      changed = true;
    }
  }
  return changed ? Snapshot(std::move(objects)) : snapshot;
}

std::string release_neutral_definition(Engine engine, const std::string& definition) {
  std::string out;
  for (char c : definition) {
    bool blank = std::isspace(static_cast<unsigned char>(c));
    if (blank && (out.empty() || out.back() == ' ')) continue;
    out += blank ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  if (engine == Engine::postgres) {
    static const std::regex casts(
        R"(::[a-z_][a-z0-9_]*( (varying|precision|without time zone|with time zone))?(\[\])?)");
    static const std::regex parentheses(R"([()])");
    out = std::regex_replace(std::regex_replace(out, casts, ""), parentheses, "");
  } else {
    static const std::regex widths(R"(\b(tinyint|smallint|mediumint|int|bigint)\(\d+\))");
    static const std::regex now_calls(R"(\b(current_timestamp|now|localtimestamp)\(\))");
    static const std::regex default_null(R"( default null\b)");
    static const std::regex utf8mb3(R"(\butf8mb3)");
    out = std::regex_replace(out, widths, "$1");
    out = std::regex_replace(out, now_calls, "current_timestamp");
    out = std::regex_replace(out, default_null, "");
    out = std::regex_replace(out, utf8mb3, "utf8");
  }
  return out;
}

namespace {

/// `now`'s differences from `recorded`, less those two releases' spellings explain.
std::vector<ObjectDifference> differences(const ReleaseSnapshots& snapshots, const Snapshot& recorded,
                                          const Snapshot& now, const std::string& now_release, size_t& tolerated) {
  std::vector<ObjectDifference> found = now.differences_from(recorded);
  tolerated = 0;
  if (now_release == snapshots.server_release) return found;
  std::vector<ObjectDifference> kept;
  for (auto& d : found) {
    if (d.change == ObjectDifference::Change::changed && release_neutral_definition(snapshots.engine, d.before) ==
                                                             release_neutral_definition(snapshots.engine, d.after)) {
      ++tolerated;
      continue;
    }
    kept.push_back(std::move(d));
  }
  return kept;
}

/// How many of the entries may be compared: while update and checksum are the catalog's.
size_t usable_entries(const ReleaseSnapshots& snapshots, const Catalog& catalog, std::string& stale_from) {
  size_t usable = 0;
  while (usable < snapshots.entries.size() && usable < catalog.updates.size()) {
    const auto& entry = snapshots.entries[usable];
    const Update& update = catalog.updates[usable];
    if (entry.update_id != update.id || entry.checksum != update.checksum) {
      stale_from = entry.update_id;
      break;
    }
    ++usable;
  }
  return usable;
}

}  // namespace

SnapshotMatch match_release_snapshots(const ReleaseSnapshots& snapshots, const Catalog& catalog, const Snapshot& now,
                                      const std::string& now_release) {
  SnapshotMatch match;
  match.usable = usable_entries(snapshots, catalog, match.stale_from);
  // Newest first: an update that changes nothing matches as well as the one before it,
  // and the database has had it if it had the later ones.
  for (size_t i = match.usable; i-- > 0;) {
    const auto& entry = snapshots.entries[i];
    size_t tolerated = 0;
    auto found = differences(snapshots, entry.schema, now, now_release, tolerated);
    if (found.empty()) {
      match.exact = &entry;
      match.closest = &entry;
      match.differences.clear();
      match.tolerated = tolerated;
      return match;
    }
    if (!match.closest || found.size() < match.differences.size()) {
      match.closest = &entry;
      match.differences = std::move(found);
      match.tolerated = tolerated;
    }
  }
  return match;
}

SnapshotMatch match_at(const ReleaseSnapshots& snapshots, const Catalog& catalog, const std::string& id,
                       const Snapshot& now, const std::string& now_release) {
  SnapshotMatch match;
  match.usable = usable_entries(snapshots, catalog, match.stale_from);
  for (size_t i = 0; i < match.usable; ++i) {
    const auto& entry = snapshots.entries[i];
    if (entry.update_id != id) continue;
    match.closest = &entry;
    match.differences = differences(snapshots, entry.schema, now, now_release, match.tolerated);
    if (match.differences.empty()) match.exact = &entry;
  }
  return match;
}

}  // namespace installer
