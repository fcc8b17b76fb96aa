// Process-wide initialization: Arrow >= 21 registers its compute kernels only
// when asked. Every entry point (CLI, tests, Python module) calls this first;
// it is cheap and idempotent.
#pragma once

#include "common/status.h"

namespace lakestream {

Status Initialize();

}  // namespace lakestream
