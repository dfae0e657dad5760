#include "installer/cli/commands.hpp"

#include "installer/adopt/adoption.hpp"
#include "installer/catalog/catalog.hpp"
#include "installer/catalog/problems.hpp"
#include "installer/catalog/release_lint.hpp"
#include "installer/cli/arguments.hpp"
#include "installer/cli/backup_commands.hpp"
#include "installer/cli/backup_wiring.hpp"
#include "installer/cli/connect.hpp"
#include "installer/cli/early_connection.hpp"
#include "installer/cli/migration_lock.hpp"
#include "installer/cli/reports.hpp"
#include "installer/cli/schema_report.hpp"
#include "installer/cli/session.hpp"
#include "installer/cli/settings.hpp"
#include "installer/cli/signing_commands.hpp"
#include "installer/cli/verify_command.hpp"
#include "installer/db/db_error.hpp"
#include "installer/engine/commit_in_doubt.hpp"
#include "installer/engine/fault_injection.hpp"
#include "installer/engine/migrator.hpp"
#include "installer/engine/reconcile.hpp"
#include "installer/engine/statement_runner.hpp"
#include "installer/health/health_server.hpp"
#include "installer/health/status_board.hpp"
#include "installer/install/config_drift.hpp"
#include "installer/install/hooks.hpp"
#include "installer/install/templates.hpp"
#include "installer/journal/journal_tables.hpp"
#include "installer/journal/sql_journal.hpp"
#include "installer/os/child_process.hpp"
#include "installer/os/signals.hpp"
#include "installer/os/supervisor.hpp"
#include "installer/os/user_identity.hpp"
#include "installer/util/duration.hpp"
#include "installer/util/error.hpp"
#include "installer/util/log.hpp"
#include "installer/util/redact.hpp"

#include <fmt/format.h>

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <optional>
#include <set>
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

std::vector<boost::filesystem::path> dirs_of(const Settings& s) { return {s.update_dirs.begin(), s.update_dirs.end()}; }

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
  if (!s.defaults_dir.empty() && !s.templates_dir.empty())
    sync_defaults(s.defaults_dir, s.config_dir, /*dry_run=*/true);
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
        log::info("{} default configuration file {}",
                  file.outcome == DefaultFile::Outcome::installed ? "installed" : "upgraded", file.path.string());
    }
  }
  if (!s.hooks_dir.empty()) run_install_hooks(ctx, s.hooks_dir, s.grace / 2);  // as a statement is cancelled
}

/// The scripts of every update this pass may run split and linted (ScriptParsing::when_run):
/// all but those the journal, read ahead under the lock, says are in effect. Before
/// anything changes, so that a bad script changes nothing.
void parse_what_may_run(Catalog& catalog, Engine engine, const Journal& journal) {
  std::set<std::string> in_effect_ids;
  if (const auto* attempts = journal.attempts_read_ahead())
    for (const auto& [id, last] : latest_attempts(*attempts))
      if (in_effect(last->state)) in_effect_ids.insert(id);
  parse_scripts(catalog, engine, [&](const Update& u) { return in_effect_ids.count(u.id) == 0; });
}

