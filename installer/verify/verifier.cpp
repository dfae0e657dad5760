#include "installer/verify/verifier.hpp"

#include "installer/catalog/sql_splitter.hpp"
#include "installer/engine/fault_injection.hpp"
#include "installer/engine/migrator.hpp"
#include "installer/engine/schema_compare.hpp"
#include "installer/util/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>
#include <sstream>

namespace installer {
namespace {

using Clock = std::chrono::steady_clock;

long long ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

void migrate_to(ScratchSession& db, const Catalog& catalog) {
  Migrator migrator(db.ctx(), catalog);
  migrator.migrate(MigrateOptions{});
}

void remove(ScratchSession& db, const std::string& id) {
  Catalog none;
  std::ostringstream out;  // what --remove-update prints; verify reports differently
  Migrator(db.ctx(), none).remove_update(id, false, out);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool mentions(const std::string& lowered_text, const std::string& word) {
  for (size_t at = lowered_text.find(word); at != std::string::npos; at = lowered_text.find(word, at + 1)) {
    auto is_name_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    bool starts = at == 0 || !is_name_char(lowered_text[at - 1]);
    bool ends = at + word.size() >= lowered_text.size() || !is_name_char(lowered_text[at + word.size()]);
    if (starts && ends) return true;
  }
  return false;
}

/// The step whose up script names the object (its last name part), for pointing the
/// vendor at the down script to fix.
std::string suspect_step(const Update& update, const ObjectDifference& difference) {
  std::string bare = lower(difference.name.substr(difference.name.rfind('.') + 1));
  for (auto step = update.steps.rbegin(); step != update.steps.rend(); ++step)
    if (mentions(lower(step->up.text), bare)) return step->name;
  return {};
}

/// The differences of `now` from `expected`, one line each, with the step that made the
/// object where one can be named.
std::string differences(const Snapshot& now, const Snapshot& expected, const Update* update) {
  std::vector<ObjectDifference> found = now.differences_from(expected);
  std::string out;
  size_t shown = 0;
  for (const auto& d : found) {
    if (++shown > kDifferencesShown) {
      out += fmt::format("\n... and {} more", found.size() - kDifferencesShown);
      break;
    }
    std::string step = update ? suspect_step(*update, d) : std::string();
    out += (out.empty() ? "" : "\n") + describe_difference(d) +
           (step.empty() ? "" : fmt::format(" [step {}: its up script names it]", step));
  }
  return out;
}

/// Whether the engine commits the update's steps together (then no step stops half-way).
bool atomic_update(const Update& update, Engine engine) {
  return engine == Engine::postgres &&
         std::all_of(update.steps.begin(), update.steps.end(), [](const Step& s) { return s.transactional; });
}

}  // namespace

Catalog first_updates(const Catalog& catalog, size_t count) {
  Catalog out;
  out.updates.assign(catalog.updates.begin(), catalog.updates.begin() + static_cast<long>(count));
  return out;
}

Verifier::Verifier(ScratchPool& pool, const Catalog& catalog, VerifyOptions options, VerifyReport& report)
    : pool_(pool),
      catalog_(catalog),
      options_(std::move(options)),
      report_(report),
      engine_(engine_name(pool.server().engine())) {}

void Verifier::run() {
  auto db = pool_.fresh();
  for (size_t i = 0; i < catalog_.updates.size() && db && !stopping(); ++i) {
    if (options_.progress)
      options_.progress(fmt::format("verify {}: update {} ({} of {})", engine_, catalog_.updates[i].id, i + 1,
                                    catalog_.updates.size()));
    verify_update(i, db);
  }
  if (db) pool_.discard(db);
  if (options_.previous && !stopping()) upgrade_path();
}

void Verifier::record(CheckResult result) {
  // A check a stop cut short says nothing about the updates.
  if (!stopping()) report_.checks.push_back(std::move(result));
}

std::unique_ptr<ScratchSession> Verifier::rebuilt(size_t count) {
  if (stopping()) return nullptr;
  auto db = pool_.fresh();
  try {
    migrate_to(*db, first_updates(catalog_, count));
    return db;
  } catch (const UserError& e) {
    const Update& last = catalog_.updates[count > 0 ? count - 1 : 0];
    record({engine_,
            "round-trip",
            last.id,
            {},
            "rebuild for the checks that follow",
            fmt::format("the first {} updates did not apply again on a fresh database:\n{}", count, e.what()),
            0});
    pool_.discard(db);
    return nullptr;
  }
}

/// On `db` holding the updates before `index`: the round trip; then, where steps commit
/// apart, from the state before the update every partial failure; the update applied at
/// the end for the next one (on a database rebuilt after a check that failed).
void Verifier::verify_update(size_t index, std::unique_ptr<ScratchSession>& db) {
  const Update& update = catalog_.updates[index];
  Snapshot before = current_schema(db->ctx());
  RoundTrip outcome = round_trip(index, before, *db);
  if (outcome == RoundTrip::not_applied) {
    // Nothing after it can be checked: every later update needs it applied.
    pool_.discard(db);
    if (index + 1 < catalog_.updates.size())
      record({engine_,
              "round-trip",
              catalog_.updates[index + 1].id,
              {},
              "the updates after " + update.id,
              fmt::format("not checked: {} does not apply", update.id),
              0});
    return;
  }
  if (outcome == RoundTrip::failed) {
    // The comparisons are made update by update, so what a wrong down left behind does
    // not matter to the next update's checks: apply it again where that works, rather
    // than rebuild (a history with many such downs stays linear).
    try {
      migrate_to(*db, first_updates(catalog_, index + 1));
    } catch (const UserError&) {
      pool_.discard(db);
      db = rebuilt(index + 1);
    }
    return;
  }
  if (atomic_update(update, pool_.server().engine()) || stopping()) return;
  try {
    remove(*db, update.id);
    partial_failures(index, before, db);
    if (db) migrate_to(*db, first_updates(catalog_, index + 1));
  } catch (const UserError&) {
    // The round trip did both a moment ago; only a stop gets here.
    if (!stopping()) throw;
  }
}

/// Apply, revert, compare with `before`; apply again, compare with the first apply.
/// Leaves the update applied when it passed; after anything else the database is no
/// longer fit for the next check.
Verifier::RoundTrip Verifier::round_trip(size_t index, const Snapshot& before, ScratchSession& db) {
  const Update& update = catalog_.updates[index];
  Catalog through = first_updates(catalog_, index + 1);
  auto started = Clock::now();
  CheckResult result{engine_, "round-trip", update.id, {}, update.id + " round trip", {}, 0};
  std::string stage = "apply";
  Snapshot applied;
  try {
    migrate_to(db, through);
    applied = current_schema(db.ctx());
    stage = "revert (installer --remove-update)";
    std::string revert_error;
    try {
      remove(db, update.id);
    } catch (const UserError& e) {
      revert_error = e.what();
    }
    std::string left = differences(current_schema(db.ctx()), before, &update);
    if (!left.empty())
      result.failure = fmt::format("after its revert the schema differs from before {}: its down scripts do not undo "
                                   "what its up scripts did:\n{}",
                                   update.id, left);
    else if (!revert_error.empty()) result.failure = "the revert failed:\n" + revert_error;
    if (result.failure.empty()) {
      stage = "apply again after the revert";
      migrate_to(db, through);
      std::string again = differences(current_schema(db.ctx()), applied, &update);
      if (!again.empty())
        result.failure = fmt::format("applied again after its revert, the schema differs from its first apply:\n{}",
                                     again);
    }
  } catch (const UserError& e) {
    result.failure = fmt::format("{} failed:\n{}", stage, e.what());
  }
  result.duration_ms = ms_since(started);
  RoundTrip outcome = result.passed()    ? RoundTrip::passed
                      : stage == "apply" ? RoundTrip::not_applied
                                         : RoundTrip::failed;
  record(std::move(result));
  if (outcome == RoundTrip::passed && options_.applied) options_.applied(index, db, applied);
  return outcome;
}

void Verifier::partial_failures(size_t index, const Snapshot& before, std::unique_ptr<ScratchSession>& db) {
  const Update& update = catalog_.updates[index];
  const bool postgres = pool_.server().engine() == Engine::postgres;
  for (size_t step = 0; step < update.steps.size(); ++step) {
    const Step& s = update.steps[step];
    // A step in a transaction fails whole: once, at its first statement, is every case.
    size_t cases = postgres && s.transactional ? std::min<size_t>(1, s.up.statements.size()) : s.up.statements.size();
    for (size_t k = 1; k <= cases && db && !stopping(); ++k) {
      if (partial_failure(index, step, k, before, *db)) continue;
      pool_.discard(db);
      db = rebuilt(index);
    }
  }
}

/// Statement `statement` (1-based) of the step fails after those before it committed;
/// the installer reverts; the schema must be what it was before the update. Returns
/// whether the database is still usable for the next case.
bool Verifier::partial_failure(size_t index, size_t step, size_t statement, const Snapshot& before,
                               ScratchSession& db) {
  const Update& update = catalog_.updates[index];
  const Step& s = update.steps[step];
  const Statement& failing = s.up.statements[statement - 1];
  auto started = Clock::now();
  CheckResult result{engine_,
                     "partial-failure",
                     update.id,
                     s.name,
                     fmt::format("{} step {} fails at statement {} of {}", update.id, s.name, statement,
                                 s.up.statements.size()),
                     {},
                     0};
  FaultSpec spec;
  spec.phase = "apply";
  spec.update = update.id;
  spec.step = s.name;
  spec.point = statement == 1 ? "before" : fmt::format("statement={}", statement - 1);
  spec.action = "fail";
  spec.failure.file = s.up.path.string();
  spec.failure.line = failing.line;
  spec.failure.text = failing.text;
  spec.failure.message = fmt::format("installer verify made this statement fail, after the {} before it committed",
                                     statement - 1);
  FaultPoint fault(spec);
  db.ctx().fault = &fault;
  bool usable = true;
  try {
    migrate_to(db, first_updates(catalog_, index + 1));
    result.failure = "the injected failure was not reached: the update applied";
    usable = false;
  } catch (const UserError& e) {
    std::string left = differences(current_schema(db.ctx()), before, &update);
    if (e.code() == exit_revert_failed) {
      result.failure = fmt::format("the revert after the failure failed:\n{}", e.what());
      usable = false;
    } else if (!left.empty()) {
      result.failure = fmt::format(
          "after the revert the schema differs from before {}: what committed was not undone:\n{}", update.id, left);
      usable = false;
    } else if (e.code() != exit_update_failed) {
      result.failure = e.what();
      usable = false;
    }
  }
  db.ctx().fault = nullptr;
  result.duration_ms = ms_since(started);
  record(std::move(result));
  return usable;
}

void Verifier::upgrade_path() {
  const Catalog& previous = *options_.previous;
  if (catalog_.updates.empty() || previous.updates.empty()) return;
  if (options_.progress) options_.progress(fmt::format("verify {}: upgrade from the previous release", engine_));
  const Update& last = catalog_.updates.back();
  auto started = Clock::now();
  CheckResult result{engine_,
                     "upgrade-path",
                     last.id,
                     {},
                     fmt::format("upgrade from {} to {}", previous.updates.back().id, last.id),
                     {},
                     0};
  auto upgraded = pool_.fresh();
  auto fresh = pool_.fresh();
  std::string stage = "the previous release's updates did not apply to an empty database";
  try {
    migrate_to(*upgraded, previous);
    stage = "this release's updates did not apply on top of the previous release";
    migrate_to(*upgraded, catalog_);
    stage = "this release's updates did not apply to an empty database";
    migrate_to(*fresh, catalog_);
    std::string differ = differences(current_schema(upgraded->ctx()), current_schema(fresh->ctx()), nullptr);
    if (!differ.empty())
      result.failure = "upgraded from the previous release, the schema differs from this release installed on an "
                       "empty database:\n" +
                       differ;
  } catch (const UserError& e) {
    result.failure = fmt::format("{}:\n{}", stage, e.what());
  }
  pool_.discard(upgraded);
  result.duration_ms = ms_since(started);
  bool fresh_ok = result.failure.empty();
  record(std::move(result));
  if (fresh_ok && !stopping()) downgrade_path(*fresh);
  pool_.discard(fresh);
}

/// On `installed` (this release applied): remove what the previous release lacks,
/// newest first, as an operator rolling back the image does; compare with the previous
/// release installed alone.
void Verifier::downgrade_path(ScratchSession& installed) {
  const Catalog& previous = *options_.previous;
  auto started = Clock::now();
  const Update& last = catalog_.updates.back();
  CheckResult result{engine_,
                     "upgrade-path",
                     last.id,
                     {},
                     fmt::format("downgrade from {} to {}", last.id, previous.updates.back().id),
                     {},
                     0};
  std::set<std::string> kept;
  for (const auto& u : previous.updates) kept.insert(u.id);
  auto alone = pool_.fresh();
  std::string stage;
  try {
    for (auto u = catalog_.updates.rbegin(); u != catalog_.updates.rend(); ++u) {
      if (kept.count(u->id)) continue;
      stage = "installer --remove-update " + u->id + " failed";
      remove(installed, u->id);
    }
    stage = "the previous release's updates did not apply to an empty database";
    migrate_to(*alone, previous);
    std::string differ = differences(current_schema(installed.ctx()), current_schema(alone->ctx()), nullptr);
    if (!differ.empty())
      result.failure = "after removing the updates the previous release lacks, the schema differs from the previous "
                       "release installed alone:\n" +
                       differ;
  } catch (const UserError& e) {
    result.failure = fmt::format("{}:\n{}", stage, e.what());
  }
  pool_.discard(alone);
  result.duration_ms = ms_since(started);
  record(std::move(result));
}

}  // namespace installer
