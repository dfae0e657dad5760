#pragma once
#include "installer/catalog/sql_splitter.hpp"
#include "installer/db/undo.hpp"

#include <string_view>

namespace installer {

/// What a statement does to the schema, read from its leading words as the engine's
/// grammar has them; anything unusual is Action::unknown, never a guess.
StatementEffect statement_effect(std::string_view statement, SqlDialect dialect);

}  // namespace installer
