// Host tests for procmgr's exec logic (servers/procmgr/loader.h): the load
// plan made from an ELF image, and the initial stack made from argv and envp.
//
// The ELF images are built here by ElfBuilder. Its default is what GNU ld
// 2.40 writes for a small static riscv64 program (the same image as
// elf_test.cc, whose BuilderMatchesGnuLd checks those header bytes against
// the real link): five program headers, LOAD R+X at 0x10000 from file offset
// 0, LOAD RW with 4 bytes of .data at 0x11190 and .bss after it. The payload
// is a pattern in which neighbouring bytes differ, so a page filled from the
// wrong offset shows. Every accepted plan goes through check_plan(), which
// compares each byte of each page with a model computed straight from the
// program headers.
//
// The stack tests read the produced bytes back as a C runtime's _start
// would: argc at sp, argv[] after it up to NULL, envp[] up to NULL, then the
// auxv pairs up to AT_NULL, following every pointer as a user address inside
// the buffer.
#include <gtest/gtest.h>

#include "elf_builder.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pager/regions.h"
#include "posix_matchers.h"
#include "procmgr/loader.h"

namespace procmgr {
namespace {

using posix::testing_support::fails_with_errno;

// The kinds procmgr hands on must mean what the pager means by them.
static_assert(uint8_t(RegionKind::Text) == uint8_t(pager::RegionKind::Text));
static_assert(uint8_t(RegionKind::Rodata) == uint8_t(pager::RegionKind::Rodata));
static_assert(uint8_t(RegionKind::Data) == uint8_t(pager::RegionKind::Data));
static_assert(uint8_t(RegionKind::Bss) == uint8_t(pager::RegionKind::Bss));

using namespace elf_testing;

// GNU ld with -z separate-code: headers R, text R+X, rodata R, data+bss RW
// spanning two file-backed pages and a zero tail of one more page.
ElfBuilder separate_code() {
  ElfBuilder b;
  b.entry = 0x11000;
  b.headers = {
      {.flags = kR, .offset = 0, .vaddr = 0x10000, .filesz = 0x200, .memsz = 0x200},
      {.flags = kR | kX, .offset = 0x1000, .vaddr = 0x11000, .filesz = 0x500, .memsz = 0x500},
      {.flags = kR, .offset = 0x2000, .vaddr = 0x12000, .filesz = 0x100, .memsz = 0x100},
      {.flags = kR | kW, .offset = 0x2f00, .vaddr = 0x13f00, .filesz = 0x200, .memsz = 0x1400},
      {.type = kPtGnuStack, .flags = kR | kW, .align = 0x10},
  };
  b.file_size = 0x3100;
  return b;
}

// The byte at user address va according to the program headers alone.
uint8_t model_byte(const ElfBuilder& b, const std::vector<uint8_t>& file, uint64_t va) {
  for (const ProgramHeader& h : b.headers) {
    if (h.type == kPtLoad && va >= h.vaddr && va < h.vaddr + h.filesz) return file[h.offset + (va - h.vaddr)];
  }
  return 0;
}

bool in_loaded_segment(const ElfBuilder& b, uint64_t va) {
  for (const ProgramHeader& h : b.headers) {
    if (h.type == kPtLoad && va >= h.vaddr && va < h.vaddr + h.memsz) return true;
  }
  return false;
}

// What any accepted plan promises, whatever the image: sorted, disjoint,
// page-aligned regions below the heap, file bytes inside their region and
// inside the file, and fills that stay inside the page and the file.
void check_plan_shape(const LoadPlan& plan, std::span<const uint8_t> file) {
  ASSERT_GT(plan.region_count, 0u);
  ASSERT_LE(plan.region_count, kMaxLoadRegions);
  std::vector<uint8_t> page(kPageSize);
  for (size_t i = 0; i < plan.region_count; ++i) {
    const LoadRegion& r = plan.regions[i];
    ASSERT_TRUE(r.start.is_aligned(kPageSize) && r.end.is_aligned(kPageSize));
    ASSERT_LT(r.start, r.end);
    ASSERT_LE(r.end, plan.heap_start);
    if (i > 0) {
      ASSERT_LE(plan.regions[i - 1].end, r.start);
    }
    ASSERT_LE(r.file_start, r.file_end);
    if (r.file_start < r.file_end) {
      ASSERT_GE(r.file_start, r.start);
      ASSERT_LE(r.file_end, r.end);
      ASSERT_LE(r.file_offset + (r.file_end - r.file_start), file.size());
    }
    for (VirtAddr va : {r.start, r.end - kPageSize}) {
      PageFill fill = r.page_fill(va);
      ASSERT_LE(fill.copy_start, fill.copy_end);
      ASSERT_LE(fill.copy_end, kPageSize);
      fill_page(r, va, file, std::span<uint8_t, kPageSize>(page.data(), kPageSize));
    }
  }
}

// Everything check_plan_shape() checks, and, against the program headers the
// image was built from: every segment byte in exactly one region, whose kind
// fits the segment's flags, and every byte of every page as the model says.
void check_plan(const LoadPlan& plan, const ElfBuilder& b, const std::vector<uint8_t>& file) {
  check_plan_shape(plan, file);
  for (const LoadRegion& r : plan.load_regions()) {
    std::vector<uint8_t> page(kPageSize);
    for (VirtAddr va = r.start; va < r.end; va += kPageSize) {
      std::memset(page.data(), 0xee, page.size());
      fill_page(r, va, file, std::span<uint8_t, kPageSize>(page.data(), kPageSize));
      for (uint64_t i = 0; i < kPageSize; ++i) {
        ASSERT_EQ(page[i], model_byte(b, file, va.value() + i)) << "at " << std::hex << va.value() + i;
      }
    }
  }
  for (const ProgramHeader& h : b.headers) {
    if (h.type != kPtLoad || h.memsz == 0) continue;
    for (uint64_t va = h.vaddr; va < h.vaddr + h.memsz; va += 0x40) {
      size_t holders = 0;
      for (const LoadRegion& r : plan.load_regions()) {
        if (VirtAddr(va) < r.start || VirtAddr(va) >= r.end) continue;
        ++holders;
        RegionKind want = (h.flags & kW) ? (va < h.vaddr + h.filesz ? RegionKind::Data : RegionKind::Bss)
                                         : ((h.flags & kX) ? RegionKind::Text : RegionKind::Rodata);
        // The zero tail inside the last file-backed page belongs to Data.
        if (want == RegionKind::Bss && r.kind == RegionKind::Data && r.file_end.align_up(kPageSize) > VirtAddr(va)) {
          want = RegionKind::Data;
        }
        EXPECT_EQ(r.kind, want) << std::hex << va;
        EXPECT_EQ(r.write_execute, (h.flags & kW) && (h.flags & kX));
      }
      ASSERT_EQ(holders, 1u) << std::hex << va;
    }
  }
  // Pages of a region that no segment touches would be memory for nothing.
  for (const LoadRegion& r : plan.load_regions()) {
    for (VirtAddr va = r.start; va < r.end; va += kPageSize) {
      bool used = false;
      for (uint64_t i = 0; i < kPageSize && !used; ++i) used = in_loaded_segment(b, va.value() + i);
      EXPECT_TRUE(used) << std::hex << va.value();
    }
  }
}

// Builds, plans and checks. The plan's regions name file offsets, so the
// image is kept until the next call, as elf_test.cc does.
Result<LoadPlan> plan_of(const ElfBuilder& b, const LoadLimits& limits = {}) {
  static std::vector<uint8_t> file;
  file = b.build();
  auto plan = make_load_plan(file, limits);
  if (plan) check_plan(*plan, b, file);
  return plan;
}

void expect_region(const LoadRegion& r, RegionKind kind, uint64_t start, uint64_t end, uint64_t file_start,
                   uint64_t file_end, uint64_t file_offset) {
  EXPECT_EQ(r.kind, kind);
  EXPECT_EQ(r.start.value(), start);
  EXPECT_EQ(r.end.value(), end);
  EXPECT_EQ(r.file_start.value(), file_start);
  EXPECT_EQ(r.file_end.value(), file_end);
  if (file_start != file_end) {
    EXPECT_EQ(r.file_offset, file_offset);
  }
}

TEST(LoadPlan, GnuLdStaticProgram) {
  auto plan = plan_of(ElfBuilder{});
  ASSERT_TRUE(plan) << errno_name(plan.error());
  EXPECT_EQ(plan->entry.value(), 0x1017cu);
  ASSERT_EQ(plan->region_count, 2u);
  expect_region(plan->regions[0], RegionKind::Text, 0x10000, 0x11000, 0x10000, 0x10190, 0);
  // 4 bytes of .data at 0x11190, and the whole .bss (0x194 bytes) after them
  // in the same page: no Bss region at all.
  expect_region(plan->regions[1], RegionKind::Data, 0x11000, 0x12000, 0x11190, 0x11194, 0x190);
  EXPECT_EQ(plan->regions[0].page_fill(VirtAddr(0x10000)), (PageFill{0, 0, 0x190}));
  EXPECT_EQ(plan->regions[1].page_fill(VirtAddr(0x11000)), (PageFill{0x190, 0x190, 0x194}));
  EXPECT_EQ(plan->heap_start.value(), 0x12000u);
  // The headers are at file offset 64 of the text segment, which starts at
  // offset 0.
  EXPECT_EQ(plan->phdr.value(), 0x10040u);
  EXPECT_EQ(plan->phent, 56);
  EXPECT_EQ(plan->phnum, 5);
  EXPECT_FALSE(plan->write_execute);
}

TEST(LoadPlan, LargeBssGetsItsOwnRegion) {
  ElfBuilder b;
  b.headers[ElfBuilder::kData].memsz = 0x10000;  // int zeros[16000]-ish
  auto plan = plan_of(b);
  ASSERT_TRUE(plan) << errno_name(plan.error());
  ASSERT_EQ(plan->region_count, 3u);
  expect_region(plan->regions[1], RegionKind::Data, 0x11000, 0x12000, 0x11190, 0x11194, 0x190);
  expect_region(plan->regions[2], RegionKind::Bss, 0x12000, 0x22000, 0x12000, 0x12000, 0);
  EXPECT_TRUE(plan->regions[2].page_fill(VirtAddr(0x12000)).all_zero());
  EXPECT_TRUE(plan->regions[2].page_fill(VirtAddr(0x21000)).all_zero());
  EXPECT_EQ(plan->heap_start.value(), 0x22000u);
}

TEST(LoadPlan, SeparateCodeLayout) {
  auto plan = plan_of(separate_code());
  ASSERT_TRUE(plan) << errno_name(plan.error());
  ASSERT_EQ(plan->region_count, 5u);
  expect_region(plan->regions[0], RegionKind::Rodata, 0x10000, 0x11000, 0x10000, 0x10200, 0);
  expect_region(plan->regions[1], RegionKind::Text, 0x11000, 0x12000, 0x11000, 0x11500, 0x1000);
  expect_region(plan->regions[2], RegionKind::Rodata, 0x12000, 0x13000, 0x12000, 0x12100, 0x2000);
  // .data straddles a page boundary: the end of one file page, then the
  // start of the next, then zeros.
  expect_region(plan->regions[3], RegionKind::Data, 0x13000, 0x15000, 0x13f00, 0x14100, 0x2f00);
  EXPECT_EQ(plan->regions[3].page_fill(VirtAddr(0x13000)), (PageFill{0x2f00, 0xf00, 0x1000}));
  EXPECT_EQ(plan->regions[3].page_fill(VirtAddr(0x14000)), (PageFill{0x3000, 0, 0x100}));
  expect_region(plan->regions[4], RegionKind::Bss, 0x15000, 0x16000, 0x15000, 0x15000, 0);
  EXPECT_EQ(plan->heap_start.value(), 0x16000u);
  EXPECT_EQ(plan->phdr.value(), 0x10040u);
  EXPECT_EQ(plan->phnum, 5);
}

TEST(LoadPlan, UnsortedSegmentsComeOutSorted) {
  ElfBuilder b = separate_code();
  std::swap(b.headers[0], b.headers[3]);
  std::swap(b.headers[1], b.headers[2]);
  auto plan = plan_of(b);
  ASSERT_TRUE(plan) << errno_name(plan.error());
  ASSERT_EQ(plan->region_count, 5u);
  EXPECT_EQ(plan->regions[0].start.value(), 0x10000u);
  EXPECT_EQ(plan->regions[4].kind, RegionKind::Bss);
  EXPECT_EQ(plan->heap_start.value(), 0x16000u);
}

TEST(LoadPlan, WritableSegmentWithoutFileBytesIsAllBss) {
  ElfBuilder b;
  b.headers.push_back({.flags = kR | kW, .offset = 0x10, .vaddr = 0x20010, .filesz = 0, .memsz = 0x3000});
  auto plan = plan_of(b);
  ASSERT_TRUE(plan) << errno_name(plan.error());
  ASSERT_EQ(plan->region_count, 3u);
  expect_region(plan->regions[2], RegionKind::Bss, 0x20000, 0x24000, 0x20000, 0x20000, 0);
  EXPECT_EQ(plan->heap_start.value(), 0x24000u);
}

TEST(LoadPlan, ReadOnlyZeroTailStaysOneRegion) {
  ElfBuilder b;
  b.headers.push_back({.flags = kR, .offset = 0x300, .vaddr = 0x30300, .filesz = 0x100, .memsz = 0x2000});
  auto plan = plan_of(b);
  ASSERT_TRUE(plan) << errno_name(plan.error());
  ASSERT_EQ(plan->region_count, 3u);
  expect_region(plan->regions[2], RegionKind::Rodata, 0x30000, 0x33000, 0x30300, 0x30400, 0x300);
  EXPECT_EQ(plan->regions[2].page_fill(VirtAddr(0x30000)), (PageFill{0x300, 0x300, 0x400}));
  EXPECT_TRUE(plan->regions[2].page_fill(VirtAddr(0x31000)).all_zero());
}

TEST(LoadPlan, DataEndingOnAPageBoundary) {
  ElfBuilder b;
  b.headers[ElfBuilder::kData] = {.flags = kR | kW, .offset = 0x200, .vaddr = 0x11200, .filesz = 0xe00,
                                  .memsz = 0x1e00};
  b.file_size = 0x1000;
  auto plan = plan_of(b);
  ASSERT_TRUE(plan) << errno_name(plan.error());
  ASSERT_EQ(plan->region_count, 3u);
  expect_region(plan->regions[1], RegionKind::Data, 0x11000, 0x12000, 0x11200, 0x12000, 0x200);
  EXPECT_EQ(plan->regions[1].page_fill(VirtAddr(0x11000)), (PageFill{0x200, 0x200, 0x1000}));
  expect_region(plan->regions[2], RegionKind::Bss, 0x12000, 0x13000, 0x12000, 0x12000, 0);
}

// A .bss of a few hundred bytes that still crosses into the next page: one
// whole Bss page after the shared one.
TEST(LoadPlan, SmallBssCrossingAPage) {
  ElfBuilder b;
  b.headers[ElfBuilder::kData] = {.flags = kR | kW, .offset = 0xf00, .vaddr = 0x11f00, .filesz = 0x80,
                                  .memsz = 0x200};
  b.file_size = 0x1000;
  auto plan = plan_of(b);
  ASSERT_TRUE(plan) << errno_name(plan.error());
  ASSERT_EQ(plan->region_count, 3u);
  expect_region(plan->regions[1], RegionKind::Data, 0x11000, 0x12000, 0x11f00, 0x11f80, 0xf00);
  EXPECT_EQ(plan->regions[1].page_fill(VirtAddr(0x11000)), (PageFill{0xf00, 0xf00, 0xf80}));
  expect_region(plan->regions[2], RegionKind::Bss, 0x12000, 0x13000, 0x12000, 0x12000, 0);
  EXPECT_EQ(plan->heap_start.value(), 0x13000u);
}

TEST(LoadPlan, WriteExecuteSegmentIsAllowedAndReported) {
  ElfBuilder b;
  b.headers[ElfBuilder::kData].flags = kR | kW | kX;
  b.headers[ElfBuilder::kData].memsz = 0x2000;
  auto plan = plan_of(b);
  ASSERT_TRUE(plan) << errno_name(plan.error());
  EXPECT_TRUE(plan->write_execute);
  ASSERT_EQ(plan->region_count, 3u);
  EXPECT_FALSE(plan->regions[0].write_execute);
  EXPECT_EQ(plan->regions[1].kind, RegionKind::Data);
  EXPECT_TRUE(plan->regions[1].write_execute);
  EXPECT_EQ(plan->regions[2].kind, RegionKind::Bss);
  EXPECT_TRUE(plan->regions[2].write_execute);
}

// AT_PHDR is the address the segment holding the table maps it to, not
// the file offset taken as an offset from the first segment.
TEST(LoadPlan, PhdrInASegmentAtANonZeroOffset) {
  ElfBuilder b = separate_code();
  b.phoff = 0x1040;  // inside the text segment (file 0x1000, address 0x11000)
  auto plan = plan_of(b);
  ASSERT_TRUE(plan) << errno_name(plan.error());
  EXPECT_EQ(plan->phdr.value(), 0x11040u);
  EXPECT_EQ(plan->phnum, 5);
}

TEST(LoadPlan, NoPhdrWhenNoSegmentCarriesTheHeaders) {
  ElfBuilder b;
  b.headers[ElfBuilder::kText] = {.flags = kR | kX, .offset = 0x400, .vaddr = 0x10400, .filesz = 0x100,
                                  .memsz = 0x100};
  b.entry = 0x10400;
  b.headers[ElfBuilder::kData].offset = 0x590;  // keep offset == vaddr mod page
  b.headers[ElfBuilder::kData].vaddr = 0x11590;
  auto plan = plan_of(b);
  ASSERT_TRUE(plan) << errno_name(plan.error());
  EXPECT_EQ(plan->phdr.value(), 0u);
  EXPECT_EQ(plan->phnum, 0);
  EXPECT_EQ(aux_from_plan(*plan).phdr.value(), 0u);
}

TEST(LoadPlan, MalformedImagesAreENOEXEC) {
  std::vector<uint8_t> empty;
  EXPECT_TRUE(fails_with_errno(make_load_plan(empty), Errno::ExecFormat));
  const std::string script = "#!/bin/sh\necho hello\n";
  std::vector<uint8_t> text(script.begin(), script.end());
  EXPECT_TRUE(fails_with_errno(make_load_plan(text), Errno::ExecFormat));

  // One thing broken at a time in the GNU ld image; each is its own reason
  // for kern::elf::parse() to refuse.
  void (*const breakages[])(ElfBuilder&) = {
      [](ElfBuilder& b) { b.machine = 62; },  // x86-64
      [](ElfBuilder& b) { b.type = 3; },  // ET_DYN
      [](ElfBuilder& b) { b.file_size = 300; },  // program headers cut off
      [](ElfBuilder& b) { b.entry = 0x11190; },  // entry in the data segment
      [](ElfBuilder& b) { b.headers[ElfBuilder::kData].vaddr = 0x10190; },  // shares the text page
      [](ElfBuilder& b) { b.headers[ElfBuilder::kData].filesz = 0x1000; },  // file bytes past the end
      [](ElfBuilder& b) { b.headers[ElfBuilder::kData].vaddr = kUserTop + 0x190; },  // past the user half
      [](ElfBuilder& b) {
        for (ProgramHeader& h : b.headers) h.type = kPtNote;  // nothing to load
      },
  };
  for (size_t i = 0; i < std::size(breakages); ++i) {
    ElfBuilder b;
    breakages[i](b);
    EXPECT_TRUE(fails_with_errno(plan_of(b), Errno::ExecFormat)) << "breakage " << i;
  }
}

// Every truncation and three single-byte changes of every header byte: the
// answer is an error or a plan that keeps its promises (no fill reads outside
// the file; ASan builds check that too).
TEST(LoadPlan, CorruptionSweep) {
  const ElfBuilder b;
  const std::vector<uint8_t> good = b.build();
  for (size_t size = 0; size < good.size(); size += 7) {
    std::vector<uint8_t> file(good.begin(), good.begin() + size);
    auto plan = make_load_plan(file);
    if (plan) {
      check_plan(*plan, b, file);
    } else {
      EXPECT_EQ(plan.error(), Errno::ExecFormat);
    }
  }
  for (size_t at = 0; at < 344; ++at) {
    for (uint8_t value : {uint8_t{0}, uint8_t{0xff}, uint8_t(good[at] ^ 0x10)}) {
      std::vector<uint8_t> file = good;
      file[at] = value;
      auto plan = make_load_plan(file);
      if (!plan) {
        EXPECT_TRUE(plan.error() == Errno::ExecFormat || plan.error() == Errno::NoMemory);
        continue;
      }
      check_plan_shape(*plan, file);
    }
  }
}

TEST(LoadPlan, ImagesThatDoNotFitAreENOMEM) {
  // The data page ends at 0x12000.
  EXPECT_TRUE(fails_with_errno(plan_of(ElfBuilder{}, {.image_top = VirtAddr(0x11000)}), Errno::NoMemory));
  EXPECT_TRUE(plan_of(ElfBuilder{}, {.image_top = VirtAddr(0x12000)}));
  // Two pages in all.
  EXPECT_TRUE(fails_with_errno(plan_of(ElfBuilder{}, {.max_bytes = 0x1fff}), Errno::NoMemory));
  EXPECT_TRUE(plan_of(ElfBuilder{}, {.max_bytes = 0x2000}));
  EXPECT_TRUE(fails_with_errno(plan_of(ElfBuilder{}, {.image_top = VirtAddr(0x12800)}), Errno::Invalid));
}

// ---------------------------------------------------------------------------
// The initial stack

constexpr uint64_t kTop = 0x3fffff0000;  // a stack top just below the user half's end

struct ParsedStack {
  uint64_t argc = 0;
  std::vector<std::string> argv, envp;
  std::vector<std::pair<uint64_t, uint64_t>> auxv;
};

// Reads the stack back as _start would. Every read must land inside
// [sp, top): a pointer outside is a test failure, not a crash.
class StackReader {
 public:
  StackReader(const std::vector<uint8_t>& buffer, uint64_t top) : m_buffer(buffer), m_top(top) {}

