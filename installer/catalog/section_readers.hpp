#pragma once
#include "installer/catalog/foreign_migrations.hpp"

#include <string>
#include <vector>

namespace installer {

/// The tools that keep both directions in one file, between marker comments.
/// `text` is the file's; the result's key, name and version are the caller's to set.
ForeignMigration read_dbmate_file(const boost::filesystem::path& path, const std::string& text,
                                  std::vector<Problem>& problems);
ForeignMigration read_goose_file(const boost::filesystem::path& path, const std::string& text, SqlDialect dialect,
                                 std::vector<Problem>& problems);

}  // namespace installer
