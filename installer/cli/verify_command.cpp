#include "installer/cli/verify_command.hpp"

#include "installer/adopt/release_snapshots.hpp"
#include "installer/catalog/catalog.hpp"
#include "installer/catalog/release_lint.hpp"
#include "installer/cli/connect.hpp"
#include "installer/cli/session.hpp"
#include "installer/os/signals.hpp"
#include "installer/util/error.hpp"
#include "installer/util/log.hpp"
#include "installer/util/redact.hpp"
#include "installer/verify/verifier.hpp"

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>

namespace installer {
namespace {

constexpr const char* kScratchBase = "installer_verify";

class CliScratchServer;

class CliScratchSession : public ScratchSession {
 public:
  CliScratchSession(Session session, CliScratchServer& server) : session_(std::move(session)), server_(server) {}
  ~CliScratchSession() override;
  CliScratchSession(const CliScratchSession&) = delete;
  CliScratchSession& operator=(const CliScratchSession&) = delete;
  EngineContext& ctx() override { return *session_.ctx; }
  Database& db() { return *session_.db; }

 private:
  Session session_;
  CliScratchServer& server_;
};

/// One --scratch-url: an administrator's session for CREATE and DROP DATABASE, and a
/// session of the same user on each scratch database.
class CliScratchServer : public ScratchServer {
 public:
  CliScratchServer(const Settings& settings, ConnectionSpec server, const std::atomic<int>* stop)
      : settings_(settings), stop_(stop) {
    settings_.connection = std::move(server);
    settings_.has_connection = true;
    settings_.admin.reset();
  }

  Engine engine() const override { return settings_.connection.engine; }
  std::string describe() const override { return settings_.connection.redacted_url(); }

  std::unique_ptr<ScratchSession> create(const std::string& name) override {
    admin().create_database_if_missing(name, "");
    Settings on = settings_;
    on.connection.database = name;
    auto session = std::make_unique<CliScratchSession>(open_session(on), *this);
    session->ctx().stop_signal = stop_;
    session->ctx().journal.ensure();
    std::lock_guard<std::mutex> lock(mutex_);
    live_.insert(&session->db());
    return session;
  }

  void drop(const std::string& name) noexcept override {
    try {
      admin().drop_database(name);
    } catch (const std::exception&) {
      try {
        admin_.reset();  // a cancelled or broken session: once more on a new one
        admin().drop_database(name);
      } catch (const std::exception& e) {
        log::error("could not drop scratch database {} on {}: {}", name, describe(), e.what());
      }
    }
  }

  /// Forgets a session that is gone (ScratchSession's destructor runs first).
  void forget(Database* db) {
    std::lock_guard<std::mutex> lock(mutex_);
    live_.erase(db);
  }

  /// From the signal thread: the statements running now end, so a stop is quick.
  void cancel_all() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (Database* db : live_) db->cancel_current_statement();
  }

  /// The database the URL names, when it is one verify must not touch.
  void refuse_foreign_database(const std::string& named) {
    if (named.empty() || named == default_admin_database(engine()) || named == "information_schema" ||
        is_scratch_name(named, kScratchBase))
      return;
    if (!admin().database_exists(named)) return;
    throw UserError(exit_config,
                    fmt::format("the scratch URL {} names database '{}', which exists and is not one of installer "
                                "verify's: verify creates and drops databases of its own there. Give the server's URL "
                                "without a database, or name one that does not exist (it becomes the scratch "
                                "databases' prefix)",
                                describe(), named));
  }

 private:
  Database& admin() {
    if (!admin_) {
      Settings admin = settings_;
      // A MariaDB user allowed only the scratch databases may not open `mysql`; every
      // user may open information_schema.
      admin.connection.database = engine() == Engine::postgres ? default_admin_database(engine())
                                                               : "information_schema";
      admin_ = wait_for_database(admin, stop_);
    }
    return *admin_;
  }

