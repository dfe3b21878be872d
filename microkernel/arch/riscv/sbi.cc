// SBI calls: a7 = extension id, a6 = function id, a0..a2 = arguments; the
// firmware returns the error in a0 and the value in a1.
#include "sbi.h"

namespace arch::sbi {

Ret call(Extension ext, uint64_t fid, uint64_t a0, uint64_t a1, uint64_t a2) {
  register uint64_t r_a0 asm("a0") = a0;
  register uint64_t r_a1 asm("a1") = a1;
  register uint64_t r_a2 asm("a2") = a2;
  register uint64_t r_a6 asm("a6") = fid;
  register uint64_t r_a7 asm("a7") = static_cast<uint64_t>(ext);
  asm volatile("ecall" : "+r"(r_a0), "+r"(r_a1) : "r"(r_a2), "r"(r_a6), "r"(r_a7) : "memory");
  return {static_cast<int64_t>(r_a0), static_cast<int64_t>(r_a1)};
}

uint64_t spec_version() { return static_cast<uint64_t>(call(Extension::Base, 0).value); }
uint64_t impl_id() { return static_cast<uint64_t>(call(Extension::Base, 1).value); }
uint64_t impl_version() { return static_cast<uint64_t>(call(Extension::Base, 2).value); }

bool has_extension(Extension ext) {
  return call(Extension::Base, 3, static_cast<uint64_t>(ext)).value != 0;
}

void set_timer(uint64_t when) { call(Extension::Timer, 0, when); }

void legacy_putchar(char c) {
  call(Extension::LegacyPutchar, 0, static_cast<uint64_t>(static_cast<unsigned char>(c)));
}

void shutdown(ResetReason reason) {
  constexpr uint64_t kShutdown = 0;
  call(Extension::SystemReset, 0, kShutdown, static_cast<uint64_t>(reason));
}

}  // namespace arch::sbi
