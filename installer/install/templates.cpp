#include "installer/install/templates.hpp"

#include "installer/util/error.hpp"
#include "installer/util/file_reading.hpp"
#include "installer/util/redact.hpp"
#include "installer/util/secret_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <boost/filesystem.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>
#include <utility>

namespace fs = boost::filesystem;

namespace installer {

VariableLookup environment_variables() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (const char* v = std::getenv(name.c_str())) return std::string(v);
    if (const char* file = std::getenv((name + "_FILE").c_str())) {
      std::string value = read_secret_file(file, name + "_FILE");  // a secret, as INSTALLER_*_FILE
      register_secret(value);
      return value;
    }
    return std::nullopt;
  };
}

std::string render_template(const std::string& text, const VariableLookup& lookup, const std::string& file) {
  std::string out;
  std::vector<std::string> missing;
  int line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') ++line;
    if (c != '$') {
      out += c;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '{') {
      out += c;
      continue;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string::npos) {
      missing.push_back(
          fmt::format("{}:{}: unterminated ${{ (close it with }}, or write $$ for a literal $)", file, line));
      break;
    }
    std::string inside = text.substr(i + 2, close - i - 2);
    std::string name = inside;
    std::optional<std::string> fallback;
    if (auto dash = inside.find(":-"); dash != std::string::npos) {
      name = inside.substr(0, dash);
      fallback = inside.substr(dash + 2);
    }
    bool valid = !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_');
    for (char n : name) valid = valid && (std::isalnum(static_cast<unsigned char>(n)) || n == '_');
    if (!valid) {
      missing.push_back(fmt::format("{}:{}: '${{{}}}' is not a variable reference (${{NAME}} or ${{NAME:-default}})",
                                    file, line, inside.substr(0, 40)));
    } else if (auto value = lookup(name); value && !value->empty()) {
      out += *value;
    } else if (fallback) {
      out += *fallback;
    } else if (value) {
      out += *value;  // set but empty, and no default: empty is what was asked for
    } else {
      missing.push_back(fmt::format("{}:{}: ${{{}}} is not set (set {} or {}_FILE, or give a default: ${{{}:-...}})",
                                    file, line, name, name, name, name));
    }
    for (size_t k = i; k < close; ++k)
      if (text[k] == '\n') ++line;
    i = close;
  }
  if (!missing.empty()) {
    std::string message = "configuration template cannot be rendered:";
    for (const auto& m : missing) message += "\n  " + m;
    throw UserError(exit_config, message);
  }
  return out;
}

namespace {

/// A file descriptor, closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_;
};

bool write_all(int fd, const std::string& text, int& err) {
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      return false;
    }
    written += static_cast<size_t>(n);
  }
  return true;
}

UserError config_error(const std::string& message) { return UserError(exit_config, message); }

/// Why an entry of type `st` cannot stand where the installer goes (a directory on the
/// way, or the file it writes when `leaf`); "" when it can.
std::string refusal(const struct stat& st, const fs::path& shown, bool leaf) {
  if (S_ISLNK(st.st_mode))
    return fmt::format("{} is a symbolic link: the installer writes configuration only inside --config-dir and never "
                       "through a link there; replace the link with a {}",
                       shown.string(), leaf ? "regular file" : "directory");
  if (!leaf && !S_ISDIR(st.st_mode)) return fmt::format("{} is not a directory", shown.string());
  if (leaf && S_ISDIR(st.st_mode))
    return fmt::format("{} is a directory, where a configuration file goes", shown.string());
  if (leaf && !S_ISREG(st.st_mode)) return fmt::format("{} is not a regular file", shown.string());
  return "";
}

/// Why `name` in `dir` could not be opened (with errno `err`), in the operator's words.
std::string open_failure(int dir, const std::string& name, const fs::path& shown, bool leaf, int err) {
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    std::string why = refusal(st, shown, leaf);
    if (!why.empty()) return why;
  }
  return fmt::format("cannot open {}: {}", shown.string(), std::strerror(err));
}

/// The configuration directory itself, opened (through a link: it is the operator's
/// choice). Without `create`, an invalid Fd when it does not exist yet.
Fd open_root(const fs::path& root, bool create) {
  Fd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  int err = fd ? 0 : errno;
  if (err == ENOENT && create) {
    boost::system::error_code ec;
    fs::create_directories(root, ec);
    if (ec) throw config_error(fmt::format("cannot create --config-dir {}: {}", root.string(), ec.message()));
    fd = Fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    err = fd ? 0 : errno;
  }
  if (fd || (err == ENOENT && !create)) return fd;
  if (err == ENOTDIR) throw config_error(fmt::format("--config-dir {} is not a directory", root.string()));
  throw config_error(fmt::format("cannot open --config-dir {}: {}", root.string(), std::strerror(err)));
}

