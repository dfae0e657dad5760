#include "installer/cli/session.hpp"

#include "installer/cli/connect.hpp"
#include "installer/engine/exact_undo.hpp"

#include <fmt/format.h>

#include <pwd.h>
#include <unistd.h>

namespace installer {
namespace {

std::string host_name() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof buffer - 1) != 0) return "unknown";
  return buffer;
}

}  // namespace

std::string operator_identity() {
  uid_t uid = geteuid();
  struct passwd* entry = getpwuid(uid);
  return fmt::format("{} (uid {})", entry && entry->pw_name ? entry->pw_name : "unknown user", static_cast<long>(uid));
}

Session open_session(const Settings& s, bool wait, const std::atomic<int>* stop) {
  return session_for(s, wait ? wait_for_database(s, stop) : connect_database(s));
}

Session session_for(const Settings& s, std::unique_ptr<Database> db) {
  Session session;
  session.db = std::move(db);
  session.journal = std::make_unique<SqlJournal>(*session.db, s.journal_schema);
  session.ctx = std::make_unique<EngineContext>(
      EngineContext{*session.db, *session.journal, s.journal_schema, host_name()});
  session.ctx->partial_revert = partial_revert_from_environment();
  return session;
}

}  // namespace installer
