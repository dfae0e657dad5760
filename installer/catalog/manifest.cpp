#include "installer/catalog/manifest.hpp"

#include "installer/catalog/release_lint.hpp"

#include <fmt/format.h>
// Compiled here as headers (CMakeLists.txt), toml++ would keep its internal assertions in a
// build without NDEBUG, where Debian's shared library has none: a fuzzed manifest reaches
// one in parse_key and aborted the sanitized tests, where the library reports a parse error.
#define TOML_ASSERT(expr) static_cast<void>(0)
#include <toml++/toml.h>

namespace installer {
namespace {

int line_of(const toml::node& node) { return static_cast<int>(node.source().begin.line); }

std::optional<std::string> string_value(const toml::node& node, std::string_view key, const std::string& path,
                                        std::vector<Problem>& problems) {
  if (auto s = node.value<std::string>(); s && node.is_string()) return *s;
  problems.push_back({path, line_of(node), fmt::format("'{}' must be a string", key)});
  return std::nullopt;
}

/// allow = ["CODE: reason"]: a warning is silenced only with a known code and a reason
/// the next reader can weigh.
void parse_allowed(const toml::node& value, const std::string& path, StepOptions& options,
                   std::vector<Problem>& problems) {
  const toml::array* list = value.as_array();
  if (!list) {
    problems.push_back({path, line_of(value), "'allow' must be a list of \"CODE: reason\" strings"});
    return;
  }
  for (const auto& item : *list) {
    auto text = item.value<std::string>();
    auto colon = text ? text->find(':') : std::string::npos;
    std::string code = colon == std::string::npos ? std::string() : text->substr(0, colon);
    std::string reason = colon == std::string::npos ? std::string() : text->substr(colon + 1);
    reason.erase(0, reason.find_first_not_of(' '));
    if (!text || !item.is_string() || code.empty() || reason.empty()) {
      problems.push_back({path, line_of(item),
                          "each 'allow' entry is \"CODE: reason\", e.g. \"destructive-up: the column was unused since "
                          "2023\""});
    } else if (!is_release_warning_code(code)) {
      problems.push_back({path, line_of(item),
                          fmt::format("unknown warning '{}' in 'allow' (known: {})", code, release_warning_codes())});
    } else {
      options.allowed[code] = reason;
    }
  }
}

void parse_step_table(const toml::table& steps, const std::string& path, Manifest& manifest,
                      std::vector<Problem>& problems) {
  for (const auto& [name, node] : steps) {
    std::string step_name(name.str());
    const toml::table* table = node.as_table();
    if (!table) {
      problems.push_back({path, line_of(node),
                          fmt::format("[steps] entry '{}' must be a table, e.g. [steps.{}] with transaction = false",
                                      step_name, step_name)});
      continue;
    }
    StepOptions options;
    options.line = line_of(node);
    for (const auto& [key, value] : *table) {
      if (key.str() == "transaction") {
        if (auto b = value.value<bool>(); b && value.is_boolean()) options.transactional = *b;
        else problems.push_back({path, line_of(value), "'transaction' must be true or false"});
      } else if (key.str() == "allow") {
        parse_allowed(value, path, options, problems);
      } else {
        problems.push_back(
            {path, line_of(value),
             fmt::format("unknown key '{}' in [steps.{}] (known: transaction, allow)", key.str(), step_name)});
      }
    }
    manifest.steps[step_name] = options;
  }
}

}  // namespace

Manifest parse_manifest(const std::string& text, const std::string& path, std::vector<Problem>& problems) {
  Manifest manifest;
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    problems.push_back(
        {path, static_cast<int>(e.source().begin.line), fmt::format("invalid TOML: {}", e.description())});
    return manifest;
  }
  for (const auto& [key, node] : root) {
    std::string_view k = key.str();
    if (k == "id") {
      manifest.id = string_value(node, k, path, problems);
    } else if (k == "version") {
      manifest.version = string_value(node, k, path, problems);
    } else if (k == "description") {
      manifest.description = string_value(node, k, path, problems).value_or("");
    } else if (k == "requires") {
      if (node.is_string()) {
        manifest.required.push_back(*node.value<std::string>());
      } else if (const toml::array* list = node.as_array()) {
        for (const auto& item : *list) {
          if (auto s = item.value<std::string>(); s && item.is_string()) manifest.required.push_back(*s);
          else problems.push_back({path, line_of(item), "'requires' must list update ids as strings"});
        }
      } else {
        problems.push_back({path, line_of(node), "'requires' must be an update id or a list of them"});
      }
    } else if (k == "steps") {
      if (const toml::table* steps = node.as_table()) parse_step_table(*steps, path, manifest, problems);
      else problems.push_back({path, line_of(node), "'steps' must be a table of [steps.NAME] tables"});
    } else {
      problems.push_back(
          {path, line_of(node), fmt::format("unknown key '{}' (known: id, version, requires, description, steps)", k)});
    }
  }
  return manifest;
}

}  // namespace installer
