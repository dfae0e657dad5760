// Must not compile: the engine layer does not see the drivers (installer/CMakeLists.txt).
#include "installer/postgres/pg_database.hpp"