MigrateSummary migrate_once(const Settings& s, Catalog& catalog, const RunContext& run, EarlyConnection& early,
                            const std::string& commit_in_doubt = {}) {
  if (run.board) run.board->set_phase(Phase::waiting_for_db);
  const std::atomic<int>* stop = run.watcher ? &run.watcher->stop_signal() : nullptr;
  ensure_database_exists(s, stop);
  std::optional<EarlySession> opened = early.take(stop);
  Session session = opened ? std::move(opened->session) : open_session(s, /*wait=*/true, stop);
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
  std::unique_ptr<MigrationLock> lock = opened ? std::move(opened->lock)
                                               : std::make_unique<MigrationLock>(*session.db, s, stop);
  parse_what_may_run(catalog, s.connection.engine, *session.journal);
  if (!commit_in_doubt.empty()) {
    auto attempts = session.journal->exists() ? session.journal->load() : std::vector<AttemptRecord>{};
    log::info("the journal says the commit of update {} {}", commit_in_doubt,
              describe(commit_in_doubt_verdict(attempts, commit_in_doubt)));
  }
  prepare_unjournaled(*session.ctx, catalog, AdoptOptions{s.adopt, dirs_of(s)});
  session.journal->ensure();
  arm_backup(s, session, stop);
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
  EarlyConnection early(s);
  // Without the early session's journal, every script is parsed at once: the database
  // may have to be created, and a bad script must be found before that.
  Catalog catalog = load_catalog(dirs_of(s), s.connection.engine, s.update_formats, s.trusted_keys,
                                 early.started() ? ScriptParsing::when_run : ScriptParsing::on_load);
  log::info("found {} update{} in {}{}", catalog.updates.size(), catalog.updates.size() == 1 ? "" : "s",
            fmt::join(s.update_dirs, ":"),
            s.trusted_keys.empty() ? "" : fmt::format(", each signed by a trusted key ({})", s.trusted_keys.source));
  const int attempts = 3;
  std::string in_doubt;
  for (int attempt = 1;; ++attempt) {
    try {
      MigrateSummary summary = migrate_once(s, catalog, run, early, in_doubt);
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

/// A stop that came in the update phase (`when`): the application is not started.
int not_starting_application(StatusBoard& board, int sig, const char* when) {
  board.set_phase(Phase::stopping);
  log::warn("{} received {}: not starting the application", signal_name(sig), when);
  return 128 + sig;
}

/// Install and update with stop signals turned into a clean revert, the health endpoint
/// up and progress logged. Returns the exit code, and fills `board`.
int guarded_migrate(const Settings& s, StatusBoard& board, StopWatcher& watcher) {
  ProgressLog progress(board, s.progress_interval);
  try {
    int code = do_migrate(s, {&board, &watcher});
    if (int sig = watcher.stop_signal().load(); sig != 0)
      return not_starting_application(board, sig, "during the update phase");
    return code;
  } catch (const std::exception& e) {
    board.set_error(redact(e.what()));
    board.set_phase(Phase::failed);
    throw;
  }
}

SpawnOptions application_spawn(const Settings& s, const std::vector<std::string>& command,
                               const std::optional<UserIdentity>& user) {
  SpawnOptions spawn;
  spawn.argv = command;
  spawn.user = user;
  spawn.own_process_group = s.process_group;
  // The application gets its database credentials from variables of its own
  // (docs/supervisor.md), never the installer's secrets nor the files they are read from.
  for (const auto& key : setting_keys())
    if (key.secret) spawn.withheld_env.insert(spawn.withheld_env.end(), {key.env, std::string(key.env) + "_FILE"});
  return spawn;
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
    if (int sig = watcher.stop_signal().load(); sig != 0)
      return not_starting_application(board, sig, "as the update phase ended");
  }
  Spawned child = spawn_child(application_spawn(s, command, user));
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
    MigrationLock lock(*session.db, s);
    arm_backup(s, session, nullptr);
    migrator.remove_update(id, false, out);
  }
  std::cout << redact(out.str()) << std::flush;
  return exit_ok;
}

int do_baseline(const Settings& s, const std::string& id, bool force) {
  if (s.update_dirs.empty())
    throw UserError(exit_usage, "installer baseline: give the release's update directories with --updates DIR");
  if (!s.has_connection) connect_database(s);
  Catalog catalog = load_catalog(dirs_of(s), s.connection.engine, s.update_formats, s.trusted_keys);
  Session session = open_session(s);
  MigrationLock lock(*session.db, s);
  AdoptionOutcome outcome = baseline(*session.ctx, catalog, AdoptOptions{s.adopt, dirs_of(s)},
                                     BaselineRequest{id, force, operator_identity()});
  std::cout << redact(fmt::format("baseline: {} update{} journaled as adopted ({}); the next migrate applies what "
                                  "follows {}\n",
                                  outcome.adopted.size(), outcome.adopted.size() == 1 ? "" : "s",
                                  abbreviated_list(outcome.adopted), id))
            << std::flush;
  return exit_ok;
}

enum class Report { status, plan, history };

int do_report(const Settings& s, Report report, bool json) {
  std::optional<Catalog> catalog;
  std::string catalog_error;
  if (!s.update_dirs.empty() || report == Report::plan) {
    try {
      catalog = load_catalog(dirs_of(s), s.connection.engine, s.update_formats, s.trusted_keys);
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
  if (report == Report::plan) in.warnings = release_warnings(*catalog, s.connection.engine);
  if (in.journal_exists) in.attempts = session.journal->load();
  if (report != Report::history && !(in.journal_exists && session.journal->records_anything()))
    in.unjournaled = describe_application_objects(*session.ctx);
  if (report == Report::status) {
    in.schema = status_schema(*session.db, *session.journal, s.journal_schema, in.attempts);
    if (!s.defaults_dir.empty() && !s.config_dir.empty()) {
      for (const auto& file : sync_defaults(s.defaults_dir, s.config_dir, /*dry_run=*/true))
        if (file.outcome == DefaultFile::Outcome::drifted) in.config_drift.push_back(file.path.string());
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

/// The format first, so that even a configuration error is reported as asked.
Settings configure_logging_and_settings(const CliValues& cli) {
  auto env = process_environment();
  std::string format = cli.count("log-format")             ? cli.at("log-format")
                       : env.count("INSTALLER_LOG_FORMAT") ? env["INSTALLER_LOG_FORMAT"]
                                                           : "human";
  if (format == "json") log::set_format(log::Format::json);
  Settings settings = resolve_settings(cli, process_environment());
  log::set_format(settings.log_format == "json" ? log::Format::json : log::Format::human);
  log::set_level(settings.log_level == "debug"   ? log::Level::debug
                 : settings.log_level == "warn"  ? log::Level::warn
                 : settings.log_level == "error" ? log::Level::error
                                                 : log::Level::info);
  return settings;
}

void refuse_contradictions(const Arguments& args) {
  bool reports_or_migrate = args.subcommand && *args.subcommand != Subcommand::run;
  if (args.has_separator && (!args.remove_id.empty() || reports_or_migrate))
    throw UserError(exit_usage, "only run (the default) starts an application; remove -- and what follows it");
  if (args.dry_run && args.remove_id.empty()) throw UserError(exit_usage, "--dry-run goes with --remove-update ID");
  if (!args.remove_id.empty() && args.subcommand)
    throw UserError(exit_usage, "--remove-update is a command of its own; do not combine it with a subcommand");
}

/// run, the default: the words to run come after --, nowhere else.
int run_application(const Arguments& args, const Settings& settings) {
  if (!args.stray.empty())
    throw UserError(exit_usage, fmt::format("unexpected argument '{}': the application and its arguments go after --",
                                            redact(args.stray[0])));
  if (args.has_separator && args.after_separator.empty())
    throw UserError(exit_usage, "nothing after --: give the application to run and its arguments");
  if (args.after_separator.empty()) {
    std::cerr
        << args.help << "\n"
        << "installer: nothing to do: give a command (migrate, status, plan, history, diff, verify, baseline, keygen, sign, "
           "bundle, backups, restore, version) or the "
           "application to run after --\n";
    return exit_usage;
  }
  return do_run(settings, args.after_separator);
}

int dispatch(int argc, char** argv) {
  int exit_code = exit_ok;
  std::optional<Arguments> args = parse_arguments(argc, argv, exit_code);
  if (!args) return exit_code;
  if (args->subcommand == Subcommand::version) {
    std::cout << "installer " << INSTALLER_VERSION << " (journal format " << kJournalFormat << ")\n";
    return exit_ok;
  }
  Settings settings = configure_logging_and_settings(args->settings);
  refuse_contradictions(*args);
  if (!args->remove_id.empty()) return do_remove(settings, args->remove_id, args->dry_run);
  switch (args->subcommand.value_or(Subcommand::run)) {
    case Subcommand::migrate: return do_migrate_command(settings);
    case Subcommand::status: return do_report(settings, Report::status, args->json);
    case Subcommand::plan: return do_report(settings, Report::plan, args->json);
    case Subcommand::history: return do_report(settings, Report::history, args->json);
    case Subcommand::diff: return do_diff(settings, args->against, args->json);
    case Subcommand::verify: return do_verify(settings, *args);
    case Subcommand::baseline: return do_baseline(settings, args->baseline_id, args->force);
    case Subcommand::keygen: return do_keygen(args->output);
    case Subcommand::sign: return do_sign(args->update_dir, args->key_file);
    case Subcommand::bundle: return do_bundle(args->update_dir, args->output, args->key_file);
    case Subcommand::backups: return do_backups(settings, args->json);
    case Subcommand::restore: return do_restore(settings, args->restore_file, args->yes);
    case Subcommand::version:
    case Subcommand::run: break;
  }
  return run_application(*args, settings);
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
