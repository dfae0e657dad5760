#include "installer/install/hooks.hpp"

#include "installer/catalog/catalog.hpp"
#include "installer/catalog/script_lint.hpp"
#include "installer/db/transaction.hpp"
#include "installer/engine/statement_runner.hpp"
#include "installer/install/templates.hpp"
#include "installer/os/program_run.hpp"
#include "installer/util/error.hpp"
#include "installer/util/log.hpp"
#include "installer/util/sha256.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <boost/filesystem.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <set>

namespace fs = boost::filesystem;

namespace installer {
namespace {

std::string tail(const std::string& s, size_t n = 4000) { return s.size() <= n ? s : "..." + s.substr(s.size() - n); }

/// A hook not yet done, read (and for SQL split) before any hook runs.
struct PendingHook {
  fs::path path;
  std::string name;
  bool sql = false;
  bool executable = false;
  std::string text;
  std::vector<Statement> statements;
};

/// The lint speaks of update steps; a hook cannot opt out of its transaction.
Problem as_hook_problem(Problem problem) {
  if (problem.message.find("update.toml") != std::string::npos)
    problem.message = "this statement cannot run inside a transaction, and a .sql install hook on PostgreSQL runs in "
                      "one; run it from an executable hook, or from an update step with transaction = false";
  return problem;
}

std::vector<fs::path> hook_entries(const fs::path& dir, std::vector<Problem>& problems) {
  std::vector<fs::path> entries;
  boost::system::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string()[0] != '.') entries.push_back(it->path());
  if (ec) problems.push_back({dir.string(), 0, "cannot read the install hooks directory: " + ec.message()});
  std::sort(entries.begin(), entries.end());
  return entries;
}

/// Reads `hook` (a .sql one split and linted as steps are); false when it is no hook, or
/// has a problem, which then goes into `problems`.
bool prepare_hook(EngineContext& ctx, PendingHook& hook, std::vector<Problem>& problems) {
  std::string extension = hook.path.extension().string();
  struct stat st {};
  if (::stat(hook.path.c_str(), &st) != 0) {
    // A broken link, or a link loop: a hook by its name, a stray file otherwise.
    if (extension == ".sql" || extension == ".sh") problems.push_back({hook.path.string(), 0, std::strerror(errno)});
    else log::warn("install hook {} cannot be looked at ({}): ignored", hook.path.string(), std::strerror(errno));
    return false;
  }
  if (!S_ISREG(st.st_mode)) return false;
  hook.sql = extension == ".sql";
  hook.executable = (st.st_mode & S_IXUSR) != 0;
  if (!hook.sql && !hook.executable && extension != ".sh") {
    log::warn("install hook {} is neither a .sql file nor executable: ignored", hook.path.string());
    return false;
  }
  std::string error;
  auto text = read_source_file(hook.path, error);
  if (!text) {
    problems.push_back({hook.path.string(), 0, "cannot be read: " + error});
    return false;
  }
  hook.text = std::move(*text);
  if (!hook.sql) return true;
  SqlDialect dialect = dialect_for(ctx.db.engine());
  try {
    hook.statements = split_sql(hook.text, dialect);
  } catch (const SqlSplitError& e) {
    problems.push_back({hook.path.string(), e.line(), e.what()});
    return false;
  }
  std::vector<Problem> lint;
  lint_statements(hook.statements, dialect, ctx.db.capabilities().hooks_run_in_transaction, hook.path.string(),
                  hook.name, lint);
  for (auto& p : lint) problems.push_back(as_hook_problem(std::move(p)));
  return lint.empty();
}

/// The hooks in `dir` that are to run now, in name order, all read before any runs.
std::vector<PendingHook> pending_hooks(EngineContext& ctx, const fs::path& dir, std::vector<Problem>& problems) {
  std::set<std::string> done;
  for (const auto& record : ctx.journal.installs())
    if (record.state == "done") done.insert(record.name);
  std::vector<PendingHook> hooks;
  for (const auto& path : hook_entries(dir, problems)) {
    PendingHook hook;
    hook.path = path;
    hook.name = path.filename().string();
    if (!done.count(hook.name) && prepare_hook(ctx, hook, problems)) hooks.push_back(std::move(hook));
  }
  return hooks;
}

void run_sql_hook(EngineContext& ctx, const PendingHook& hook, InstallRecord& record, Clock::time_point started) {
  record.kind = "sql";
  try {
    std::optional<Transaction> transaction;
    if (ctx.db.capabilities().hooks_run_in_transaction) transaction.emplace(ctx.db);
    run_statements(ctx.db, hook.statements, 0, {"(install)", hook.name, hook.path.string()});
    record.state = "done";
    record.duration_ms = elapsed_ms(started);
    ctx.journal.record_install(record);
    if (transaction) transaction->commit();
  } catch (const StatementError& e) {
    if (e.failure().failure != DbFailure::statement) throw;
    record.state = "failed";
    record.output = e.failure().describe();
    record.duration_ms = elapsed_ms(started);
    ctx.journal.record_install(record);
    throw UserError(exit_install_failed, fmt::format("install hook {} failed at {}\n  it runs again at the next start",
                                                     hook.name, e.failure().describe()));
  }
}

void run_program_hook(EngineContext& ctx, const PendingHook& hook, InstallRecord& record, Clock::time_point started,
                      std::chrono::milliseconds stop_grace) {
  record.kind = "program";
  ProgramRun run;
  run.argv = hook.executable ? std::vector<std::string>{hook.path.string()}
                             : std::vector<std::string>{"/bin/sh", hook.path.string()};
  run.stop = ctx.stop_signal;
  run.grace = stop_grace;
  auto [code, output, stopped_by] = run_program(run);
  record.output = tail(output);
  record.duration_ms = elapsed_ms(started);
  record.state = code == 0 && !stopped_by ? "done" : "failed";
  ctx.journal.record_install(record);
  if (stopped_by)
    throw UserError(static_cast<ExitCode>(128 + stopped_by),
                    fmt::format("stopped by a signal while install hook {} ran; it was stopped too and runs again at "
                                "the next start",
                                hook.path.string()));
  if (code != 0)
    throw UserError(
        exit_install_failed,
        fmt::format("install hook {} exited with code {}; it printed:\n{}\n  it runs again at the next start",
                    hook.path.string(), code, tail(output)));
}

}  // namespace