  std::optional<uint64_t> u64(uint64_t va) const {
    if (va < base() || va > m_top - 8) return std::nullopt;
    uint64_t value = 0;
    for (size_t i = 8; i-- > 0;) value = value << 8 | m_buffer[va - base() + i];
    return value;
  }
  std::optional<std::string> string(uint64_t va) const {
    std::string s;
    for (; va >= base() && va < m_top; ++va) {
      uint8_t c = m_buffer[va - base()];
      if (c == 0) return s;
      s.push_back(static_cast<char>(c));
    }
    return std::nullopt;
  }
  uint8_t byte(uint64_t va) const { return m_buffer[va - base()]; }

  // The whole start-up block at sp, or nullopt with a test failure.
  std::optional<ParsedStack> parse(uint64_t sp) const {
    ParsedStack out;
    auto argc = u64(sp);
    if (!argc) return fail("argc");
    out.argc = *argc;
    uint64_t at = sp + 8;
    for (auto* list : {&out.argv, &out.envp}) {
      for (;; at += 8) {
        auto pointer = u64(at);
        if (!pointer) return fail("vector entry");
        if (*pointer == 0) break;
        if (*pointer < sp) return fail("string below sp");
        auto s = string(*pointer);
        if (!s) return fail("unterminated string");
        list->push_back(*s);
      }
      at += 8;
    }
    for (;; at += 16) {
      auto type = u64(at), value = u64(at + 8);
      if (!type || !value) return fail("auxv entry");
      out.auxv.emplace_back(*type, *value);
      if (*type == 0) break;
    }
    return out;
  }

