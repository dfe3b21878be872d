// ELF64 executables for RISC-V, as the kernel loads the root task and the
// process manager will load programs: the header and program headers are
// checked (class, endianness, machine EM_RISCV, type ET_EXEC, every
// PT_LOAD inside the file and inside the user half, sizes that do not
// overflow, filesz <= memsz, page-aligned-compatible offsets) before anything
// is used. The image is untrusted: errors give Error::Malformed or
// RangeError, never a read outside the span.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "result.h"

namespace kern::elf {

inline constexpr size_t kMaxSegments = 16;

struct Segment {
  uint64_t vaddr = 0;     // where it goes (may be unaligned)
  uint64_t memsz = 0;     // bytes in memory; beyond filesz zero-filled
  uint64_t offset = 0;    // in the file
  uint64_t filesz = 0;
  bool read = false, write = false, execute = false;
};

struct Image {
  uint64_t entry = 0;
  Segment segments[kMaxSegments];
  size_t segment_count = 0;
  std::span<const uint8_t> file;  // the whole file

  // The bytes of segment i that come from the file.
  std::span<const uint8_t> file_bytes(size_t i) const { return file.subspan(segments[i].offset, segments[i].filesz); }
};

// Errors: Malformed for a bad header or program header; RangeError for a
// segment outside [0, user_top) or more than kMaxSegments loadable
// segments, or segments that overlap; InvalidArgument for no PT_LOAD or an
// entry point outside every executable segment.
Result<Image> parse(std::span<const uint8_t> file, uint64_t user_top);

}  // namespace kern::elf
