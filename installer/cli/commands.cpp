#include "installer/cli/commands.hpp"

#include "installer/catalog/catalog.hpp"
#include "installer/catalog/problems.hpp"
#include "installer/cli/connect.hpp"
#include "installer/cli/reports.hpp"
#include "installer/cli/settings.hpp"
#include "installer/db/db_error.hpp"
#include "installer/db/lock_wait.hpp"
#include "installer/engine/fault_injection.hpp"
#include "installer/engine/migrator.hpp"
#include "installer/engine/statement_runner.hpp"
#include "installer/health/health_server.hpp"
#include "installer/install/config_drift.hpp"
#include "installer/install/hooks.hpp"
#include "installer/install/templates.hpp"
#include "installer/health/status_board.hpp"
#include "installer/journal/journal_tables.hpp"
#include "installer/os/child_process.hpp"
#include "installer/os/signals.hpp"
#include "installer/os/supervisor.hpp"
#include "installer/os/user_identity.hpp"
#include "installer/journal/sql_journal.hpp"
#include "installer/util/duration.hpp"
#include "installer/util/error.hpp"
#include "installer/util/log.hpp"
#include "installer/util/redact.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <cerrno>
#include <optional>
#include <cstring>
#include <iostream>
#include <sstream>

namespace installer {
namespace {

/// A first install can apply hundreds of updates; a log line names a handful of them.
std::string abbreviated_list(const std::vector<std::string>& ids) {
  constexpr size_t shown_at_each_end = 3;
  if (ids.size() <= 2 * shown_at_each_end + 1) return fmt::format("{}", fmt::join(ids, ", "));
  return fmt::format("{}, ... {} more ..., {}", fmt::join(ids.begin(), ids.begin() + shown_at_each_end, ", "),
                     ids.size() - 2 * shown_at_each_end, fmt::join(ids.end() - shown_at_each_end, ids.end(), ", "));
}

std::string host_name() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof buffer - 1) != 0) return "unknown";
  return buffer;
}

std::vector<boost::filesystem::path> dirs_of(const Settings& s) {
  return {s.update_dirs.begin(), s.update_dirs.end()};
}

/// Holds the migration lock for a scope; the session's end releases it too.
class LockGuard {
 public:
  LockGuard(Database& db, const Settings& s, const std::atomic<int>* stop = nullptr)
      : db_(db), key_("journal:" + s.journal_schema) {
    LockWait waited = wait_for_lock(db_, key_, s.lock_timeout, stop);
    if (waited == LockWait::stopped)
      throw UserError(static_cast<ExitCode>(128 + stop->load()),
                      fmt::format("{} received while waiting for the migration lock: nothing was changed",
                                  signal_name(stop->load())));
    if (waited == LockWait::timed_out) {
      std::string holder;
      try {
        holder = db_.describe_lock_holder(key_);
      } catch (const std::exception&) {
        // Only a nicety for the message.
      }
      throw UserError(exit_tempfail,
                      fmt::format("another installer held the migration lock for longer than the lock timeout ({}); "
                                  "it may still be applying updates.{} Nothing was changed. Start again later, or "
                                  "raise --lock-timeout (INSTALLER_LOCK_TIMEOUT).",
                                  format_duration(s.lock_timeout),
                                  holder.empty() ? "" : "\n  held by " + holder + "\n "));
    }
    log::debug("migration lock acquired");
  }
  ~LockGuard() {
    try {
      db_.release_lock(key_);
    } catch (...) {
      // The server releases it when the session ends.
    }
  }

 private:
  Database& db_;
  std::string key_;
};

struct Session {
  std::unique_ptr<Database> db;
  std::unique_ptr<SqlJournal> journal;
  std::unique_ptr<EngineContext> ctx;
};

Session open_session(const Settings& s, bool wait = false, const std::atomic<int>* stop = nullptr) {
  Session session;
  session.db = wait ? wait_for_database(s, stop) : connect_database(s);
  session.journal = std::make_unique<SqlJournal>(*session.db, s.journal_schema);
  session.ctx = std::make_unique<EngineContext>(EngineContext{*session.db, *session.journal, s.journal_schema, host_name()});
  session.ctx->partial_revert = partial_revert_from_environment();
  return session;
}

/// What install and update need from the process around them: who to tell about
/// progress, and where a stop request shows up.
struct RunContext {
  StatusBoard* board = nullptr;
  StopWatcher* watcher = nullptr;
};

