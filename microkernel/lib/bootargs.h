// The kernel command line (bootargs): space-separated words "key=value" or
// bare "key". One reader for the kernel and for user programs (libos builds
// the same file).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kern {

// Value of `key`: "" for a bare word, nullopt when absent. A later word
// wins over an earlier one, as a later kernel parameter does in Linux.
// Quoting is not supported.
std::optional<std::string_view> bootarg(std::string_view bootargs, std::string_view key);

// The value of `key` as a decimal number; nullopt when absent, empty, not
// all digits, or beyond 64 bits.
std::optional<uint64_t> bootarg_number(std::string_view bootargs, std::string_view key);

}  // namespace kern
