// QEMU's "sifive,test0" finisher device: one 32-bit register; writing
// 0x5555 powers off with exit status 0, (code << 16) | 0x3333 powers off
// with exit status `code`. This is how a system test tells success from
// failure without trusting console text alone (OpenSBI 1.1's SRST exits 0
// even for "system failure").
#pragma once

#include <cstdint>

namespace arch {

// `base` is the virtual address of the device. Returns only if the device
// did not stop the machine.
void finisher_exit(uintptr_t base, uint16_t code);

}  // namespace arch