 private:
  uint64_t base() const { return m_top - m_buffer.size(); }
  static std::optional<ParsedStack> fail(const char* what) {
    ADD_FAILURE() << "bad stack: " << what;
    return std::nullopt;
  }

  const std::vector<uint8_t>& m_buffer;
  uint64_t m_top;
};

std::optional<uint64_t> aux_value(const ParsedStack& stack, AuxType type) {
  for (auto [t, v] : stack.auxv) {
    if (t == uint64_t(type)) return v;
  }
  return std::nullopt;
}

AuxValues test_aux() {
  return {.entry = VirtAddr(0x1017c), .phdr = VirtAddr(0x10040), .phent = 56, .phnum = 5, .random = {}};
}

// Builds the stack into a fresh buffer of `pages` pages (poisoned first, to
// show any byte left unwritten), parses it back and checks what every stack
// must satisfy.
struct Built {
  std::vector<uint8_t> buffer;
  InitialStack stack;
  ParsedStack parsed;
};

std::optional<Built> build(const std::vector<std::string_view>& argv, const std::vector<std::string_view>& envp,
                           const AuxValues& aux = test_aux(), size_t pages = 1) {
  Built out;
  out.buffer.assign(pages * kPageSize, 0xa5);
  auto stack = build_initial_stack(argv, envp, aux, VirtAddr(kTop), out.buffer);
  if (!stack) {
    ADD_FAILURE() << errno_name(stack.error());
    return std::nullopt;
  }
  out.stack = *stack;
  const uint64_t sp = stack->sp.value();
  EXPECT_EQ(sp % 16, 0u);
  EXPECT_EQ(stack->size, kTop - sp);
  EXPECT_EQ(stack->argv.value(), sp + 8);
  StackReader reader(out.buffer, kTop);
  for (uint64_t va = kTop - out.buffer.size(); va < sp; ++va) {
    if (reader.byte(va) != 0) {
      ADD_FAILURE() << "stale byte below sp at " << std::hex << va;
      break;
    }
  }
  auto parsed = reader.parse(sp);
  if (!parsed) return std::nullopt;
  out.parsed = *parsed;
  EXPECT_EQ(out.parsed.argc, argv.size());
  EXPECT_EQ(out.parsed.argv, std::vector<std::string>(argv.begin(), argv.end()));
  EXPECT_EQ(out.parsed.envp, std::vector<std::string>(envp.begin(), envp.end()));
  EXPECT_EQ(stack->envp.value(), sp + 8 * (argv.size() + 2));
  EXPECT_EQ(stack->auxv.value(), stack->envp.value() + 8 * (envp.size() + 1));
  EXPECT_EQ(aux_value(out.parsed, AuxType::PageSize), kPageSize);
  EXPECT_EQ(aux_value(out.parsed, AuxType::Entry), aux.entry.value());
  EXPECT_EQ(out.parsed.auxv.back(), (std::pair<uint64_t, uint64_t>{0, 0}));
  return out;
}

TEST(InitialStack, ShellCommand) {
  auto built = build({"sh", "-c", "echo hi | cat"}, {"PATH=/bin", "HOME=/"});
  ASSERT_TRUE(built);
  EXPECT_EQ(aux_value(built->parsed, AuxType::Phdr), 0x10040u);
  EXPECT_EQ(aux_value(built->parsed, AuxType::Phent), 56u);
  EXPECT_EQ(aux_value(built->parsed, AuxType::Phnum), 5u);
  EXPECT_FALSE(aux_value(built->parsed, AuxType::Random));
  // The strings end at the top, argv's first: "sh\0-c\0echo hi | cat\0PATH=/bin\0HOME=/\0".
  const uint64_t strings = 3 + 3 + 14 + 10 + 7;
  StackReader reader(built->buffer, kTop);
  EXPECT_EQ(reader.u64(built->stack.argv.value()), kTop - strings);
  EXPECT_EQ(reader.byte(kTop - 1), 0);
  // argc, 3+1 argv, 2+1 envp, 6 auxv pairs (PAGESZ ENTRY PHDR PHENT PHNUM NULL).
  EXPECT_EQ(built->stack.size, kern::align_up(strings + 8 * (1 + 4 + 3) + 16 * 6, 16));
}

TEST(InitialStack, NoArgumentsNoEnvironment) {
  auto built = build({}, {});
  ASSERT_TRUE(built);
  EXPECT_EQ(built->parsed.argc, 0u);
  // argc, NULL, NULL, and the auxv: nothing else.
  EXPECT_EQ(built->stack.size, kern::align_up(8 * 3 + 16 * 6, 16));
}

TEST(InitialStack, EmptyStrings) {
  ASSERT_TRUE(build({"", "", "x"}, {""}));
  ASSERT_TRUE(build({""}, {}));
  ASSERT_TRUE(build({}, {"", "A=", "="}));
}

TEST(InitialStack, WithoutProgramHeaders) {
  AuxValues aux = test_aux();
  aux.phdr = VirtAddr(0);
  auto built = build({"prog"}, {}, aux);
  ASSERT_TRUE(built);
  EXPECT_EQ(built->parsed.auxv.size(), 3u);  // PAGESZ, ENTRY, NULL
  EXPECT_FALSE(aux_value(built->parsed, AuxType::Phdr));
  EXPECT_FALSE(aux_value(built->parsed, AuxType::Phnum));
}

TEST(InitialStack, RandomBytes) {
  const uint8_t random[kRandomBytes] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  AuxValues aux = test_aux();
  aux.random = random;
  auto built = build({"prog", "arg"}, {"X=1"}, aux);
  ASSERT_TRUE(built);
  auto at = aux_value(built->parsed, AuxType::Random);
  ASSERT_TRUE(at);
  // Just below the strings, above every vector.
  EXPECT_EQ(*at, kTop - (5 + 4 + 4) - kRandomBytes);
  StackReader reader(built->buffer, kTop);
  for (size_t i = 0; i < kRandomBytes; ++i) EXPECT_EQ(reader.byte(*at + i), random[i]);
  EXPECT_GT(*at, built->stack.auxv.value() + 16 * built->parsed.auxv.size() - 1);

  const uint8_t short_random[8] = {};
  aux.random = short_random;
  std::vector<uint8_t> buffer(kPageSize);
  EXPECT_TRUE(fails_with_errno(build_initial_stack({}, {}, aux, VirtAddr(kTop), buffer), Errno::Invalid));
}

// Every string length modulo 16, with every count of pointers modulo 2 and
// with and without AT_RANDOM: sp stays 16-byte aligned and everything reads
// back.
TEST(InitialStack, AlignmentSweep) {
  const uint8_t random[kRandomBytes] = {};
  std::string long_string(40, 'a');
  for (size_t length = 0; length <= 40; ++length) {
    for (size_t envc = 0; envc < 3; ++envc) {
      for (bool with_random : {false, true}) {
        std::string_view arg(long_string.data(), length);
        std::vector<std::string_view> envp(envc, std::string_view(long_string.data(), length / 2));
        AuxValues aux = test_aux();
        if (with_random) aux.random = random;
        ASSERT_TRUE(build({"p", arg}, envp, aux)) << length << " " << envc;
      }
    }
  }
}

TEST(InitialStack, ArgMaxIsE2BIG) {
  std::vector<uint8_t> buffer(40 * kPageSize, 0x5a);
  // One string exactly at the limit: its bytes, its NUL and its pointer.
  std::string big(kArgMax - 9, 'x');
  std::vector<std::string_view> argv = {big};
  auto ok = build_initial_stack(argv, {}, test_aux(), VirtAddr(kTop), buffer);
  ASSERT_TRUE(ok) << errno_name(ok.error());

  big.push_back('x');
  argv = {big};
  std::fill(buffer.begin(), buffer.end(), 0x5a);
  EXPECT_TRUE(fails_with_errno(build_initial_stack(argv, {}, test_aux(), VirtAddr(kTop), buffer),
                               Errno::ArgListTooLong));
  // Decided before anything was written.
  EXPECT_TRUE(std::all_of(buffer.begin(), buffer.end(), [](uint8_t b) { return b == 0x5a; }));

  // Many small strings, split over argv and envp, count their pointers too:
  // 1000 + 1000 strings of 60 bytes are 2000 * 69 > 128 KiB, while their
  // text alone (122000 bytes) is below it.
  std::string sixty(60, 'e');
  std::vector<std::string_view> many(1000, sixty);
  EXPECT_TRUE(fails_with_errno(build_initial_stack(many, many, test_aux(), VirtAddr(kTop), buffer),
                               Errno::ArgListTooLong));
  std::vector<std::string_view> fewer(900, sixty);
  EXPECT_TRUE(build_initial_stack(fewer, fewer, test_aux(), VirtAddr(kTop), buffer));

  // A string that claims an absurd size must not wrap the sum.
  std::string_view absurd(sixty.data(), ~size_t{0} / 2);
  std::vector<std::string_view> one = {absurd};
  EXPECT_TRUE(fails_with_errno(build_initial_stack(one, {}, test_aux(), VirtAddr(kTop), buffer),
                               Errno::ArgListTooLong));
}

TEST(InitialStack, BufferTooSmallIsE2BIG) {
  std::vector<std::string_view> argv = {"prog", "argument"};
  std::vector<uint8_t> big(kPageSize);
  auto stack = build_initial_stack(argv, {}, test_aux(), VirtAddr(kTop), big);
  ASSERT_TRUE(stack);
  std::vector<uint8_t> exact(stack->size);
  auto again = build_initial_stack(argv, {}, test_aux(), VirtAddr(kTop), exact);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->sp, stack->sp);
  std::vector<uint8_t> one_short(stack->size - 1);
  EXPECT_TRUE(fails_with_errno(build_initial_stack(argv, {}, test_aux(), VirtAddr(kTop), one_short),
                               Errno::ArgListTooLong));
}

TEST(InitialStack, CallerBugsAreEINVAL) {
  std::vector<uint8_t> buffer(kPageSize);
  EXPECT_TRUE(fails_with_errno(build_initial_stack({}, {}, test_aux(), VirtAddr(kTop - 8), buffer), Errno::Invalid));
  EXPECT_TRUE(fails_with_errno(build_initial_stack({}, {}, test_aux(), VirtAddr(0x800), buffer), Errno::Invalid));
}

// exec from start to finish: the plan of the GNU ld image feeds the auxv.
TEST(InitialStack, FromALoadPlan) {
  auto plan = plan_of(ElfBuilder{});
  ASSERT_TRUE(plan);
  auto built = build({"/bin/echo", "hi"}, {"TERM=dumb"}, aux_from_plan(*plan), 2);
  ASSERT_TRUE(built);
  EXPECT_EQ(aux_value(built->parsed, AuxType::Entry), 0x1017cu);
  EXPECT_EQ(aux_value(built->parsed, AuxType::Phdr), 0x10040u);
  EXPECT_EQ(aux_value(built->parsed, AuxType::Phnum), 5u);
}

}  // namespace
}  // namespace procmgr
