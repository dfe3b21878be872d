// An ELF64 RISC-V executable builder for the tests of the ELF reader
// (elf_test) and of exec's load plan (procmgr_loader_test). Its default is
// what GNU ld 2.40 produces for a small static riscv64 program (elf_test
// checks it byte for byte against a real link); every header field is public
// so that a test can set any of them to a bad value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace elf_testing {

constexpr uint32_t kPtLoad = 1, kPtNote = 4, kPtTls = 7;
constexpr uint32_t kPtGnuStack = 0x6474e551, kPtGnuRelro = 0x6474e552, kPtRiscvAttributes = 0x70000003;
constexpr uint32_t kR = 4, kW = 2, kX = 1;

struct ProgramHeader {
  uint32_t type = kPtLoad;
  uint32_t flags = kR;
  uint64_t offset = 0;
  uint64_t vaddr = 0;
  uint64_t paddr = 0;
  uint64_t filesz = 0;
  uint64_t memsz = 0;
  uint64_t align = 0x1000;
};

// Header fields are public so that a test can set any of them to a bad
// value; phnum follows the list unless a test overrides it.
struct ElfBuilder {
  uint8_t ident[16] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
  uint16_t type = 2;  // ET_EXEC
  uint16_t machine = 243;
  uint32_t version = 1;
  uint64_t entry = 0x1017c;
  uint64_t phoff = 64;
  uint64_t shoff = 1240;
  uint32_t flags = 5;  // RVC, double-float ABI
  uint16_t ehsize = 64;
  uint16_t phentsize = 56;
  std::optional<uint16_t> phnum;
  uint16_t shentsize = 64, shnum = 10, shstrndx = 9;
  std::vector<ProgramHeader> headers = {
      {.type = kPtRiscvAttributes, .flags = kR, .offset = 0x1b3, .filesz = 0x53, .align = 1},
      {.type = kPtLoad, .flags = kR | kX, .offset = 0, .vaddr = 0x10000, .paddr = 0x10000,
       .filesz = 0x190, .memsz = 0x190, .align = 0x1000},
      {.type = kPtLoad, .flags = kR | kW, .offset = 0x190, .vaddr = 0x11190, .paddr = 0x11190,
       .filesz = 0x4, .memsz = 0x198, .align = 0x1000},
      {.type = kPtNote, .flags = kR, .offset = 0x158, .vaddr = 0x10158, .paddr = 0x10158,
       .filesz = 0x24, .memsz = 0x24, .align = 4},
      {.type = kPtGnuStack, .flags = kR | kW, .align = 0x10},
  };
  size_t file_size = 1880;

  // Indices into `headers` of the two PT_LOADs of the default image.
  static constexpr size_t kText = 1, kData = 2;

  std::vector<uint8_t> build() const {
    std::vector<uint8_t> out(file_size);
    // A payload in which every byte differs from its neighbours, so that
    // file_bytes() pointing at the wrong place shows.
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(i * 7 + 3);
    size_t at = 0;
    auto put = [&](uint64_t value, size_t size) {
      for (size_t i = 0; i < size; ++i, ++at) {
        if (at < out.size()) out[at] = static_cast<uint8_t>(value >> (8 * i));
      }
    };
    for (uint8_t byte : ident) put(byte, 1);
    put(type, 2), put(machine, 2), put(version, 4), put(entry, 8), put(phoff, 8), put(shoff, 8);
    put(flags, 4), put(ehsize, 2), put(phentsize, 2), put(phnum.value_or(headers.size()), 2);
    put(shentsize, 2), put(shnum, 2), put(shstrndx, 2);
    at = phoff;
    for (const ProgramHeader& h : headers) {
      put(h.type, 4), put(h.flags, 4), put(h.offset, 8), put(h.vaddr, 8), put(h.paddr, 8);
      put(h.filesz, 8), put(h.memsz, 8), put(h.align, 8);
    }
    return out;
  }
};

}  // namespace elf_testing
