#pragma once
// Support for the crash-safety and concurrency suites (tests/crash/): the multi-step
// update every kill point is tried on, the kill points themselves, an engine-neutral
// check of the journal's consistency, the report sink scripts/reliability.sh reads, and
// a TCP proxy that can cut a connection after the server ran a statement but before the
// installer heard back (a commit that went through while the client thinks it is in
// doubt).
//
// Everything else (ScratchDatabase, UpdateTree, run_installer, Background, wait_until)
// comes from tests/db/db_fixture.hpp.
#include "../db/db_fixture.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace installer::crash {

using testing::RunResult;
using testing::ScratchDatabase;
using testing::UpdateTree;

// ---------------------------------------------------------------- the update under test

/// One step of an update: its up and down statements for the engine under test.
struct StepDef {
  std::string name;
  std::vector<std::string> up;
  std::vector<std::string> down;
  bool transactional = true;  ///< PostgreSQL only: false puts the step outside the transaction
  /// A step that failed part-way is undone from its undo records, not by its down
  /// script: the statements undone, newest first (its revert points are undo=N).
  std::vector<int> undone = {};
};

/// How the four-step update 2.0 is written.
struct UpdateShape {
  /// PostgreSQL: every step in the update's transaction (the atomic path). Otherwise step
  /// 003 runs outside it (CREATE INDEX CONCURRENTLY), which makes the update non-atomic.
  /// MariaDB ignores it: every step there runs statement by statement.
  bool atomic = false;
  /// A fifth step whose second statement fails, so the update is reverted (exit 70).
  bool failing = false;
  /// A statement that takes this long at the start of step 003 (for the tests that act
  /// while an installer is busy); 0 for none.
  double slow_seconds = 0;
  /// The same in step 003's down script, as its second statement (for killing a revert).
  double slow_down_seconds = 0;
};

/// The base update 1.0 (table accounts, one row): applied first, so that every revert of
/// 2.0 has a non-empty schema to return to.
std::vector<StepDef> base_steps();
/// The steps of update 2.0 for the engine under test.
std::vector<StepDef> update_steps(const UpdateShape& shape);
/// Writes 1.0 and 2.0 into tree.
void write_updates(UpdateTree& tree, const UpdateShape& shape);
/// The statement of the failing step that fails ("failing" shape).
extern const char* const kFailingStatement;

// ---------------------------------------------------------------- kill points

struct KillPoint {
  std::string phase;   ///< apply | revert
  std::string update;  ///< 2.0
  std::string step;
  std::string point;   ///< before | statement=N | after | commit
  std::string action;  ///< kill | kill-session
  std::string spec() const { return phase + ":" + update + ":" + step + ":" + point + ":" + action; }
};

/// Every point of applying `steps` (in order): before, statement=N for every N, after, and
/// on PostgreSQL the commit of each run of consecutive transactional steps (the whole
/// update when it is atomic).
std::vector<KillPoint> apply_points(const std::vector<StepDef>& steps, const std::string& action);
/// Every point of reverting `reverted` (newest first, as the revert runs them): before,
/// statement=N of each down script, after, and on PostgreSQL the commit of each run of
/// consecutive transactional downs.
std::vector<KillPoint> revert_points(const std::vector<StepDef>& reverted, const std::string& action);

// ---------------------------------------------------------------- checks

/// The schema fingerprint as the installer computes it (status --json: schema.fingerprint).
std::string fingerprint(const ScratchDatabase& db);
/// The same, read through `installer status --json`, end to end.
std::string status_fingerprint(const std::map<std::string, std::string>& env);

/// What is wrong with the journal, one line per problem (empty: consistent):
/// - no attempt left applying, reverting or revert_failed;
/// - each update in `applied` has exactly one applied attempt and it is its latest, with
///   `steps_of[update]` step rows, all applied with every statement done;
///   every other update has no applied attempt;
/// - no two step rows of one attempt share a position; no step row without its attempt;
/// - no step of a failed or removed attempt still applying, applied or reverting;
/// - exactly one row in journal_format.
std::vector<std::string> journal_problems(const ScratchDatabase& db, const std::set<std::string>& applied,
                                          const std::map<std::string, int>& steps_of);

std::string join_lines(const std::vector<std::string>& lines);
/// How many lines of `text` contain `needle`.
int count_lines(const std::string& text, const std::string& needle);

/// The session (PostgreSQL backend pid, MariaDB connection id) of db that is running
/// the slow statement of UpdateShape::slow_seconds, or "" when none is.
std::string sleeping_session(const ScratchDatabase& db);
/// Kills a session from outside: pg_terminate_backend / KILL CONNECTION.
void kill_session(const ScratchDatabase& db, const std::string& id);

// ---------------------------------------------------------------- the bench

