#pragma once
// Shared fixtures for the tests that run against real database servers.
#include "installer/catalog/catalog.hpp"
#include "installer/db/connection_url.hpp"
#include "installer/db/database.hpp"
#include "installer/engine/context.hpp"
#include "installer/journal/sql_journal.hpp"

#include <boost/filesystem.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace installer::testing {

/// The server under test, from INSTALLER_TEST_PG_URL (set by scripts/test.sh).
struct ServerUnderTest {
  Engine engine;
  std::string admin_url;
};
const ServerUnderTest& server();
void set_server(ServerUnderTest s);

/// A database created for one test and dropped after it, so tests cannot see each
/// other's schema or journal.
class ScratchDatabase {
 public:
  ScratchDatabase();
  ~ScratchDatabase();
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }
  std::unique_ptr<Database> connect() const;
  /// Runs SQL on a fresh session (for setting up and inspecting).
  std::vector<SqlRow> query(const std::string& sql) const;

 private:
  std::string name_;
  std::string url_;
};

/// The engine wired to one session, as the CLI wires it.
struct EngineSession {
  explicit EngineSession(const ScratchDatabase& scratch);
  Fingerprint fingerprint() { return db->fingerprint("installer"); }
  std::unique_ptr<Database> db;
  std::unique_ptr<SqlJournal> journal;
  std::unique_ptr<EngineContext> ctx;
};

/// A temporary directory tree of update files, removed at the end.
class UpdateTree {
 public:
  UpdateTree();
  ~UpdateTree();
  /// Writes root/relative with the given text, creating directories.
  void write(const std::string& relative, const std::string& text);
  void remove(const std::string& relative);
  const boost::filesystem::path& root() const { return root_; }
  Catalog load(Engine engine) const;

 private:
  boost::filesystem::path root_;
};

/// A finished run of the installer binary.
struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::string all() const { return out + err; }
};

/// Runs the built installer with args and extra environment; kills it after timeout.
RunResult run_installer(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
                        std::chrono::seconds timeout = std::chrono::seconds(60));

/// A running installer process, for tests about concurrency.
class Background {
 public:
  Background(const std::vector<std::string>& args, const std::map<std::string, std::string>& env);
  ~Background();
  /// Waits (bounded) for the exit and returns the result.
  RunResult wait(std::chrono::seconds timeout = std::chrono::seconds(60));
  int pid() const { return pid_; }
  /// What it has written to stderr so far.
  std::string err_so_far() const;

 private:
  int pid_ = -1;
  std::string out_path_, err_path_;
  bool reaped_ = false;
};

/// Polls condition every 20 ms until it holds or timeout passes; returns whether it held.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

std::string source_dir();

}  // namespace installer::testing
