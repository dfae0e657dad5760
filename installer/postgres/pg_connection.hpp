#pragma once
#include "installer/db/connection_url.hpp"

#include <chrono>
#include <string>

// How the PostgreSQL backend connects, and reads what libpq says.
namespace installer {

/// The libpq connection string for spec; it holds the password.
std::string conninfo(const ConnectionSpec& spec, std::chrono::seconds connect_timeout);
/// libpq's messages end with newlines and carry a LINE/caret excerpt; keep them whole
/// but without the trailing blank.
std::string tidy(const char* message);
bool is_auth_failure(const std::string& message);
/// Routes server notices ("table does not exist, skipping") to the debug log instead
/// of libpq's default of printing them on stderr.
void notice_to_log(void*, const char* message);

}  // namespace installer