/// One pass of the update phase on a fresh session: recover, check, apply.
/// Templates, default configuration files and install hooks: before the updates, under
/// the migration lock.
void run_install_phase(const Settings& s, EngineContext& ctx) {
  // A problem with the defaults must not come to light after the templates were written.
  if (!s.defaults_dir.empty() && !s.templates_dir.empty()) sync_defaults(s.defaults_dir, s.config_dir, /*dry_run=*/true);
  if (!s.templates_dir.empty()) {
    auto written = render_templates(s.templates_dir, s.config_dir, environment_variables());
    log::info("rendered {} configuration file{} into {}", written.size(), written.size() == 1 ? "" : "s", s.config_dir);
  }
  if (!s.defaults_dir.empty()) {
    for (const auto& file : sync_defaults(s.defaults_dir, s.config_dir)) {
      if (file.outcome == DefaultFile::Outcome::drifted)
        log::warn("{} was changed here, and this image's default for it changed too: your file is kept; the new "
                  "default is in {}.new to merge by hand",
                  file.path.string(), file.path.string());
      else if (file.outcome == DefaultFile::Outcome::installed || file.outcome == DefaultFile::Outcome::upgraded)
        log::info("{} default configuration file {}", file.outcome == DefaultFile::Outcome::installed ? "installed" : "upgraded",
                  file.path.string());
    }
  }
  if (!s.hooks_dir.empty()) run_install_hooks(ctx, s.hooks_dir, s.grace / 2);  // as a statement is cancelled
}

MigrateSummary migrate_once(const Settings& s, const Catalog& catalog, const RunContext& run,
                            const std::string& commit_in_doubt = {}) {
  if (run.board) run.board->set_phase(Phase::waiting_for_db);
  const std::atomic<int>* stop = run.watcher ? &run.watcher->stop_signal() : nullptr;
  ensure_database_exists(s, stop);
  Session session = open_session(s, /*wait=*/true, stop);
  session.ctx->observer = run.board;
  session.ctx->fault = fault_point();
  if (run.watcher) {
    session.ctx->stop_signal = &run.watcher->stop_signal();
    Database* db = session.db.get();
    run.watcher->set_canceller([db] { db->cancel_current_statement(); });
  }
  struct ForgetCanceller {
    StopWatcher* watcher;
    ~ForgetCanceller() {
      if (watcher) watcher->set_canceller({});
    }
  } forget{run.watcher};
  if (run.board) run.board->set_phase(Phase::installing);
  LockGuard lock(*session.db, s, run.watcher ? &run.watcher->stop_signal() : nullptr);
  if (!commit_in_doubt.empty()) {
    auto attempts = session.journal->exists() ? session.journal->load() : std::vector<AttemptRecord>{};
    auto latest = latest_attempts(attempts);
    auto it = latest.find(commit_in_doubt);
    const char* verdict = "did not happen: nothing of the update is in the database";
    if (it != latest.end() && it->second->state == UpdateState::applied)
      verdict = "went through: the update is applied";
    else if (it != latest.end() &&
             (it->second->state == UpdateState::applying || it->second->state == UpdateState::reverting))
      verdict = "did not happen: the parts of the update that had committed before it are reverted now";
    log::info("the journal says the commit of update {} {}", commit_in_doubt, verdict);
  }
  session.journal->ensure();
  run_install_phase(s, *session.ctx);
  Migrator migrator(*session.ctx, catalog);
  MigrateOptions options;
  options.auto_remove_unknown = s.auto_remove_unknown;
  options.fingerprint_limit = s.fingerprint_limit;
  return migrator.migrate(options);
}

bool session_lost(const std::exception& e) {
  if (auto* db = dynamic_cast<const DbError*>(&e)) return !db->session_usable() && db->failure() != DbFailure::auth;
  if (auto* st = dynamic_cast<const StatementError*>(&e)) return st->failure().failure != DbFailure::statement;
  return false;
}

int do_migrate(const Settings& s, const RunContext& run = {}) {
  if (!s.has_connection) connect_database(s);  // reports the missing configuration first
  Catalog catalog = load_catalog(dirs_of(s), s.connection.engine);
  log::info("found {} update{} in {}", catalog.updates.size(), catalog.updates.size() == 1 ? "" : "s",
            fmt::join(s.update_dirs, ":"));
  const int attempts = 3;
  std::string in_doubt;
  for (int attempt = 1;; ++attempt) {
    try {
      MigrateSummary summary = migrate_once(s, catalog, run, in_doubt);
      if (!summary.applied.empty())
        log::info("done: applied {} update{} ({})", summary.applied.size(), summary.applied.size() == 1 ? "" : "s",
                  abbreviated_list(summary.applied));
      if (run.board) run.board->set_journal_summary(summary.applied_total, 0);
      return exit_ok;
    } catch (const CommitInDoubt& e) {
      if (attempt >= attempts) throw;
      log::warn("the connection broke while the commit of update {} was in flight: reconnecting to read the journal "
                "before doing anything else",
                e.update_id());
      in_doubt = e.update_id();
    } catch (const std::exception& e) {
      bool stopping = run.watcher && run.watcher->stop_signal().load() != 0;
      if (!session_lost(e) || attempt >= attempts || stopping) throw;
      // The server rolled back what was not committed and dropped the lock; the journal
      // says what did commit, and the next pass starts by finishing what was left.
      log::warn("lost the database session ({}): reconnecting; the journal decides what happens next", e.what());
    }
  }
}