std::vector<std::string> run_install_hooks(EngineContext& ctx, const fs::path& dir,
                                           std::chrono::milliseconds stop_grace) {
  boost::system::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw UserError(exit_config, fmt::format("install hooks directory {} does not exist", dir.string()));
  std::vector<Problem> problems;
  std::vector<PendingHook> hooks = pending_hooks(ctx, dir, problems);
  if (!problems.empty()) {
    std::string message = problems.size() == 1 ? "install hooks refused:"
                                               : fmt::format("install hooks refused ({} problems):", problems.size());
    for (const auto& p : problems) message += "\n  " + p.to_string();
    throw UserError(exit_install_failed, message + "\nno install hook was run.");
  }
  std::vector<std::string> ran;
  for (const auto& hook : hooks) {
    InstallRecord record;
    record.name = hook.name;
    record.host = ctx.host;
    record.installer_version = ctx.installer_version;
    record.checksum = sha256_hex(hook.text);
    auto started = Clock::now();
    log::info("running install hook {}", hook.name);
    if (hook.sql) run_sql_hook(ctx, hook, record, started);
    else run_program_hook(ctx, hook, record, started, stop_grace);
    log::event({{"hook", hook.name}, {"duration_ms", std::to_string(record.duration_ms)}},
               "install hook {} done ({}ms)", hook.name, record.duration_ms);
    ran.push_back(hook.name);
  }
  return ran;
}

}  // namespace installer
