// The pure logic of execve: what a new program's address space must hold.
// procmgr reads the ELF file through vfs, asks make_load_plan() which regions
// the pager must create and which bytes of which page come from the file, and
// asks build_initial_stack() for the bytes at the top of the new stack (the
// argument strings, argc, argv[], envp[] and the auxiliary vector, laid out as
// the System V ABI and Linux on RISC-V do, so a C runtime's _start finds them
// at sp). Neither touches an address space: the server builds the new one
// from these answers and drops the old one only once the new one is complete
// (DESIGN.md §6), so a failure here leaves the calling process as it was.
//
// The ELF image is untrusted. kern::elf::parse() checks it first; everything
// here works on what it accepted, so every file offset in a plan lies inside
// the file. No allocation, no libc: the plan is a fixed-size value (two
// regions at most per loadable segment) and the stack is written into a
// buffer the caller provides.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/posix_errno.h"
#include "lib/elf.h"
#include "lib/types.h"

namespace procmgr {

using kern::VirtAddr;
using posix::Errno;
using posix::Result;

inline constexpr uint64_t kPageSize = kern::kPageSize;
// User addresses are the lower half of Sv39 (kernel.md §7.5).
inline constexpr uint64_t kUserTop = uint64_t{1} << 38;

// ---------------------------------------------------------------------------
// The load plan

// The region kinds the pager knows (servers/pager/regions.h), those an ELF
// image gives: Text R-X, Rodata R--, Data RW- with file bytes, Bss RW-
// zero-filled. The values match pager::RegionKind (the unit test checks it),
// so the server passes them on unchanged.
enum class RegionKind : uint8_t { Text = 0, Rodata = 1, Data = 2, Bss = 3 };

// What one page of a region holds: bytes [copy_start, copy_end) of the page
// come from the file, starting at file byte file_offset; every other byte of
// the page is zero. copy_start == copy_end means a page of zeros, which the
// pager fills on first touch anyway.
struct PageFill {
  uint64_t file_offset = 0;
  uint32_t copy_start = 0;
  uint32_t copy_end = 0;

  constexpr bool all_zero() const { return copy_start == copy_end; }
  constexpr bool operator==(const PageFill&) const = default;
};

// One page-aligned range of the new address space with one kind. Inside it,
// exactly the bytes [file_start, file_end) come from the file (from
// file_offset on); all others are zero, including those of the first page
// below the segment's unaligned start (Linux would show whatever precedes
// the segment in the file there; a copying loader has no reason to) and the
// .bss bytes that share the last file-backed page.
struct LoadRegion {
  RegionKind kind = RegionKind::Bss;
  // The segment also asked for execute on a writable region (W+X). The
  // pager's Data and Bss kinds are RW-: the server decides whether to map
  // such a region RWX (as an anonymous region) or refuse.
  bool write_execute = false;
  VirtAddr start;       // page aligned
  VirtAddr end;         // page aligned, > start
  VirtAddr file_start;  // == file_end when nothing comes from the file
  VirtAddr file_end;
  uint64_t file_offset = 0;

  constexpr uint64_t size() const { return end - start; }
  constexpr uint64_t page_count() const { return size() / kPageSize; }
  // The fill of the page at `page` (page aligned, inside the region).
  PageFill page_fill(VirtAddr page) const;
};

// Each loadable segment gives one region, or two when it is writable and has
// a zero tail that reaches past its last file-backed page: Data for the file
// pages and Bss for the whole zero pages after them. A read-only or
// executable segment with a zero tail stays one region, because its tail
// must keep the segment's permissions.
inline constexpr size_t kMaxLoadRegions = 2 * kern::elf::kMaxSegments;

struct LoadPlan {
  VirtAddr entry;
  // The first page above every segment: where the pager puts the heap (the
  // initial break).
  VirtAddr heap_start;
  // Where the program headers are in the new address space, for AT_PHDR;
  // zero when no segment carries them (the C runtime then finds no PT_TLS).
  VirtAddr phdr;
  uint16_t phent = 0;
  uint16_t phnum = 0;
  // Some segment is writable and executable. Allowed, as on Linux, but the
  // server should log it.
  bool write_execute = false;
  LoadRegion regions[kMaxLoadRegions];  // sorted by address, disjoint
  size_t region_count = 0;

