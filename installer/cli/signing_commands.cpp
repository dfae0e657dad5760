#include "installer/cli/signing_commands.hpp"

#include "installer/catalog/bundle_reader.hpp"
#include "installer/catalog/bundle_writer.hpp"
#include "installer/catalog/update_loader.hpp"
#include "installer/catalog/update_signing.hpp"
#include "installer/util/error.hpp"
#include "installer/util/file_reading.hpp"
#include "installer/util/sha256.hpp"

#include <fmt/format.h>
#include <boost/filesystem.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <set>

namespace fs = boost::filesystem;

namespace installer {
namespace {

/// The update in `dir`, checked as each engine would read it: what is signed or bundled
/// must be an update the installer accepts.
Update checked_update(const std::string& dir) {
  boost::system::error_code ec;
  if (!fs::is_directory(dir, ec)) throw UserError(exit_usage, fmt::format("{}: not an update directory", dir));
  std::vector<Problem> problems;
  std::set<std::string> seen;
  Update update;
  for (Engine engine : {Engine::postgres, Engine::mariadb}) {
    LoadedUpdate loaded = load_update(DirectoryFiles(dir), engine, {}, ScriptParsing::on_load);
    for (auto& p : loaded.problems)
      if (seen.insert(p.to_string()).second) problems.push_back(std::move(p));
    update = std::move(loaded.update);
  }
  if (!problems.empty()) throw CatalogError(std::move(problems));
  return update;
}

SecretKey secret_key_from(const std::string& file) {
  try {
    return load_secret_key(file);
  } catch (const SigningError& e) {
    throw UserError(exit_config, e.what());
  }
}

/// update.sig's text for the update in `tree` as it is now.
std::string signature_for(const UpdateFiles& tree, const Update& update, const SecretKey& key) {
  std::vector<Problem> problems;
  auto content = signed_content_of(tree, update.id, update.version, problems);
  if (!content) throw CatalogError(std::move(problems));
  try {
    return signature_file_text(*content, key);
  } catch (const SigningError& e) {
    throw UserError(exit_data, fmt::format("{}: {}", tree.root().string(), e.what()));
  }
}

void write_file_atomically(const std::string& path, const std::string& text) {
  std::string temporary = path + ".partial";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  int saved = errno;
  if (fd >= 0) ::close(fd);
  if (ok && std::rename(temporary.c_str(), path.c_str()) == 0) return;
  if (ok) saved = errno;
  std::remove(temporary.c_str());
  throw UserError(exit_cantcreat, fmt::format("cannot write {}: {}", path, std::strerror(saved)));
}

/// Every file of the update by relative path, read: what goes into its bundle. A link is
/// refused: it would put the bytes of whatever it points at (outside the update, maybe)
/// into a file that ships.
std::map<std::string, std::string> files_of(const DirectoryFiles& tree) {
  std::vector<Problem> problems;
  std::map<std::string, std::string> files;
  boost::system::error_code ec;
  auto names = tree.all_files(problems);
  for (const auto& name : names.value_or(std::vector<std::string>{})) {
    if (fs::is_symlink(tree.path_of(name), ec))
      problems.push_back({tree.path_of(name).string(), 0,
                          "is a symbolic link: a bundle holds files only; copy the file into the update instead"});
    else if (auto bytes = tree.read(name, problems)) files.emplace(name, std::move(*bytes));
  }
  if (!problems.empty()) throw CatalogError(std::move(problems));
  return files;
}

}  // namespace

int do_keygen(const std::string& prefix) {
  try {
    PublicKey key = write_key_pair(prefix);
    std::cout << fmt::format(
        "key {}\n  {}.key  the private key (mode 0600): keep it secret, e.g. in your CI's secret store\n  {}.pub  the "
        "public key: bake it into the image and point INSTALLER_TRUSTED_KEYS at it\n",
        key.id, prefix, prefix);
    return exit_ok;
  } catch (const SigningError& e) {
    throw UserError(exit_cantcreat, e.what());
  }
}

int do_sign(const std::string& update_dir, const std::string& key_file) {
  SecretKey key = secret_key_from(key_file);
  Update update = checked_update(update_dir);
  DirectoryFiles tree(update_dir);
  std::string text = signature_for(tree, update, key);
  std::string path = tree.path_of(kSignatureFileName).string();
  write_file_atomically(path, text);
  std::cout << fmt::format("signed update {} (version {}) with key {}: wrote {}\n", update.id, update.version,
                           key.public_key().id, path);
  return exit_ok;
}

int do_bundle(const std::string& update_dir, const std::string& output, const std::string& key_file) {
  std::optional<SecretKey> key;
  if (!key_file.empty()) key = secret_key_from(key_file);
  if (!is_bundle_name(fs::path(output).filename().string()))
    throw UserError(exit_usage,
                    fmt::format("{}: a bundle's name ends in .tar, .tar.gz, .tgz, .tar.zst or .tzst", output));
  Update update = checked_update(update_dir);
  DirectoryFiles tree(update_dir);
  std::map<std::string, std::string> files = files_of(tree);
  if (key) files[kSignatureFileName] = signature_for(tree, update, *key);
  try {
    write_bundle(fs::absolute(update_dir).lexically_normal().filename().string(), files, output);
  } catch (const BundleWriteError& e) {
    throw UserError(exit_cantcreat, e.what());
  }
  // Read back as a start would: a bundle over the limits is refused here, not on a customer's volume.
  std::vector<Problem> problems;
  if (!read_bundle(output, problems)) {
    std::remove(output.c_str());  // a bundle no start would take is not left behind
    throw CatalogError(std::move(problems));
  }
  std::string why;
  auto bytes = read_regular_file(output, std::size_t{1} << 31, why);
  std::cout << fmt::format("wrote {}: update {} (version {}), {} files{}, sha256 {}\n", output, update.id,
                           update.version, files.size(), key ? ", signed by " + key->public_key().id : "",
                           bytes ? sha256_hex(*bytes) : "?");
  return exit_ok;
}

}  // namespace installer
