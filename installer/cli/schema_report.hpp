#pragma once
#include "installer/cli/settings.hpp"
#include "installer/engine/schema_drift.hpp"

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>

namespace installer {

/// The differences of a comparison as JSON: one object per difference
/// ({kind, name, change, before, after}), or per kind for an older installer's record.
nlohmann::json differences_json(const SchemaComparison& comparison);

/// `installer diff`: what it prints, text or JSON.
void print_drift(std::ostream& out, const SchemaDrift& drift, bool json);

/// `installer diff [--against UPDATE_ID] [--json]`: 0 when the schema equals the
/// snapshot, 1 when it differs, like diff(1); read-only.
int do_diff(const Settings& s, const std::string& against, bool json);

}  // namespace installer