  std::span<const LoadRegion> load_regions() const { return {regions, region_count}; }
};

// Where an image may live. image_top is the lowest address the rest of the
// address space layout claims (stack, mmap area), page aligned; max_bytes
// caps the pages the segments occupy (a per-process memory limit).
struct LoadLimits {
  VirtAddr image_top{kUserTop};
  uint64_t max_bytes = ~uint64_t{0};
};

// The plan for an ELF image. Errors: ENOEXEC for anything kern::elf::parse()
// rejects (not ELF, not RISC-V ET_EXEC, malformed headers, segments outside
// the user half or sharing a page, no entry in an executable segment);
// ENOMEM for a valid image that does not fit: a segment reaching above
// limits.image_top, or more than limits.max_bytes of pages; EINVAL for an
// image_top that is not page aligned (a caller's bug). `file` must stay
// alive as long as the plan is used with fill_page().
Result<LoadPlan> make_load_plan(std::span<const uint8_t> file, const LoadLimits& limits = {});

// Writes the contents of the page at `page` of `region` into `out`: the file
// bytes the region's page_fill() names and zeros elsewhere. `file` is the
// image the plan was made from.
void fill_page(const LoadRegion& region, VirtAddr page, std::span<const uint8_t> file,
               std::span<uint8_t, kPageSize> out);

// ---------------------------------------------------------------------------
// The initial stack

// Auxiliary vector types (Linux, include/uapi/linux/auxvec.h).
enum class AuxType : uint64_t {
  Null = 0,
  Phdr = 3,
  Phent = 4,
  Phnum = 5,
  PageSize = 6,
  Entry = 9,
  Random = 25,
};

// What the auxiliary vector says about the program. From a LoadPlan with
// aux_from_plan(); phdr zero leaves AT_PHDR, AT_PHENT and AT_PHNUM out.
struct AuxValues {
  VirtAddr entry;
  VirtAddr phdr;
  uint16_t phent = 0;
  uint16_t phnum = 0;
  // 16 bytes for AT_RANDOM (glibc seeds its stack protector from them);
  // empty leaves AT_RANDOM out.
  std::span<const uint8_t> random;
};

inline AuxValues aux_from_plan(const LoadPlan& plan) {
  return {.entry = plan.entry, .phdr = plan.phdr, .phent = plan.phent, .phnum = plan.phnum, .random = {}};
}

// ARG_MAX: the bytes argv and envp may take together, counted as Linux
// does: every string with its NUL plus one pointer for it. 128 KiB is Linux's
// fixed limit before 2.6.23 (32 pages), enough for any shell command line
// here, and it bounds what procmgr copies out of the caller's memory.
inline constexpr uint64_t kArgMax = 128 * 1024;
inline constexpr size_t kRandomBytes = 16;

struct InitialStack {
  VirtAddr sp;          // 16-byte aligned; *sp is argc
  uint64_t size = 0;    // bytes used below the top: top - sp
  VirtAddr argv;        // &argv[0], what the C runtime computes as sp + 8
  VirtAddr envp;        // &envp[0]
  VirtAddr auxv;        // the first auxv entry
};

// Lays out the initial stack of a program whose stack ends at `top` (16-byte
// aligned, normally the stack region's top). `buffer` holds the bytes of
// [top - buffer.size(), top), the top page(s) of the new stack; all of it is
// written (zeros below sp and in the padding), so no stale bytes of procmgr
// reach the program. From the top down:
//
//   top ->  argv strings, then envp strings (each NUL-terminated)
//           AT_RANDOM's 16 bytes (if any)
//           padding to 16 bytes
//           auxv pairs (type, value) ending with AT_NULL
//           envp[0..envc-1], NULL
//           argv[0..argc-1], NULL
//   sp  ->  argc
//
// Every pointer is a user address: top minus the distance from the top.
// Errors: E2BIG when the strings and their pointers exceed kArgMax or the
// whole layout does not fit in the buffer; EINVAL for an unaligned top, a
// buffer larger than the address space below top, or random bytes that are
// neither 0 nor 16 (callers' bugs).
Result<InitialStack> build_initial_stack(std::span<const std::string_view> argv,
                                         std::span<const std::string_view> envp, const AuxValues& aux,
                                         VirtAddr top, std::span<uint8_t> buffer);

}  // namespace procmgr