/// Install and update with stop signals turned into a clean revert, the health endpoint
/// up and progress logged. Returns the exit code, and fills `board`.
int guarded_migrate(const Settings& s, StatusBoard& board, StopWatcher& watcher) {
  ProgressLog progress(board, s.progress_interval);
  try {
    int code = do_migrate(s, {&board, &watcher});
    if (int sig = watcher.stop_signal().load(); sig != 0) {
      board.set_phase(Phase::stopping);
      log::warn("{} received during the update phase: not starting the application", signal_name(sig));
      return 128 + sig;
    }
    return code;
  } catch (const std::exception& e) {
    board.set_error(redact(e.what()));
    board.set_phase(Phase::failed);
    throw;
  }
}

int do_run(const Settings& s, const std::vector<std::string>& command) {
  block_signals();  // before any thread exists, so every signal waits for us
  become_subreaper();
  std::optional<UserIdentity> user;
  if (!s.user.empty()) user = resolve_user(s.user);
  StatusBoard board;
  std::optional<HealthServer> health;
  if (!s.health_listen.empty()) health.emplace(board, s.health_listen);
  {
    StopWatcher watcher(s.grace / 2);
    int code = guarded_migrate(s, board, watcher);
    if (code != exit_ok) return code;
    // A stop that arrived after the check in guarded_migrate, before the watcher let go.
    watcher.finish();
    if (int sig = watcher.stop_signal().load(); sig != 0) {
      board.set_phase(Phase::stopping);
      log::warn("{} received as the update phase ended: not starting the application", signal_name(sig));
      return 128 + sig;
    }
  }
  SpawnOptions spawn;
  spawn.argv = command;
  spawn.user = user;
  spawn.own_process_group = s.process_group;
  // The application gets its database credentials from variables of its own
  // (docs/supervisor.md), never the installer's secrets nor the files they are read from.
  for (const auto& key : setting_keys())
    if (key.secret) spawn.withheld_env.insert(spawn.withheld_env.end(), {key.env, std::string(key.env) + "_FILE"});
  Spawned child = spawn_child(spawn);
  if (child.pid < 0) {
    board.set_error(child.error);
    board.set_phase(Phase::failed);
    log::error("{}", child.error);
    return child.exit_code;
  }
  board.set_application(child.pid, command[0]);
  board.set_phase(Phase::running);
  log::event({{"pid", std::to_string(child.pid)}}, "started {} (pid {}){}", command[0], child.pid,
             user ? fmt::format(" as {} (uid {}, gid {})", user->name, user->uid, user->gid) : std::string());
  SupervisorOptions options;
  options.grace = s.grace;
  options.stop_delay = s.stop_delay;
  options.process_group = s.process_group;
  int code = supervise(child.pid, options, {[&board] { board.set_phase(Phase::stopping); }});
  board.set_phase(Phase::stopping);
  return code;
}

int do_migrate_command(const Settings& s) {
  block_signals();
  StatusBoard board;
  std::optional<HealthServer> health;
  if (!s.health_listen.empty()) health.emplace(board, s.health_listen);
  StopWatcher watcher(s.grace / 2);
  return guarded_migrate(s, board, watcher);
}

int do_remove(const Settings& s, const std::string& id, bool dry_run) {
  Session session = open_session(s);
  Catalog none;
  Migrator migrator(*session.ctx, none);
  // Printed whole at the end, through the scrubber like every report: a down script may
  // quote a secret.
  std::ostringstream out;
  if (dry_run) {
    migrator.remove_update(id, true, out);
  } else {
    LockGuard lock(*session.db, s);
    migrator.remove_update(id, false, out);
  }
  std::cout << redact(out.str()) << std::flush;
  return exit_ok;
}

enum class Report { status, plan, history };

