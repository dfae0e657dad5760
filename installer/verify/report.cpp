#include "installer/verify/report.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

namespace installer {
namespace {

std::string xml_escaped(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 has no place for other control characters, even escaped.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') out += "?";
        else out += c;
    }
  }
  return out;
}

std::string indented(const std::string& text, const char* prefix) {
  std::string out = prefix;
  for (char c : text) {
    out += c;
    if (c == '\n') out += prefix;
  }
  return out;
}

}  // namespace

size_t VerifyReport::failures() const {
  return static_cast<size_t>(std::count_if(checks.begin(), checks.end(), [](const auto& c) { return !c.passed(); }));
}

size_t VerifyReport::open_warnings() const {
  return static_cast<size_t>(
      std::count_if(warnings.begin(), warnings.end(), [](const auto& w) { return !w.second.allowed(); }));
}

void print_verify_text(std::ostream& out, const VerifyReport& report) {
  for (const auto& [engine, w] : report.warnings) out << engine << ": " << w.to_string() << "\n";
  for (const auto& c : report.checks) {
    if (c.passed()) continue;
    out << fmt::format("FAILED {} {}: {}\n{}\n", c.engine, c.check, c.name, indented(c.failure, "  "));
  }
  size_t allowed = report.warnings.size() - report.open_warnings();
  out << fmt::format("verify: {} checks, {} passed, {} failed; {} warning{}{}{}\n", report.checks.size(),
                     report.checks.size() - report.failures(), report.failures(), report.open_warnings(),
                     report.open_warnings() == 1 ? "" : "s", allowed ? fmt::format(" ({} allowed)", allowed) : "",
                     report.strict && report.open_warnings() ? " (--strict: they fail the run)" : "");
  if (report.stopped_by) out << fmt::format("verify: stopped by signal {} before every check ran\n", report.stopped_by);
  for (const auto& line : report.recorded) out << "verify --record: " << line << "\n";
}

void print_verify_json(std::ostream& out, const VerifyReport& report) {
  nlohmann::json j;
  j["ok"] = report.ok();
  j["strict"] = report.strict;
  j["warnings"] = nlohmann::json::array();
  for (const auto& [engine, w] : report.warnings)
    j["warnings"].push_back({{"engine", engine},
                             {"code", w.code},
                             {"update", w.update},
                             {"step", w.step},
                             {"file", w.file},
                             {"line", w.line},
                             {"message", w.message},
                             {"allowed", w.allowed()},
                             {"allowed_because", w.allowed_because}});
  j["checks"] = nlohmann::json::array();
  for (const auto& c : report.checks)
    j["checks"].push_back({{"engine", c.engine},
                           {"check", c.check},
                           {"update", c.update},
                           {"step", c.step},
                           {"name", c.name},
                           {"passed", c.passed()},
                           {"failure", c.failure},
                           {"duration_ms", c.duration_ms}});
  j["summary"] = {{"checks", report.checks.size()},
                  {"failed", report.failures()},
                  {"warnings", report.open_warnings()},
                  {"allowed_warnings", report.warnings.size() - report.open_warnings()}};
  if (report.stopped_by) j["stopped_by_signal"] = report.stopped_by;
  if (!report.recorded.empty()) j["recorded"] = report.recorded;
  out << j.dump(2) << "\n";
}

void print_verify_junit(std::ostream& out, const VerifyReport& report) {
  std::map<std::string, std::vector<const CheckResult*>> suites;
  for (const auto& c : report.checks) suites[c.engine + "." + c.check].push_back(&c);
  std::vector<CheckResult> warning_cases;
  for (const auto& [engine, w] : report.warnings) {
    CheckResult c{engine, "static", w.update, w.step, fmt::format("{} {} {}", w.update, w.step, w.code), {}, 0};
    if (report.strict && !w.allowed()) c.failure = w.to_string();
    warning_cases.push_back(std::move(c));
  }
  for (const auto& c : warning_cases) suites[c.engine + ".static"].push_back(&c);
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << fmt::format("<testsuites name=\"installer verify\" tests=\"{}\" failures=\"{}\">\n",
                     report.checks.size() + warning_cases.size(),
                     report.failures() + (report.strict ? report.open_warnings() : 0));
  for (const auto& [suite, cases] : suites) {
    size_t failed = static_cast<size_t>(
        std::count_if(cases.begin(), cases.end(), [](auto* c) { return !c->passed(); }));
    out << fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\">\n", xml_escaped(suite), cases.size(),
                       failed);
    for (const CheckResult* c : cases) {
      out << fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\"", xml_escaped(suite),
                         xml_escaped(c->name), static_cast<double>(c->duration_ms) / 1000.0);
      if (c->passed()) {
        out << "/>\n";
        continue;
      }
      std::string first_line = c->failure.substr(0, c->failure.find('\n'));
      out << fmt::format(">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n", xml_escaped(first_line),
                         xml_escaped(c->failure));
    }
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
}

}  // namespace installer
