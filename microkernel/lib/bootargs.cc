// The kernel command line (bootargs) as "key=value" or bare "key" words:
// read by the kernel at boot and, through libos, by user programs from the
// boot-info page, so that both read it the same way.
#include "bootargs.h"

namespace kern {

using namespace std::string_view_literals;

namespace {
// What separates the words of bootargs.
constexpr auto kSpaces = " \t\n"sv;
}  // namespace

// Words are separated by spaces, tabs or newlines; a word is "key=value" or
// a bare "key" (value ""). When the key appears more than once the last word
// wins, as a later kernel parameter overrides an earlier one in Linux.
// Quoting is not supported.
std::optional<std::string_view> bootarg(std::string_view bootargs, std::string_view key) {
  if (key.empty()) return std::nullopt;
  std::optional<std::string_view> value;
  size_t start = bootargs.find_first_not_of(kSpaces);
  while (start != std::string_view::npos) {
    size_t end = bootargs.find_first_of(kSpaces, start);
    if (end == std::string_view::npos) end = bootargs.size();
    std::string_view word = bootargs.substr(start, end - start);
    start = bootargs.find_first_not_of(kSpaces, end);

    size_t equals = word.find('=');
    if (word.substr(0, equals) == key) {
      value = equals == std::string_view::npos ? ""sv : word.substr(equals + 1);
    }
  }
  return value;
}

std::optional<uint64_t> bootarg_number(std::string_view bootargs, std::string_view key) {
  auto text = bootarg(bootargs, key);
  if (!text || text->empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : *text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;  // would overflow
    value = value * 10 + digit;
  }
  return value;
}

}  // namespace kern