int do_report(const Settings& s, Report report, bool json) {
  std::optional<Catalog> catalog;
  std::string catalog_error;
  if (!s.update_dirs.empty() || report == Report::plan) {
    try {
      catalog = load_catalog(dirs_of(s), s.connection.engine);
    } catch (const CatalogError& e) {
      if (report == Report::plan) throw;
      catalog_error = e.what();
    }
  }
  Session session = open_session(s);
  ReportInput in;
  in.database = s.connection.redacted_url();
  in.engine = engine_name(s.connection.engine);
  in.journal_schema = s.journal_schema;
  in.journal_exists = session.journal->exists();
  in.catalog = catalog ? &*catalog : nullptr;
  in.catalog_error = catalog_error;
  if (in.journal_exists) in.attempts = session.journal->load();
  if (report == Report::status) {
    in.schema_now = schema_fingerprint(*session.db, s.journal_schema);
    if (!s.defaults_dir.empty() && !s.config_dir.empty()) {
      for (const auto& file : sync_defaults(s.defaults_dir, s.config_dir, /*dry_run=*/true))
        if (file.outcome == DefaultFile::Outcome::drifted)
          in.config_drift.push_back(file.path.string());
    }
    if (in.journal_exists) in.installs = session.journal->installs();
  }
  std::ostringstream out;
  switch (report) {
    case Report::status: print_status(out, in, json); break;
    case Report::plan: print_plan(out, in, json); break;
    case Report::history: print_history(out, in, json); break;
  }
  std::cout << redact(out.str()) << std::flush;
  return exit_ok;
}

