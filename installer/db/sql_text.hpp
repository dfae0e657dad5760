#pragma once
#include <functional>
#include <string>

namespace installer {

/// name between `quote`s, each `quote` inside doubled: the one escaping rule both
/// servers share for identifiers ('"' on PostgreSQL, '`' on MariaDB/MySQL).
std::string quote_identifier(const std::string& name, char quote);

/// sql with its n-th '?' (0-based) replaced by placeholder(n). The installer's own
/// statements never hold a '?' in a literal or a comment, so every one is a parameter.
std::string replace_placeholders(const std::string& sql, const std::function<std::string(size_t)>& placeholder);

/// How the installer names its session to the server ("installer 1.2.3 on HOST"):
/// another installer's lock-timeout message shows it.
std::string application_name();

}  // namespace installer
