#include "installer/cli/arguments.hpp"

#include "installer/util/exit_codes.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstring>
#include <map>

namespace installer {
namespace {

// Every code the program exits with; docs/cli.md's table says the same at more length.
const char* const kDescription =
    "installer: installs and updates a product's database schema, then runs the product.\n"
    "Docs: docs/cli.md. Exit codes: 0 ok, 64 usage, 65 invalid updates or refused, 69 database unreachable,\n"
    "70 update failed and reverted, 71 unexpected error, 72 install hook failed or refused, 73 cannot write a file,\n"
    "75 lock timeout, 77 credentials refused, 78 configuration, 79 revert failed, 126/127 application not executable /\n"
    "not found, 128+N stopped by signal N.";

const char* value_name_for(const std::string& name) {
  auto has = [&name](const char* part) { return name.find(part) != std::string::npos; };
  if (has("url")) return "URL";
  if (has("format")) return "FORMAT";
  if (has("keys")) return "FILE|DIR";
  if (has("dir") || has("templates") || has("defaults") || has("hooks")) return "DIR";
  if (has("timeout") || has("grace") || has("delay") || has("interval")) return "DURATION";
  if (has("port")) return "PORT";
  if (has("listen")) return "ADDR:PORT";
  if (has("user") && !has("db-")) return "NAME[:GROUP]";
  return "VALUE";
}

/// Where CLI11 puts what it parses, before it becomes Arguments.
struct Parsed {
  std::map<std::string, std::string> values;
  std::vector<std::string> updates;
  std::vector<std::string> scratch_urls;
  bool auto_remove = false;
  bool adopt = false;
  bool backup_only_destructive = false;
  bool process_group = false;
  std::vector<std::string> command, run_command;
  std::map<Subcommand, CLI::App*> subcommands;
};

void add_setting_options(CLI::App& app, Parsed& parsed) {
  app.add_option("--updates", parsed.updates, "update directory (repeatable; INSTALLER_UPDATES, ':'-separated)")
      ->type_name("DIR")
      ->allow_extra_args(false);  // one directory per --updates: a word after it is not another directory
  for (const auto& key : setting_keys()) {
    std::string name = key.name;
    if (name == "updates" || name == "db-password" || name == "auto-remove-unknown" || name == "adopt" ||
        name == "backup-only-destructive" || name == "process-group" || name == "verify-scratch-url")
      continue;
    app.add_option("--" + name, parsed.values[name], std::string(key.help) + " (" + key.env + ")")
        ->type_name(value_name_for(name));
  }
  app.add_option("--config", parsed.values["config"], "key=value configuration file (INSTALLER_CONFIG)")
      ->type_name("FILE");
  app.add_flag("--auto-remove-unknown", parsed.auto_remove,
               "remove applied updates that no update directory contains (INSTALLER_AUTO_REMOVE_UNKNOWN)");
  app.add_flag("--adopt", parsed.adopt,
               "adopt a database that has tables but no journal: from another tool's history table, or by its "
               "schema (INSTALLER_ADOPT)");
  app.add_flag("--backup-only-destructive", parsed.backup_only_destructive,
               "with --backup-dir: back up only when an update to apply drops or rewrites something "
               "(INSTALLER_BACKUP_ONLY_DESTRUCTIVE)");
  app.add_flag("--process-group", parsed.process_group,
               "forward signals to the application's whole process group (INSTALLER_PROCESS_GROUP)");
}

void add_verify(CLI::App& app, Parsed& parsed, Arguments& args) {
  CLI::App* verify = parsed.subcommands[Subcommand::verify] = app.add_subcommand(
      "verify", "release check on scratch databases: lint, round trip, every partial failure, upgrade path (exit 1: "
                "a check failed)");
  verify
      ->add_option("--scratch-url", parsed.scratch_urls,
                   "a server where verify creates and drops databases of its own; twice for both engines "
                   "(INSTALLER_VERIFY_SCRATCH_URL; default INSTALLER_DB_ADMIN_URL)")
      ->type_name("URL")
      ->allow_extra_args(false);
  verify
      ->add_option("--from", args.from_dirs, "the previous release's update directory (repeatable): check the upgrade")
      ->type_name("DIR")
      ->allow_extra_args(false);
  verify->add_option("--junit", args.junit_file, "also write the results as JUnit XML")->type_name("FILE");
  verify->add_flag("--strict", args.strict, "warnings fail the run too");
  verify->add_flag("--record", args.record,
                   "when every check passes, write the schema after each update beside the updates, per engine "
                   "(installer-snapshots.ENGINE.json in the first --updates directory): what --adopt recognises a "
                   "database by");
}

void add_baseline(CLI::App& app, Parsed& parsed, Arguments& args) {
  CLI::App* baseline = parsed.subcommands[Subcommand::baseline] = app.add_subcommand(
      "baseline", "journal a database without a journal as being at UPDATE_ID, once its schema matches the snapshot "
                  "recorded after it");
  baseline->add_option("update", args.baseline_id, "the update the database is at")->type_name("UPDATE_ID")->required();
  baseline->add_flag("--force", args.force,
                     "journal it even when the schema differs from the snapshot or none was shipped (the journal "
                     "says so)");
}

void add_signing(CLI::App& app, Parsed& parsed, Arguments& args) {
  CLI::App* keygen = parsed.subcommands[Subcommand::keygen] = app.add_subcommand(
      "keygen", "write a new Ed25519 key pair: PREFIX.key (private, mode 0600) and PREFIX.pub (for --trusted-keys)");
  keygen->add_option("-o,--output", args.output, "where to write the two files")->type_name("PREFIX")->required();
  CLI::App* sign = parsed.subcommands[Subcommand::sign] = app.add_subcommand(
      "sign", "sign an update directory: writes DIR/update.sig over every file of it");
  sign->add_option("update", args.update_dir, "the update directory")->type_name("DIR")->required();
  sign->add_option("--key", args.key_file, "the private key (from installer keygen)")->type_name("FILE")->required();
  CLI::App* bundle = parsed.subcommands[Subcommand::bundle] = app.add_subcommand(
      "bundle", "write an update directory as one file (.tar, .tar.gz, .tar.zst), the same bytes every time");
  bundle->add_option("update", args.update_dir, "the update directory")->type_name("DIR")->required();
  bundle->add_option("-o,--output", args.output, "the bundle to write")->type_name("FILE")->required();
  bundle->add_option("--sign", args.key_file, "sign it with this private key (update.sig inside the bundle)")
      ->type_name("KEY");
}

void add_backups(CLI::App& app, Parsed& parsed, Arguments& args) {
  parsed.subcommands[Subcommand::backups] = app.add_subcommand(
      "backups", "the backups in --backup-dir, oldest first (docs/backup.md)");
  CLI::App* restore = parsed.subcommands[Subcommand::restore] = app.add_subcommand(
      "restore", "drop the database and recreate it from a backup of --backup-dir, its checksum checked first");
  restore->add_option("file", args.restore_file, "the backup (.dump)")->type_name("FILE")->required();
  restore->add_flag("--yes", args.yes, "do it: the database is dropped first");
}

void add_subcommands(CLI::App& app, Parsed& parsed, Arguments& args) {
  auto& sub = parsed.subcommands;
  sub[Subcommand::migrate] = app.add_subcommand("migrate", "install and update, then exit (init container / Job)");
  sub[Subcommand::status] = app.add_subcommand(
      "status", "updates applied and pending, the schema against its snapshot, what needs attention");
  sub[Subcommand::plan] = app.add_subcommand("plan", "the updates migrate would apply, step by step (dry run)");
  sub[Subcommand::history] = app.add_subcommand("history", "every attempt recorded in the journal");
  sub[Subcommand::diff] = app.add_subcommand(
      "diff", "the schema against the snapshot recorded after the last update, object by object (exit 1: differs)");
  sub[Subcommand::diff]
      ->add_option("--against", args.against, "compare with the snapshot recorded after this update instead")
      ->type_name("UPDATE_ID");
  add_verify(app, parsed, args);
  add_baseline(app, parsed, args);
  add_signing(app, parsed, args);
  add_backups(app, parsed, args);
  for (auto report : {Subcommand::status, Subcommand::plan, Subcommand::history, Subcommand::diff, Subcommand::verify,
                      Subcommand::backups})
    sub[report]->add_flag("--json", args.json, "machine-readable output");
  sub[Subcommand::version] = app.add_subcommand("version", "print the version and exit");
  sub[Subcommand::run] = app.add_subcommand("run", "install and update, then run the command after -- (the default)");
  sub[Subcommand::run]->add_option("command", parsed.run_command, "the application and its arguments, after --");
  for (auto& [which, command] : sub) command->fallthrough();
}

CliValues setting_values(const Parsed& parsed) {
  CliValues cli;
  for (const auto& [name, value] : parsed.values)
    if (!value.empty()) cli[name] = value;
  if (!parsed.updates.empty()) {
    std::string joined;
    for (const auto& u : parsed.updates) joined += (joined.empty() ? "" : ":") + u;
    cli["updates"] = joined;
  }
  if (!parsed.scratch_urls.empty()) {
    std::string joined;
    for (const auto& u : parsed.scratch_urls) joined += (joined.empty() ? "" : " ") + u;
    cli["verify-scratch-url"] = joined;
  }
  if (parsed.auto_remove) cli["auto-remove-unknown"] = "true";
  if (parsed.adopt) cli["adopt"] = "true";
  if (parsed.backup_only_destructive) cli["backup-only-destructive"] = "true";
  if (parsed.process_group) cli["process-group"] = "true";
  return cli;
}

}  // namespace

std::optional<Arguments> parse_arguments(int argc, char** argv, int& exit_code) {
  CLI::App app{kDescription, "installer"};
  app.set_version_flag("--version", std::string("installer ") + INSTALLER_VERSION);
  app.require_subcommand(0, 1);
  Arguments args;
  Parsed parsed;
  add_setting_options(app, parsed);
  app.add_option("--remove-update", args.remove_id,
                 "revert one applied update with the down scripts in the journal, then exit")
      ->type_name("ID");
  app.add_flag("--dry-run", args.dry_run, "with --remove-update: print the down scripts instead of running them");
  app.add_option("command", parsed.command, "after --: the application to run once the database is up to date");
  add_subcommands(app, parsed, args);

  // Everything after the first "--" is the application's, whatever precedes it: CLI11
  // would otherwise end a repeatable option's values at "--" and parse the application's
  // own flags as ours.
  int ours = argc;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--") == 0) {
      ours = i;
      break;
    }
  args.after_separator.assign(argv + std::min(ours + 1, argc), argv + argc);
  args.has_separator = ours < argc;
  try {
    app.parse(ours, argv);
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e) == 0 ? exit_ok : exit_usage;
    return std::nullopt;
  }
  for (const auto& [which, command] : parsed.subcommands)
    if (*command) args.subcommand = which;
  args.settings = setting_values(parsed);
  args.stray = parsed.command;
  args.stray.insert(args.stray.end(), parsed.run_command.begin(), parsed.run_command.end());
  args.help = app.help();
  return args;
}

}  // namespace installer
