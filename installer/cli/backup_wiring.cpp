#include "installer/cli/backup_wiring.hpp"

#include "installer/backup/take_backup.hpp"
#include "installer/catalog/release_lint.hpp"
#include "installer/util/error.hpp"
#include "installer/util/log.hpp"
#include "installer/util/redact.hpp"

#include <fmt/format.h>

namespace installer {
namespace {

/// The installer's own secrets and the files they are read from: a dump tool gets the
/// password it needs its own way, and nothing else.
std::vector<std::string> installer_secrets() {
  std::vector<std::string> names;
  for (const auto& key : setting_keys())
    if (key.secret) names.insert(names.end(), {key.env, std::string(key.env) + "_FILE"});
  return names;
}

/// What makes the updates about to be applied worth a backup under --backup-only-destructive
/// (installer verify's static checks: a drop or a rewrite in an up script), or "".
std::string first_destructive(const std::vector<const Update*>& applying, Engine engine) {
  Catalog pending;
  for (const Update* u : applying) pending.updates.push_back(*u);
  for (const auto& warning : release_warnings(pending, engine))
    if (warning.code == "destructive-up")
      return fmt::format("{} drops or rewrites: {}", warning.update, warning.to_string());
  return "";
}

}  // namespace

void arm_backup(const Settings& s, Session& session, const std::atomic<int>* stop) {
  if (s.backup_dir.empty()) return;
  Database* db = session.db.get();
  session.ctx->before_first_change = [&s, db, stop](const std::string& before,
                                                    const std::vector<const Update*>& applying) -> std::string {
    if (s.backup_only_destructive && !applying.empty()) {
      if (auto destructive = first_destructive(applying, s.connection.engine); destructive.empty()) {
        log::info("backup: none taken (--backup-only-destructive): no update to apply drops or rewrites anything");
        return "";
      } else {
        log::info("backup: {} (--backup-only-destructive)", destructive);
      }
    }
    BackupRequest request;
    request.dir = s.backup_dir;
    request.connection = s.connection;
    request.before = before;
    request.keep = s.backup_keep;
    request.withheld_env = installer_secrets();
    request.stop = stop;
    request.grace = s.grace / 2;
    request.progress_interval = s.progress_interval;
    try {
      request.server_major = server_major_version(*db);
      return take_backup(request).note();
    } catch (const StoppedDuringBackup& e) {
      throw UserError(static_cast<ExitCode>(128 + e.signal()),
                      fmt::format("stopped by a signal while the backup before {} was taken: the dump was stopped and "
                                  "its partial file removed; nothing was applied",
                                  before));
    } catch (const BackupError& e) {
      if (s.backup_required)
        throw UserError(exit_cantcreat,
                        fmt::format("the backup before {} failed, so nothing was applied: {}\n  fix it, or start with "
                                    "--backup-required=false (INSTALLER_BACKUP_REQUIRED=false) to go on without one",
                                    before, redact(e.what())));
      log::warn("the backup before {} failed, and --backup-required=false: going on without one: {}", before,
                redact(e.what()));
      return "";
    }
  };
}

}  // namespace installer
