#pragma once
#include "installer/catalog/foreign_migrations.hpp"

#include <optional>
#include <string>
#include <vector>

namespace installer {

/// The entries of `dir` that are not hidden and not directories, by name (FIFOs, devices
/// and broken links too: reading one is a problem that names it).
std::vector<boost::filesystem::path> files_in(const boost::filesystem::path& dir, std::vector<Problem>& problems);
std::optional<std::string> read_script_text(const boost::filesystem::path& path, std::vector<Problem>& problems);
std::optional<ForeignScript> read_foreign_script(const boost::filesystem::path& path, std::vector<Problem>& problems);
/// Numbers as the tools that keep them as integers store them: no leading zeros.
std::string as_integer(const std::string& digits);

std::vector<ForeignMigration> read_flyway(const boost::filesystem::path& dir, std::vector<Problem>& problems);
std::vector<ForeignMigration> read_sqitch(const boost::filesystem::path& dir, std::vector<Problem>& problems);

}  // namespace installer