/// One scratch database with updates 1.0 and 2.0 of one shape, and the fingerprints and
/// inventories before and after 2.0, taken from clean runs of the installer. After the
/// constructor (and build()), 1.0 is applied and 2.0 is pending: removed when it is valid,
/// failed when it fails on purpose.
class Bench {
 public:
  explicit Bench(UpdateShape shape);
  /// A fresh database brought to the baseline; also after a case that failed, so the
  /// next case does not inherit its state.
  void build();
  /// MariaDB: InnoDB's instant ADD/DROP COLUMN keeps every dropped column hidden in the
  /// table's metadata, so after a few dozen apply/revert cycles of step 003 the next ADD
  /// COLUMN fails with "Row size too large" (1118). A rebuild clears them; the schema,
  /// and so its fingerprint, is the same. Call it between cases.
  void compact();

  const UpdateShape& shape() const { return shape_; }
  const std::vector<StepDef>& steps() const { return steps_; }
  ScratchDatabase& db() { return *db_; }
  const UpdateTree& tree() const { return tree_; }
  const std::map<std::string, std::string>& env() const { return env_; }
  const std::string& fp_before() const { return fp_before_; }
  const std::string& fp_after() const { return fp_after_; }
  const std::set<std::string>& objects_before() const { return objects_before_; }
  const std::set<std::string>& objects_after() const { return objects_after_; }

  /// The steps a revert of the failed update runs, newest first: those that committed.
  /// On PostgreSQL the failing step's run of transactional steps rolled back with it; on
  /// MariaDB the failing step itself committed its first statement.
  std::vector<StepDef> reverted_after_failure() const;
  /// "after", "before" or "neither": which of the two fingerprints fp is.
  std::string label(const std::string& fp) const;
  /// journal_problems() for the state where 2.0 is applied (or not).
  std::vector<std::string> journal_problems_with(bool update_applied) const;

 private:
  UpdateShape shape_;
  UpdateTree tree_, base_only_;
  std::vector<StepDef> steps_;
  std::unique_ptr<ScratchDatabase> db_;
  std::map<std::string, std::string> env_;
  std::string fp_before_, fp_after_;
  std::set<std::string> objects_before_, objects_after_;
};

// ---------------------------------------------------------------- report

/// One JSON object per line to the file named by INSTALLER_RELIABILITY_REPORT (set by
/// scripts/reliability.sh); nothing when it is unset.
void report(const nlohmann::json& line);
std::string engine_label();

// ---------------------------------------------------------------- environment

/// INSTALLER_CRASH_FULL=1 (scripts/reliability.sh): every kill point with both actions,
/// every statement for lost replies. Otherwise (ctest) a subset that keeps each engine's
/// suite within a few minutes: see each test.
bool full_sweep();

/// What a sanitizer build of the installer needs in its environment (Background passes
/// nothing else on): the test's own ASAN_/UBSAN_OPTIONS, and LSAN_OPTIONS with
/// tests/crash/lsan.supp. Harmless for a normal build.
std::map<std::string, std::string> sanitizer_env();
/// The installer's environment for db (through `url` when given, e.g. a proxy's), with
/// sanitizer_env() and a 10 s wait for the database (INSTALLER_WAIT_TIMEOUT).
std::map<std::string, std::string> crash_env_for(const ScratchDatabase& db, const UpdateTree& tree,
                                                 const std::string& url = "");
/// db's URL with its host and port replaced by 127.0.0.1:port; on PostgreSQL also
/// sslmode=disable, so a proxy sees the statements.
std::string url_via(const ScratchDatabase& db, int port);
/// A loopback port nothing listens on (bound, then closed again).
int closed_port();

using Clock = std::chrono::steady_clock;
inline long long ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// ---------------------------------------------------------------- TCP proxy

/// Forwards 127.0.0.1:port() to a database server, byte for byte, one thread. It can cut
/// every connection at one chosen moment: after the client sent `statement` (once it has
/// sent `after_marker`), and after the server answered it, without passing the answer
/// on. The server ran the statement; the installer sees its connection break.
class TcpProxy {
 public:
  /// listen_port 0: any free port.
  TcpProxy(std::string target_host, int target_port, int listen_port = 0);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;
  int port() const { return port_; }
  /// repeat: stay armed and cut again every time the statement comes by (the marker
  /// needs to be seen only once).
  void cut_after_reply(std::string after_marker, std::string statement, bool repeat = false);
  bool cut_done() const { return cuts_ > 0; }
  int cuts() const { return cuts_; }
  int accepted() const { return accepted_; }

 private:
  void loop();
  struct Pair {
    int client = -1, server = -1;
    std::string window;  ///< the client's last bytes, to find text split across reads
  };
  void close_all();

  std::string target_host_;
  int target_port_;
  int port_ = 0;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::thread thread_;
  std::mutex mutex_;
  std::string after_marker_, statement_;
  bool armed_ = false, marker_seen_ = false, repeat_ = false;
  std::atomic<int> cuts_{0};
  std::atomic<int> accepted_{0};
  std::vector<Pair> pairs_;
};

/// `env` with `key` set to `value`.
inline std::map<std::string, std::string> with(std::map<std::string, std::string> env, const std::string& key,
                                               const std::string& value) {
  env[key] = value;
  return env;
}

}  // namespace installer::crash
