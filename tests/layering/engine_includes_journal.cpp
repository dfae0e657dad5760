// Must compile: the control case for engine_includes_driver.cpp, so that the failure there
// comes from the layering and not from a broken probe.
#include "installer/journal/journal.hpp"