  Settings settings_;
  const std::atomic<int>* stop_;
  std::unique_ptr<Database> admin_;
  std::mutex mutex_;
  std::set<Database*> live_;
};

CliScratchSession::~CliScratchSession() { server_.forget(&db()); }

std::vector<ConnectionSpec> scratch_servers(const Settings& s) {
  if (!s.verify_scratch.empty()) return s.verify_scratch;
  if (s.admin) return {*s.admin};
  throw UserError(exit_config,
                  "installer verify needs a server where it may create and drop scratch databases: give --scratch-url "
                  "URL (INSTALLER_VERIFY_SCRATCH_URL) or INSTALLER_DB_ADMIN_URL. installer plan shows the static "
                  "warnings without a database");
}

/// A line per update, but not more than one a second on a fast run.
std::function<void(const std::string&)> progress_printer() {
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  return [last](const std::string& line) {
    auto now = std::chrono::steady_clock::now();
    if (now - *last < std::chrono::seconds(1)) return;
    *last = now;
    std::cerr << redact(line) << "\n" << std::flush;
  };
}

/// verify --record: the schema after each update, collected as the round trips pass.
ReleaseSnapshots::Entry snapshot_entry(const Update& update, ScratchSession& db, const Snapshot& schema) {
  return {update.id, update.checksum, portable_snapshot(db.ctx().db, schema)};
}

void verify_on(const Settings& s, const Arguments& args, ConnectionSpec server, StopWatcher& watcher,
               VerifyReport& report, std::vector<ReleaseSnapshots>& recorded) {
  Engine engine = server.engine;
  std::string named = server.database;
  std::vector<boost::filesystem::path> dirs(s.update_dirs.begin(), s.update_dirs.end());
  Catalog catalog = load_catalog(dirs, engine, s.update_formats, s.trusted_keys);
  std::optional<Catalog> previous;
  if (!args.from_dirs.empty())
    previous = load_catalog({args.from_dirs.begin(), args.from_dirs.end()}, engine, s.update_formats, s.trusted_keys);
  for (auto& w : release_warnings(catalog, engine)) report.warnings.emplace_back(engine_name(engine), std::move(w));

  CliScratchServer scratch(s, std::move(server), &watcher.stop_signal());
  scratch.refuse_foreign_database(named);
  watcher.set_canceller([&scratch] { scratch.cancel_all(); });
  struct Uncancel {
    StopWatcher& watcher;
    ~Uncancel() { watcher.set_canceller({}); }
  } uncancel{watcher};
  std::string base = named.empty() || named == default_admin_database(engine) ? kScratchBase : named;
  ScratchPool pool(scratch, scratch_prefix(base));
  VerifyOptions options;
  options.previous = previous ? &*previous : nullptr;
  options.stop = &watcher.stop_signal();
  options.progress = progress_printer();
  std::vector<std::optional<ReleaseSnapshots::Entry>> entries(catalog.updates.size());
  std::string version;
  if (args.record)
    options.applied = [&](size_t index, ScratchSession& db, const Snapshot& schema) {
      entries[index] = snapshot_entry(catalog.updates[index], db, schema);
      if (version.empty()) version = server_version(db.ctx().db);
    };
  Verifier(pool, catalog, options, report).run();
  if (!args.record) return;
  ReleaseSnapshots snapshots;
  snapshots.engine = engine;
  snapshots.server_version = version;
  snapshots.server_release = server_release(engine, version);
  snapshots.installer_version = INSTALLER_VERSION;
  for (auto& e : entries)
    if (e) snapshots.entries.push_back(std::move(*e));
  // Only a release whose every update passed: a gap would make adoption guess.
  if (snapshots.entries.size() == catalog.updates.size() && !catalog.updates.empty())
    recorded.push_back(std::move(snapshots));
}

/// Writes what verify --record collected, only when the whole run passed.
void write_recorded(const Settings& s, const std::vector<ReleaseSnapshots>& recorded, VerifyReport& report) {
  if (!report.ok()) {
    report.recorded.push_back("nothing written: the release did not pass");
    return;
  }
  for (const auto& snapshots : recorded) {
    boost::filesystem::path file = boost::filesystem::path(s.update_dirs.front()) /
                                   release_snapshots_file_name(snapshots.engine);
    write_release_snapshots(file, snapshots);
    report.recorded.push_back(fmt::format("wrote {} ({} update{}, {} {})", file.string(), snapshots.entries.size(),
                                          snapshots.entries.size() == 1 ? "" : "s", engine_name(snapshots.engine),
                                          snapshots.server_version));
  }
  if (recorded.empty()) report.recorded.push_back("nothing written: no update was checked");
}

/// Before any escaping for JSON or XML: the scrubber knows a secret's escaped forms for
/// JSON, not XML's entities.
void scrub(VerifyReport& report) {
  for (auto& check : report.checks) {
    check.failure = redact(check.failure);
    check.name = redact(check.name);
  }
  for (auto& [engine, warning] : report.warnings) {
    warning.message = redact(warning.message);
    warning.file = redact(warning.file);
  }
}

}  // namespace

int do_verify(const Settings& settings, const Arguments& args) {
  if (settings.update_dirs.empty())
    throw UserError(exit_usage, "installer verify: give the release's update directories with --updates DIR");
  std::vector<ConnectionSpec> servers = scratch_servers(settings);
  block_signals();
  // Scratch databases only: a stop cancels the running statement at once.
  StopWatcher watcher(std::chrono::milliseconds(0));
  VerifyReport report;
  report.strict = args.strict;
  // Each check applies and reverts on purpose; the engine's own lines for that would
  // bury the report.
  if (settings.log_level != "debug") log::set_level(log::Level::error);
  std::vector<ReleaseSnapshots> recorded;
  for (auto& server : servers) {
    if (watcher.stop_signal().load() != 0) break;
    verify_on(settings, args, server, watcher, report, recorded);
  }
  report.stopped_by = watcher.stop_signal().load();
  if (args.record) write_recorded(settings, recorded, report);
  scrub(report);
  std::ostringstream out;
  if (args.json) print_verify_json(out, report);
  else print_verify_text(out, report);
  std::cout << redact(out.str()) << std::flush;
  if (!args.junit_file.empty()) {
    std::ostringstream xml;
    print_verify_junit(xml, report);
    std::ofstream file(args.junit_file, std::ios::binary | std::ios::trunc);
    file << redact(xml.str());
    if (!file.flush()) throw UserError(exit_config, fmt::format("--junit {}: cannot write the file", args.junit_file));
  }
  if (report.stopped_by) return 128 + report.stopped_by;
  return report.ok() ? exit_ok : 1;
}

}  // namespace installer
