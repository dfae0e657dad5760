#pragma once
#include <string>

namespace installer {

/// installer keygen -o PREFIX
int do_keygen(const std::string& prefix);
/// installer sign DIR --key FILE
int do_sign(const std::string& update_dir, const std::string& key_file);
/// installer bundle DIR -o FILE [--sign KEY]
int do_bundle(const std::string& update_dir, const std::string& output, const std::string& key_file);

}  // namespace installer