/// The directory a target goes in, opened without following any link below the root,
/// and the target's name in it. `dir` is invalid when, without `create`, a directory on
/// the way does not exist yet: then nothing stands in the way.
struct Place {
  Fd dir;
  std::string name;
};

Place walk(const fs::path& root, const fs::path& relative, bool create) {
  std::vector<std::string> parts;
  for (const auto& part : relative) parts.push_back(part.string());
  bool inside = !parts.empty() && relative.is_relative();
  for (const auto& part : parts) inside = inside && part != "." && part != ".." && part != "/" && !part.empty();
  if (!inside)
    throw config_error(fmt::format("{} is not a path inside --config-dir {}", relative.string(), root.string()));
  Place place{open_root(root, create), parts.back()};
  fs::path shown = root;
  for (size_t i = 0; place.dir && i + 1 < parts.size(); ++i) {
    shown /= parts[i];
    if (create && ::mkdirat(place.dir.get(), parts[i].c_str(), 0777) != 0 && errno != EEXIST)
      throw config_error(fmt::format("cannot create directory {}: {}", shown.string(), std::strerror(errno)));
    Fd next(::openat(place.dir.get(), parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next && errno != ENOENT) throw config_error(open_failure(place.dir.get(), parts[i], shown, false, errno));
    place.dir = std::move(next);
  }
  return place;
}

/// Why the target `name` cannot be replaced; "" when it is a regular file or not there.
std::string target_problem(const Place& place, const fs::path& shown) {
  struct stat st {};
  if (::fstatat(place.dir.get(), place.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return refusal(st, shown, true);
  if (errno == ENOENT) return "";
  return fmt::format("cannot look at {}: {}", shown.string(), std::strerror(errno));
}

/// A new file beside `name`, created exclusively: a name planted in advance (a link to
/// anywhere) is never opened, only skipped for another.
std::pair<Fd, std::string> create_temporary(int dir, const std::string& name, const fs::path& shown) {
  static std::mt19937_64 names{std::random_device{}()};
  for (int attempt = 0; attempt < 64; ++attempt) {
    std::string temp = fmt::format(".{}.{:012x}.installer-tmp", name, names() & 0xffffffffffffULL);
    Fd fd(::openat(dir, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd) return {std::move(fd), temp};
    if (errno != EEXIST) break;
  }
  throw config_error(fmt::format("cannot create a temporary file beside {}: {}", shown.string(), std::strerror(errno)));
}

}  // namespace

std::optional<std::string> read_source_file(const fs::path& path, std::string& error) {
  return read_regular_file(path.string(), kMaxSourceFileBytes, error);
}

std::optional<SourceFile> read_source_file_and_mode(const fs::path& path, std::string& error) {
  auto text = read_source_file(path, error);
  if (!text) return std::nullopt;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  return SourceFile{std::move(*text), st.st_mode & 07777u};
}

std::vector<fs::path> list_source_files(const fs::path& dir, std::vector<std::string>& problems) {
  std::vector<fs::path> files;
  boost::system::error_code ec;
  fs::recursive_directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::path& path = it->path();
    if (path.filename().string().rfind("..", 0) == 0) {
      it.disable_recursion_pending();
      continue;
    }
    boost::system::error_code status_error;
    fs::file_status status = fs::status(path, status_error);
    if (status.type() == fs::regular_file) files.push_back(path);
    else if (status.type() == fs::file_not_found)  // listed, so a link to nothing
      problems.push_back(fmt::format("cannot read {}: it is a symbolic link to {}, which does not exist", path.string(),
                                     fs::read_symlink(path, status_error).string()));
    else if (status_error) problems.push_back(fmt::format("cannot read {}: {}", path.string(), status_error.message()));
  }
  if (ec) problems.push_back(fmt::format("cannot read directory {}: {}", dir.string(), ec.message()));
  std::sort(files.begin(), files.end());
  return files;
}

std::string ConfigDir::check(const fs::path& relative) const {
  try {
    Place place = walk(root_, relative, /*create=*/false);
    return place.dir ? target_problem(place, root_ / relative) : "";
  } catch (const UserError& e) {
    return e.what();
  }
}

std::optional<ConfigDir::Existing> ConfigDir::read(const fs::path& relative) const {
  Place place = walk(root_, relative, /*create=*/false);
  if (!place.dir) return std::nullopt;
  fs::path shown = root_ / relative;
  // O_NONBLOCK: a FIFO planted here must be refused, not waited on.
  Fd fd(::openat(place.dir.get(), place.name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd && errno == ENOENT) return std::nullopt;
  if (!fd) throw config_error(open_failure(place.dir.get(), place.name, shown, true, errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    throw config_error(fmt::format("cannot read {}: {}", shown.string(), std::strerror(errno)));
  if (std::string why = refusal(st, shown, true); !why.empty()) throw config_error(why);
  std::string why;
  auto text = read_regular_file(fd.get(), kMaxSourceFileBytes, why);  // it came from a template or a default
  if (!text) throw config_error(fmt::format("cannot read {}: {}", shown.string(), why));
  return Existing{std::move(*text), st.st_mode & 07777};
}

void ConfigDir::write(const fs::path& relative, const std::string& text, unsigned mode) const {
  Place place = walk(root_, relative, /*create=*/true);
  fs::path shown = root_ / relative;
  if (std::string why = target_problem(place, shown); !why.empty()) throw config_error(why);
  auto [fd, temp] = create_temporary(place.dir.get(), place.name, shown);
  int err = 0;
  bool ok = write_all(fd.get(), text, err);
  // The umask must not loosen or tighten what the vendor chose.
  if (ok && ::fchmod(fd.get(), mode) != 0) ok = false, err = errno;
  if (ok && ::fsync(fd.get()) != 0) ok = false, err = errno;
  if (ok && ::close(fd.release()) != 0) ok = false, err = errno;
  // rename replaces whatever the name holds by then, a link included: it never follows it.
  if (ok && ::renameat(place.dir.get(), temp.c_str(), place.dir.get(), place.name.c_str()) != 0)
    ok = false, err = errno;
  if (!ok) {
    ::unlinkat(place.dir.get(), temp.c_str(), 0);
    throw config_error(fmt::format("cannot write {}: {}", shown.string(), std::strerror(err)));
  }
  ::fsync(place.dir.get());  // so the rename, too, survives a crash; a failure here loses nothing yet
}

namespace {

struct RenderedFile {
  fs::path relative;  ///< below the configuration directory
  std::string text;
  unsigned mode = 0;
};

std::optional<RenderedFile> render_one(const fs::path& source, const fs::path& templates, const VariableLookup& lookup,
                                       std::vector<std::string>& problems) {
  std::string error;
  auto read = read_source_file_and_mode(source, error);
  if (!read) {
    problems.push_back(fmt::format("cannot read template {}: {}", source.string(), error));
    return std::nullopt;
  }
  // As spelled below `templates`: a template that is a link is read, but its own place
  // decides where it goes.
  RenderedFile file{source.lexically_relative(templates), "", read->mode};
  if (file.relative.extension() == ".tmpl") file.relative.replace_extension();
  try {
    file.text = render_template(read->text, lookup, source.string());
  } catch (const UserError& e) {
    problems.push_back(e.what());
    return std::nullopt;
  }
  return file;
}

}  // namespace

std::string list_problems(const std::string& heading, const std::vector<std::string>& problems,
                          const std::string& consequence) {
  std::string message = heading;
  for (auto problem : problems) {
    for (size_t at = problem.find('\n'); at != std::string::npos; at = problem.find('\n', at + 3))
      problem.replace(at, 1, "\n  ");
    message += "\n  " + problem;
  }
  return message + "\n" + consequence;
}

namespace {

void add_problem(std::vector<std::string>& problems, std::string problem) {
  if (!problem.empty() && std::find(problems.begin(), problems.end(), problem) == problems.end())
    problems.push_back(std::move(problem));
}

}  // namespace

std::vector<fs::path> render_templates(const fs::path& templates, const fs::path& config_dir,
                                       const VariableLookup& lookup) {
  boost::system::error_code ec;
  if (!fs::is_directory(templates, ec))
    throw config_error(fmt::format("templates directory {} does not exist", templates.string()));
  std::vector<std::string> problems;
  ConfigDir target(config_dir);
  // Everything is read, rendered and checked first: one problem must not leave half the files new.
  std::vector<RenderedFile> rendered;
  for (const auto& source : list_source_files(templates, problems)) {
    auto file = render_one(source, templates, lookup, problems);
    if (!file) continue;
    std::string why = target.check(file->relative);
    if (why.empty()) rendered.push_back(std::move(*file));
    add_problem(problems, std::move(why));
  }
  if (!problems.empty())
    throw config_error(
        list_problems(fmt::format("configuration templates cannot be written into {}:", config_dir.string()), problems,
                      "no configuration file was written."));
  std::vector<fs::path> written;
  for (const auto& file : rendered) {
    target.write(file.relative, file.text, file.mode);
    written.push_back(config_dir / file.relative);
  }
  return written;
}

}  // namespace installer
