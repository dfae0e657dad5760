#pragma once
// A private temporary directory for one test, removed when the test ends, with helpers
// to lay out update directories (and config or secret files) inside it.
#include <boost/filesystem.hpp>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace installer::unit_fixture {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (boost::filesystem::temp_directory_path() / "installer-unit-XXXXXX").string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (!::mkdtemp(buffer.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = buffer.data();
  }
  ~TempDir() {
    boost::system::error_code ec;
    boost::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const boost::filesystem::path& path() const { return path_; }
  boost::filesystem::path operator/(const std::string& relative) const { return path_ / relative; }

  /// Writes `content` byte for byte to `relative`, creating the parent directories.
  boost::filesystem::path write(const std::string& relative, const std::string& content) const {
    boost::filesystem::path file = path_ / relative;
    boost::filesystem::create_directories(file.parent_path());
    std::ofstream out(file.string(), std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + file.string());
    return file;
  }

  /// Creates `relative` (and its parents) as a directory.
  boost::filesystem::path mkdir(const std::string& relative) const {
    boost::filesystem::path dir = path_ / relative;
    boost::filesystem::create_directories(dir);
    return dir;
  }

  /// Writes NAME.up.sql and NAME.down.sql into the update folder `update`.
  void step(const std::string& update, const std::string& name, const std::string& up, const std::string& down) const {
    write(update + "/" + name + ".up.sql", up);
    write(update + "/" + name + ".down.sql", down);
  }

 private:
  boost::filesystem::path path_;
};

}  // namespace installer::unit_fixture
