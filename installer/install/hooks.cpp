#include "installer/install/hooks.hpp"

#include "installer/catalog/catalog.hpp"
#include "installer/engine/statement_runner.hpp"
#include "installer/util/error.hpp"
#include "installer/util/log.hpp"
#include "installer/util/sha256.hpp"

#include <boost/filesystem.hpp>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

extern char** environ;

namespace fs = boost::filesystem;

namespace installer {
namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p.string(), std::ios::binary);
  std::ostringstream b;
  b << in.rdbuf();
  return b.str();
}

std::string tail(const std::string& s, size_t n = 4000) { return s.size() <= n ? s : "..." + s.substr(s.size() - n); }

/// Runs a program, its stdout and stderr merged into the returned text.
std::pair<int, std::string> run_program(const std::vector<std::string>& argv) {
  int out[2];
  if (pipe(out) != 0) throw UserError(exit_install_failed, fmt::format("pipe: {}", std::strerror(errno)));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, out[1], 2);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  // The installer blocks every signal in its own threads; a hook must get them normally.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  std::vector<std::string> storage = argv;
  for (auto& a : storage) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    return {127, fmt::format("cannot run {}: {}", argv[0], std::strerror(rc))};
  }
  std::string output;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(out[0], buffer, sizeof buffer)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    output.append(buffer, static_cast<size_t>(n));
  }
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return {code, output};
}

}  // namespace

std::vector<std::string> run_install_hooks(EngineContext& ctx, const fs::path& dir) {
  if (!fs::is_directory(dir))
    throw UserError(exit_config, fmt::format("install hooks directory {} does not exist", dir.string()));
  std::set<std::string> done;
  for (const auto& record : ctx.journal.installs())
    if (record.state == "done") done.insert(record.name);

  std::vector<fs::path> entries;
  for (fs::directory_iterator it(dir), end; it != end; ++it)
    if (fs::is_regular_file(it->path()) && it->path().filename().string()[0] != '.') entries.push_back(it->path());
  std::sort(entries.begin(), entries.end());

  std::vector<std::string> ran;
  for (const auto& path : entries) {
    std::string name = path.filename().string();
    if (done.count(name)) continue;
    struct stat st {};
    ::stat(path.c_str(), &st);
    bool executable = (st.st_mode & S_IXUSR) != 0;
    std::string extension = path.extension().string();
    InstallRecord record;
    record.name = name;
    record.host = ctx.host;
    record.installer_version = ctx.installer_version;
    std::string text = read_file(path);
    record.checksum = sha256_hex(text);
    auto started = Clock::now();
    log::info("running install hook {}", name);

    if (extension == ".sql") {
      record.kind = "sql";
      std::vector<Statement> statements;
      try {
        statements = split_sql(text, dialect_for(ctx.db.engine()));
      } catch (const SqlSplitError& e) {
        throw UserError(exit_install_failed, fmt::format("install hook {}:{}: {}", path.string(), e.line(), e.what()));
      }
      bool in_transaction = ctx.db.transactional_ddl();
      if (in_transaction) ctx.db.begin();
      try {
        run_statements(ctx.db, statements, 0, {"(install)", name, path.string()});
        record.state = "done";
        record.duration_ms = elapsed_ms(started);
        ctx.journal.record_install(record);
        if (in_transaction) ctx.db.commit();
      } catch (const StatementError& e) {
        if (in_transaction) ctx.db.rollback();
        if (e.failure().failure != DbFailure::statement) throw;
        record.state = "failed";
        record.output = e.failure().describe();
        record.duration_ms = elapsed_ms(started);
        ctx.journal.record_install(record);
        throw UserError(exit_install_failed,
                        fmt::format("install hook {} failed at {}\n  it runs again at the next start", name,
                                    e.failure().describe()));
      }
    } else if (executable || extension == ".sh") {
      record.kind = "program";
      auto [code, output] = run_program(executable ? std::vector<std::string>{path.string()}
                                                   : std::vector<std::string>{"/bin/sh", path.string()});
      record.output = tail(output);
      record.duration_ms = elapsed_ms(started);
      record.state = code == 0 ? "done" : "failed";
      ctx.journal.record_install(record);
      if (code != 0)
        throw UserError(exit_install_failed,
                        fmt::format("install hook {} exited with code {}; it printed:\n{}\n  it runs again at the next "
                                    "start",
                                    path.string(), code, tail(output)));
    } else {
      log::warn("install hook {} is neither a .sql file nor executable: ignored", path.string());
      continue;
    }
    log::event({{"hook", name}, {"duration_ms", std::to_string(record.duration_ms)}}, "install hook {} done ({}ms)",
               name, record.duration_ms);
    ran.push_back(name);
  }
  return ran;
}

}  // namespace installer