int dispatch(int argc, char** argv) {
  CLI::App app{"installer: installs and updates a product's database schema, then runs the product.\n"
               "Docs: docs/cli.md. Exit codes: 0 ok, 64 usage, 65 invalid updates or refused, 69 database "
               "unreachable,\n70 update failed and reverted, 71 unexpected error, 75 lock timeout, 77 credentials "
               "refused, 78 configuration,\n79 revert failed, 128+N stopped by signal N.",
               "installer"};
  app.set_version_flag("--version", std::string("installer ") + INSTALLER_VERSION);
  app.require_subcommand(0, 1);

  CliValues cli;
  std::map<std::string, std::string> values;
  std::vector<std::string> updates;
  app.add_option("--updates", updates, "update directory (repeatable; INSTALLER_UPDATES, ':'-separated)")
      ->type_name("DIR")
      ->allow_extra_args(false);  // one directory per --updates: a word after it is not another directory
  for (const auto& key : setting_keys()) {
    std::string name = key.name;
    if (name == "updates" || name == "db-password" || name == "auto-remove-unknown" || name == "process-group") continue;
    auto has = [&name](const char* part) { return name.find(part) != std::string::npos; };
    const char* value_name = has("url")                                            ? "URL"
                             : has("dir") || has("templates") || has("defaults") || has("hooks") ? "DIR"
                             : has("timeout") || has("grace") || has("delay") || has("interval") ? "DURATION"
                             : has("port")                                                        ? "PORT"
                             : has("listen")                                                      ? "ADDR:PORT"
                             : has("user") && !has("db-")                                         ? "NAME[:GROUP]"
                                                                                                  : "VALUE";
    app.add_option("--" + name, values[name], std::string(key.help) + " (" + key.env + ")")->type_name(value_name);
  }
  app.add_option("--config", values["config"], "key=value configuration file (INSTALLER_CONFIG)")->type_name("FILE");
  bool auto_remove = false;
  app.add_flag("--auto-remove-unknown", auto_remove,
               "remove applied updates that no update directory contains (INSTALLER_AUTO_REMOVE_UNKNOWN)");
  bool process_group = false;
  app.add_flag("--process-group", process_group,
               "forward signals to the application's whole process group (INSTALLER_PROCESS_GROUP)");
  std::string remove_id;
  app.add_option("--remove-update", remove_id,
                 "revert one applied update with the down scripts in the journal, then exit")
      ->type_name("ID");
  bool dry_run = false;
  app.add_flag("--dry-run", dry_run, "with --remove-update: print the down scripts instead of running them");
  std::vector<std::string> command;
  app.add_option("command", command, "after --: the application to run once the database is up to date");

  auto* migrate = app.add_subcommand("migrate", "install and update, then exit (init container / Job)");
  bool json = false;
  auto* status = app.add_subcommand("status", "updates applied and pending, schema fingerprint, what needs attention");
  status->add_flag("--json", json, "machine-readable output");
  auto* plan = app.add_subcommand("plan", "the updates migrate would apply, step by step (dry run)");
  plan->add_flag("--json", json, "machine-readable output");
  auto* history = app.add_subcommand("history", "every attempt recorded in the journal");
  history->add_flag("--json", json, "machine-readable output");
  auto* version = app.add_subcommand("version", "print the version and exit");
  auto* run = app.add_subcommand("run", "install and update, then run the command after -- (the default)");
  std::vector<std::string> run_command;
  run->add_option("command", run_command, "the application and its arguments, after --");
  for (auto* sub : {migrate, status, plan, history, version, run}) sub->fallthrough();

  // Everything after the first "--" is the application's, whatever precedes it: CLI11
  // would otherwise end a repeatable option's values at "--" and parse the application's
  // own flags as ours.
  int ours = argc;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--") == 0) {
      ours = i;
      break;
    }
  std::vector<std::string> after_separator(argv + std::min(ours + 1, argc), argv + argc);
  bool has_separator = ours < argc;
  try {
    app.parse(ours, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? exit_ok : exit_usage;
  }

  if (*version) {
    std::cout << "installer " << INSTALLER_VERSION << " (journal format " << kJournalFormat << ")\n";
    return exit_ok;
  }
  for (const auto& [name, value] : values)
    if (!value.empty()) cli[name] = value;
  if (!updates.empty()) {
    std::string joined;
    for (const auto& u : updates) joined += (joined.empty() ? "" : ":") + u;
    cli["updates"] = joined;
  }
  if (auto_remove) cli["auto-remove-unknown"] = "true";
  if (process_group) cli["process-group"] = "true";

  // The format first, so that even a configuration error is reported as asked.
  {
    auto env = process_environment();
    std::string format = cli.count("log-format") ? cli["log-format"]
                         : env.count("INSTALLER_LOG_FORMAT") ? env["INSTALLER_LOG_FORMAT"] : "human";
    if (format == "json") log::set_format(log::Format::json);
  }
  Settings settings = resolve_settings(cli, process_environment());
  log::set_format(settings.log_format == "json" ? log::Format::json : log::Format::human);
  log::set_level(settings.log_level == "debug"  ? log::Level::debug
                 : settings.log_level == "warn" ? log::Level::warn
                 : settings.log_level == "error" ? log::Level::error
                                                 : log::Level::info);

  if (has_separator && (!remove_id.empty() || *migrate || *status || *plan || *history))
    throw UserError(exit_usage, "only run (the default) starts an application; remove -- and what follows it");
  if (dry_run && remove_id.empty()) throw UserError(exit_usage, "--dry-run goes with --remove-update ID");
  if (!remove_id.empty()) {
    if (app.get_subcommands().size() > 0)
      throw UserError(exit_usage, "--remove-update is a command of its own; do not combine it with a subcommand");
    return do_remove(settings, remove_id, dry_run);
  }
  if (*migrate) return do_migrate_command(settings);
  if (*status) return do_report(settings, Report::status, json);
  if (*plan) return do_report(settings, Report::plan, json);
  if (*history) return do_report(settings, Report::history, json);

  if (!command.empty() || !run_command.empty())
    throw UserError(exit_usage, fmt::format("unexpected argument '{}': the application and its arguments go after --",
                                            redact(!command.empty() ? command[0] : run_command[0])));
  std::vector<std::string> to_run = after_separator;
  if (has_separator && to_run.empty())
    throw UserError(exit_usage, "nothing after --: give the application to run and its arguments");
  if (to_run.empty()) {
    std::cerr << app.help() << "\n"
              << "installer: nothing to do: give a command (migrate, status, plan, history, version) or the "
                 "application to run after --\n";
    return exit_usage;
  }
  return do_run(settings, to_run);
}

}  // namespace

int run_cli(int argc, char** argv) {
  try {
    return dispatch(argc, argv);
  } catch (const UserError& e) {
    log::error("{}", e.what());
    return e.code();
  } catch (const CatalogError& e) {
    log::error("{}\nnothing was changed in the database.", e.what());
    return exit_data;
  } catch (const StatementError& e) {
    log::error("lost the database session at {}\n  the server rolled back what was not committed; the next start "
               "finishes the update's revert from the journal.",
               e.failure().describe());
    return exit_unavailable;
  } catch (const DbError& e) {
    if (e.failure() == DbFailure::statement) {
      log::error("unexpected database error: {}{}\n  the run stopped; an update it was applying is left in the journal "
                 "and is reverted at the next start.",
                 e.sqlstate().empty() ? "" : "[" + e.sqlstate() + "] ", e.what());
      return exit_internal;
    }
    log::error("lost the database connection: {}\n  the next start recovers from the journal.", e.what());
    return exit_unavailable;
  } catch (const std::exception& e) {
    log::error("internal error: {}\n  the run stopped; an update it was applying is left in the journal and is "
               "reverted at the next start.",
               e.what());
    return exit_internal;
  }
}

}  // namespace installer
