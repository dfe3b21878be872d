// Boot self-tests, chosen with `ktest=NAME` in bootargs and run by the system
// tests in tests/system/. Each one prints what it checked and returns the
// exit status for the machine; the deliberate-failure tests (panic, fault,
// wx) never return, they prove the harness sees a panic.
#pragma once

#include <string_view>

#include "kernel/memory.h"
#include "kernel/power.h"
#include "lib/platform.h"

namespace kern {

ExitCode run_selftest(std::string_view name, const PlatformInfo& platform, const MemoryLayout& layout);

}  // namespace kern
