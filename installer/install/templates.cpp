#include "installer/install/templates.hpp"

#include "installer/util/error.hpp"
#include "installer/util/redact.hpp"

#include <boost/filesystem.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace fs = boost::filesystem;

namespace installer {

VariableLookup environment_variables() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (const char* v = std::getenv(name.c_str())) return std::string(v);
    if (const char* file = std::getenv((name + "_FILE").c_str())) {
      std::ifstream in(file);
      if (!in)
        throw UserError(exit_config, fmt::format("{}_FILE: cannot read {}: {}", name, file, std::strerror(errno)));
      std::ostringstream b;
      b << in.rdbuf();
      std::string value = b.str();
      while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
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
      missing.push_back(fmt::format("{}:{}: unterminated ${{ (close it with }}, or write $$ for a literal $)", file, line));
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
      missing.push_back(fmt::format("{}:{}: '${{{}}}' is not a variable reference (${{NAME}} or ${{NAME:-default}})", file,
                                    line, inside.substr(0, 40)));
    } else if (auto value = lookup(name); value && !value->empty()) {
      out += *value;
    } else if (fallback) {
      out += *fallback;
    } else if (value) {
      out += *value;  // set but empty, and no default: empty is what was asked for
    } else {
      missing.push_back(fmt::format("{}:{}: ${{{}}} is not set (set {} or {}_FILE, or give a default: ${{{}:-...}})", file,
                                    line, name, name, name, name));
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

void write_file_atomically(const fs::path& path, const std::string& text, unsigned mode) {
  fs::create_directories(path.parent_path());
  std::string temp = (path.parent_path() / ("." + path.filename().string() + ".installer-tmp")).string();
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw UserError(exit_config, fmt::format("cannot write {}: {}", temp, std::strerror(errno)));
  fchmod(fd, mode);  // the umask must not loosen or tighten what the vendor chose
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      throw UserError(exit_config, fmt::format("cannot write {}: {}", path.string(), std::strerror(err)));
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(temp.c_str());
    throw UserError(exit_config, fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    throw UserError(exit_config, fmt::format("cannot replace {}: {}", path.string(), std::strerror(err)));
  }
}

std::vector<fs::path> render_templates(const fs::path& templates, const fs::path& config_dir, const VariableLookup& lookup) {
  if (!fs::is_directory(templates))
    throw UserError(exit_config, fmt::format("templates directory {} does not exist", templates.string()));
  std::vector<fs::path> sources;
  for (fs::recursive_directory_iterator it(templates), end; it != end; ++it)
    if (fs::is_regular_file(it->path())) sources.push_back(it->path());
  std::sort(sources.begin(), sources.end());
  // Render everything first: one missing variable must not leave half the files new.
  std::vector<std::pair<fs::path, std::string>> rendered;
  std::vector<unsigned> modes;
  std::string problems;
  for (const auto& source : sources) {
    std::ifstream in(source.string(), std::ios::binary);
    std::ostringstream b;
    b << in.rdbuf();
    fs::path relative = fs::relative(source, templates);
    if (relative.extension() == ".tmpl") relative.replace_extension();
    try {
      rendered.emplace_back(config_dir / relative, render_template(b.str(), lookup, source.string()));
    } catch (const UserError& e) {
      problems += std::string(problems.empty() ? "" : "\n") + e.what();
      continue;
    }
    struct stat st {};
    ::stat(source.c_str(), &st);
    modes.push_back(st.st_mode & 07777);
  }
  if (!problems.empty()) throw UserError(exit_config, problems + "\nno configuration file was written.");
  std::vector<fs::path> written;
  for (size_t i = 0; i < rendered.size(); ++i) {
    write_file_atomically(rendered[i].first, rendered[i].second, modes[i]);
    written.push_back(rendered[i].first);
  }
  return written;
}

}  // namespace installer
