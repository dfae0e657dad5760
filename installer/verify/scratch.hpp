#pragma once
#include "installer/db/database.hpp"
#include "installer/engine/context.hpp"

#include <memory>
#include <string>
#include <vector>

namespace installer {

/// A session on one of installer verify's scratch databases.
class ScratchSession {
 public:
  virtual ~ScratchSession() = default;
  /// The engine's context on it, with the journal created.
  virtual EngineContext& ctx() = 0;
};

/// A server where installer verify may create databases of its own and drop them; the
/// drivers and connection settings behind it are the command line's business.
class ScratchServer {
 public:
  virtual ~ScratchServer() = default;
  virtual Engine engine() const = 0;
  /// The server's URL without its password, for messages.
  virtual std::string describe() const = 0;
  /// Creates the empty database `name` and opens a session on it.
  virtual std::unique_ptr<ScratchSession> create(const std::string& name) = 0;
  /// Drops `name` and whatever sessions are still on it; never throws.
  virtual void drop(const std::string& name) noexcept = 0;
};

/// The scratch databases of one run: each name unique to this process, every one
/// dropped when the pool goes (also when a check throws, or a stop unwinds the run).
class ScratchPool {
 public:
  explicit ScratchPool(ScratchServer& server, std::string prefix);
  ~ScratchPool();
  ScratchPool(const ScratchPool&) = delete;
  ScratchPool& operator=(const ScratchPool&) = delete;

  ScratchServer& server() { return server_; }
  /// A new empty database, and a session on it.
  std::unique_ptr<ScratchSession> fresh();
  /// Closes `session` and drops its database now.
  void discard(std::unique_ptr<ScratchSession>& session);
  /// Drops every database still here.
  void drop_all() noexcept;

 private:
  ScratchServer& server_;
  std::string prefix_;
  int created_ = 0;
  std::vector<std::pair<ScratchSession*, std::string>> live_;
};

/// "installer_verify_<pid>_<random>": what a scratch database's name starts with, unique
/// to this run, so that two CI jobs on one server never meet.
std::string scratch_prefix(const std::string& base);

/// Whether `name` has the form scratch_prefix() gives (a database verify made).
bool is_scratch_name(const std::string& name, const std::string& base);

}  // namespace installer
