// Tests for the ELF64 executable parser (microkernel/lib/elf.h). The images
// are made at test time by ElfBuilder (file header, program headers, and a
// patterned payload). Its default is the layout GNU ld 2.40 gives a static
// riscv64 program:
//
//   int counter = 5; int zeros[100];
//   void _start(void) { counter++; zeros[3] = counter; for (;;); }
//   riscv64-linux-gnu-gcc -O2 -static -nostdlib
//
// five program headers (RISCV_ATTRIBUTES, LOAD R+X at 0x10000 from file
// offset 0, LOAD RW with .data and .bss, NOTE, GNU_STACK), and
// BuilderMatchesGnuLd compares the builder's first 344 bytes with the bytes
// that link really produced. Every other test starts from that image and
// breaks one thing. Images live in vectors of exactly their size, so under
// AddressSanitizer a read past the end is caught; the sweeps (every
// truncation, every single-byte corruption of the headers) check that
// nothing the parser accepts points outside the file.
#include "elf.h"

#include <gtest/gtest.h>

#include "elf_builder.h"

#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace kern::elf {
namespace {

constexpr uint64_t kUserTop = uint64_t{1} << 38;  // the lower half of Sv39
constexpr uint64_t kAll = ~uint64_t{0};

using namespace elf_testing;

std::vector<uint8_t> from_hex(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// The file header and program headers of the program in the comment at the
// top, as GNU ld 2.40 wrote them (xxd -p -l 344).
const std::string kGnuLdHeaders =
    "7f454c460201010000000000000000000200f300010000007c0101000000"
    "00004000000000000000d804000000000000050000004000380005004000"
    "0a0009000300007004000000b30100000000000000000000000000000000"
    "000000000000530000000000000000000000000000000100000000000000"
    "010000000500000000000000000000000000010000000000000001000000"
    "000090010000000000009001000000000000001000000000000001000000"
    "060000009001000000000000901101000000000090110100000000000400"
    "000000000000980100000000000000100000000000000400000004000000"
    "580100000000000058010100000000005801010000000000240000000000"
    "00002400000000000000040000000000000051e574640600000000000000"
    "000000000000000000000000000000000000000000000000000000000000"
    "0000000000001000000000000000";

Result<Image> parse_built(const ElfBuilder& b, uint64_t user_top = kUserTop) {
  static std::vector<uint8_t> keep;  // the Image points into it
  keep = b.build();
  return parse(keep, user_top);
}

Error parse_error(const ElfBuilder& b, uint64_t user_top = kUserTop) {
  auto image = parse_built(b, user_top);
  EXPECT_FALSE(image.has_value());
  return image ? Error{} : image.error();
}

// Whatever parse() accepted: every segment inside the file and under
// user_top, the entry in an executable segment, and every file byte readable.
void check_accepted(const Image& image, std::span<const uint8_t> file, uint64_t user_top) {
  ASSERT_GT(image.segment_count, 0u);
  ASSERT_LE(image.segment_count, kMaxSegments);
  bool entry_found = false;
  volatile uint8_t sink = 0;  // the reads must happen for ASan to check them
  for (size_t i = 0; i < image.segment_count; ++i) {
    const Segment& s = image.segments[i];
    ASSERT_LE(s.filesz, s.memsz);
    ASSERT_LE(s.offset, file.size());
    ASSERT_LE(s.filesz, file.size() - s.offset);
    ASSERT_LE(s.vaddr, user_top);
    ASSERT_LE(s.memsz, user_top - s.vaddr);
    if (s.execute && image.entry >= s.vaddr && image.entry - s.vaddr < s.memsz) entry_found = true;
    EXPECT_EQ(image.file_bytes(i).data(), file.data() + s.offset);
    for (uint8_t byte : image.file_bytes(i)) sink = sink ^ byte;
  }
  EXPECT_TRUE(entry_found);
  EXPECT_EQ(image.file.data(), file.data());
}

TEST(Elf, BuilderMatchesGnuLd) {
  std::vector<uint8_t> built = ElfBuilder{}.build();
  std::vector<uint8_t> golden = from_hex(kGnuLdHeaders);
  ASSERT_EQ(golden.size(), 344u);
  EXPECT_EQ(std::vector<uint8_t>(built.begin(), built.begin() + 344), golden);
}

TEST(Elf, ParsesGnuLdStaticProgram) {
  std::vector<uint8_t> file = ElfBuilder{}.build();
  auto image = parse(file, kUserTop);
  ASSERT_TRUE(image) << error_name(image.error());
  EXPECT_EQ(image->entry, 0x1017cu);
  ASSERT_EQ(image->segment_count, 2u);
  const Segment& text = image->segments[0];
  EXPECT_EQ(text.vaddr, 0x10000u);
  EXPECT_EQ(text.memsz, 0x190u);
  EXPECT_EQ(text.offset, 0u);
  EXPECT_EQ(text.filesz, 0x190u);
  EXPECT_TRUE(text.read && text.execute && !text.write);
  const Segment& data = image->segments[1];
  EXPECT_EQ(data.vaddr, 0x11190u);
  EXPECT_EQ(data.memsz, 0x198u);
  EXPECT_EQ(data.offset, 0x190u);
  EXPECT_EQ(data.filesz, 4u);
  EXPECT_TRUE(data.read && data.write && !data.execute);
  auto bytes = image->file_bytes(1);
  EXPECT_EQ(bytes.data(), file.data() + 0x190);
  EXPECT_EQ(bytes.size(), 4u);
  check_accepted(*image, file, kUserTop);
}

// A static glibc program adds TLS and GNU_RELRO, which overlap the data
// segment; only PT_LOAD counts.
TEST(Elf, IgnoresOtherProgramHeaderTypes) {
  ElfBuilder b;
  b.headers.push_back(
      {.type = kPtTls, .flags = kR, .offset = 0x190, .vaddr = 0x11190, .filesz = 4, .memsz = 0x60, .align = 8});
  b.headers.push_back(
      {.type = kPtGnuRelro, .flags = kR, .offset = 0x190, .vaddr = 0x11190, .filesz = 4, .memsz = 4, .align = 1});
  // Nonsense in a type the parser skips is not its concern.
  b.headers.push_back({.type = kPtNote, .offset = kAll, .vaddr = kAll, .filesz = kAll, .memsz = 1, .align = 3});
  auto image = parse_built(b);
  ASSERT_TRUE(image) << error_name(image.error());
  EXPECT_EQ(image->segment_count, 2u);
}

// The image may sit at any address: fields are read a byte at a time (UBSan
// reports a misaligned load otherwise).
TEST(Elf, ParsesAtOddAddress) {
  std::vector<uint8_t> file = ElfBuilder{}.build();
  std::vector<uint8_t> shifted(file.size() + 1);
  std::memcpy(shifted.data() + 1, file.data(), file.size());
  auto image = parse(std::span<const uint8_t>(shifted).subspan(1), kUserTop);
  ASSERT_TRUE(image);
  EXPECT_EQ(image->entry, 0x1017cu);
  EXPECT_EQ(image->segment_count, 2u);
}

TEST(Elf, RejectsBadIdentification) {
  for (size_t i = 0; i < 4; ++i) {
    ElfBuilder b;
    b.ident[i] ^= 0x20;
    EXPECT_EQ(parse_error(b), Error::Malformed) << "magic byte " << i;
  }
  ElfBuilder b32;
  b32.ident[4] = 1;  // ELFCLASS32
  EXPECT_EQ(parse_error(b32), Error::Malformed);
  ElfBuilder big_endian;
  big_endian.ident[5] = 2;
  EXPECT_EQ(parse_error(big_endian), Error::Malformed);
  ElfBuilder ident_version;
  ident_version.ident[6] = 0;
  EXPECT_EQ(parse_error(ident_version), Error::Malformed);
  ElfBuilder version;
  version.version = 2;
  EXPECT_EQ(parse_error(version), Error::Malformed);
}

TEST(Elf, RejectsOtherMachinesAndTypes) {
  ElfBuilder x86;
  x86.machine = 62;
  EXPECT_EQ(parse_error(x86), Error::Malformed);
  for (uint16_t type : {0, 1, 3, 4}) {  // none, relocatable, shared/PIE, core
    ElfBuilder b;
    b.type = type;
    EXPECT_EQ(parse_error(b), Error::Malformed) << "e_type " << type;
  }
}

TEST(Elf, RejectsBadProgramHeaderTable) {
  for (uint16_t size : {0, 32, 55, 57, 64}) {
    ElfBuilder b;
    b.phentsize = size;
    EXPECT_EQ(parse_error(b), Error::Malformed) << "e_phentsize " << size;
  }
  ElfBuilder extended;
  extended.phnum = 0xffff;
  EXPECT_EQ(parse_error(extended), Error::Malformed);
  ElfBuilder past_end;
  past_end.phoff = 1880 - 5 * 56 + 1;  // the last header sticks out by one byte
  EXPECT_EQ(parse_error(past_end), Error::Malformed);
  ElfBuilder too_many;
  too_many.phnum = 40;  // 40 * 56 > 1880 - 64
  EXPECT_EQ(parse_error(too_many), Error::Malformed);
  ElfBuilder wrapping;
  wrapping.phoff = kAll - 55;  // phoff + table wraps to a small number
  EXPECT_EQ(parse_error(wrapping), Error::Malformed);
}

TEST(Elf, ProgramHeaderTableMayEndAtEndOfFile) {
  ElfBuilder b;
  b.phoff = 1880 - 5 * 56;
  auto image = parse_built(b);
  ASSERT_TRUE(image) << error_name(image.error());
}

TEST(Elf, RejectsFileBytesOutsideFile) {
  ElfBuilder past_end;
  past_end.headers[ElfBuilder::kData].filesz = 1880 - 0x190 + 1;
  past_end.headers[ElfBuilder::kData].memsz = 0x1000;
  EXPECT_EQ(parse_error(past_end), Error::Malformed);
  ElfBuilder offset_past_end;
  offset_past_end.headers[ElfBuilder::kData].offset = 1880 + 0x1000;  // congruent, still outside
  offset_past_end.headers[ElfBuilder::kData].filesz = 0;
  EXPECT_EQ(parse_error(offset_past_end), Error::Malformed);
  // offset + filesz wraps around to 0x190, which is inside the file.
  ElfBuilder wrapping;
  wrapping.headers[ElfBuilder::kData].offset = kAll - 0xe6f;  // == 0x190 mod 0x1000
  wrapping.headers[ElfBuilder::kData].filesz = 0x1000;
  wrapping.headers[ElfBuilder::kData].memsz = 0x1000;
  EXPECT_EQ(parse_error(wrapping), Error::Malformed);
}

TEST(Elf, FileBytesMayEndAtEndOfFile) {
  ElfBuilder b;
  b.headers[ElfBuilder::kData].filesz = 1880 - 0x190;
  b.headers[ElfBuilder::kData].memsz = 1880 - 0x190;
  auto image = parse_built(b);
  ASSERT_TRUE(image) << error_name(image.error());
  EXPECT_EQ(image->file_bytes(1).size(), 1880u - 0x190);
}

TEST(Elf, RejectsFileSizeAboveMemorySize) {
  ElfBuilder b;
  b.headers[ElfBuilder::kData].filesz = 0x199;
  EXPECT_EQ(parse_error(b), Error::Malformed);
}

TEST(Elf, ChecksAlignment) {
  ElfBuilder incongruent;
  incongruent.headers[ElfBuilder::kData].vaddr = 0x11198;
  EXPECT_EQ(parse_error(incongruent), Error::Malformed);
  for (uint64_t align : {3, 0x1800, 0x1001}) {
    ElfBuilder b;
    b.headers[ElfBuilder::kData].align = align;
    EXPECT_EQ(parse_error(b), Error::Malformed) << "p_align " << align;
  }
  // 0 and 1 mean no constraint; a smaller power of two is a weaker one.
  for (uint64_t align : {0, 1, 8}) {
    ElfBuilder b;
    b.headers[ElfBuilder::kData].vaddr = 0x11198;
    b.headers[ElfBuilder::kData].align = align;
    EXPECT_TRUE(parse_built(b)) << "p_align " << align;
  }
  // A congruence that holds only modulo 2^64 is still a congruence.
  ElfBuilder below;
  below.headers[ElfBuilder::kText].offset = 0x1000;
  below.headers[ElfBuilder::kText].vaddr = 0;
  below.headers[ElfBuilder::kText].filesz = 0x100;
  below.headers[ElfBuilder::kText].memsz = 0x100;
  below.entry = 0x10;
  below.file_size = 0x1100;
  EXPECT_TRUE(parse_built(below));
}

TEST(Elf, RejectsSegmentsAboveUserTop) {
  ElfBuilder b;
  b.headers[ElfBuilder::kData].vaddr = kUserTop + 0x190;
  EXPECT_EQ(parse_error(b), Error::RangeError);
  // Ending exactly at user_top is inside [0, user_top).
  uint64_t data_end = 0x11190 + 0x198;
  EXPECT_TRUE(parse_built(ElfBuilder{}, data_end));
  EXPECT_EQ(parse_error(ElfBuilder{}, data_end - 1), Error::RangeError);
}

TEST(Elf, RejectsWrappingMemoryRange) {
  ElfBuilder b;
  b.headers[ElfBuilder::kData].vaddr = kAll - 0xe6f;  // == 0x190 mod 0x1000
  b.headers[ElfBuilder::kData].memsz = 0x2000;       // vaddr + memsz wraps
  EXPECT_EQ(parse_error(b, kAll), Error::RangeError);
  ElfBuilder huge;
  huge.headers[ElfBuilder::kData].memsz = kAll;
  EXPECT_EQ(parse_error(huge, kAll), Error::RangeError);
}

TEST(Elf, RejectsSegmentsSharingAPage) {
  // Data starting in the page where text ends, without overlapping bytes.
  ElfBuilder shared;
  shared.headers[ElfBuilder::kData].vaddr = 0x10190;
  EXPECT_EQ(parse_error(shared), Error::RangeError);
  // Data on top of text.
  ElfBuilder on_top;
  on_top.headers[ElfBuilder::kData].vaddr = 0xf190;
  on_top.headers[ElfBuilder::kData].memsz = 0x3000;
  EXPECT_EQ(parse_error(on_top), Error::RangeError);
  // Data before text, ending in text's first page.
  ElfBuilder before;
  before.headers[ElfBuilder::kData].vaddr = 0xf190;
  before.headers[ElfBuilder::kData].memsz = 0xe71;  // last byte 0x10000
  EXPECT_EQ(parse_error(before), Error::RangeError);
  before.headers[ElfBuilder::kData].memsz = 0xe70;  // last byte 0xffff
  EXPECT_TRUE(parse_built(before));
}

TEST(Elf, AdjacentPagesAreFine) {
  ElfBuilder b;
  b.headers[ElfBuilder::kData].vaddr = 0x11000;
  b.headers[ElfBuilder::kData].offset = 0x1000;
  b.headers[ElfBuilder::kData].filesz = 0x10;
  b.file_size = 0x1100;
  auto image = parse_built(b);
  ASSERT_TRUE(image) << error_name(image.error());
  EXPECT_EQ(image->segment_count, 2u);
}

// One PT_LOAD per page, R+X first, so the entry point is in segment 0.
ElfBuilder many_segments(size_t count) {
  ElfBuilder b;
  b.headers.resize(ElfBuilder::kText + 1);
  for (size_t i = 1; i < count; ++i) {
    b.headers.push_back({.flags = kR, .offset = 0, .vaddr = 0x10000 + 0x1000 * i, .filesz = 0x10, .memsz = 0x10});
  }
  return b;
}

TEST(Elf, AtMostMaxSegments) {
  auto image = parse_built(many_segments(kMaxSegments));
  ASSERT_TRUE(image) << error_name(image.error());
  EXPECT_EQ(image->segment_count, kMaxSegments);
  EXPECT_EQ(parse_error(many_segments(kMaxSegments + 1)), Error::RangeError);
}

TEST(Elf, EmptyLoadSegmentsAreSkipped) {
  ElfBuilder b = many_segments(kMaxSegments);
  // Even at the limit, and in the middle of text: it occupies no memory.
  b.headers.push_back({.flags = kR | kW, .offset = 0x100, .vaddr = 0x10100, .filesz = 0, .memsz = 0});
  auto image = parse_built(b);
  ASSERT_TRUE(image) << error_name(image.error());
  EXPECT_EQ(image->segment_count, kMaxSegments);
  // It is still checked.
  b.headers.back().vaddr = kUserTop + 0x100;
  EXPECT_EQ(parse_error(b), Error::RangeError);
}

TEST(Elf, RejectsImageWithoutLoadableSegments) {
  ElfBuilder none;
  none.headers.erase(none.headers.begin() + ElfBuilder::kText, none.headers.begin() + ElfBuilder::kData + 1);
  EXPECT_EQ(parse_error(none), Error::InvalidArgument);
  ElfBuilder no_headers;
  no_headers.phnum = 0;
  EXPECT_EQ(parse_error(no_headers), Error::InvalidArgument);
}

TEST(Elf, EntryMustBeInAnExecutableSegment) {
  for (uint64_t entry : {uint64_t{0x10000}, uint64_t{0x1018f}}) {
    ElfBuilder b;
    b.entry = entry;
    EXPECT_TRUE(parse_built(b)) << std::hex << entry;
  }
  for (uint64_t entry : {uint64_t{0}, uint64_t{0xffff}, uint64_t{0x10190}, uint64_t{0x11190}, kAll}) {
    ElfBuilder b;
    b.entry = entry;
    EXPECT_EQ(parse_error(b), Error::InvalidArgument) << std::hex << entry;
  }
  ElfBuilder no_execute;
  no_execute.headers[ElfBuilder::kText].flags = kR;
  EXPECT_EQ(parse_error(no_execute), Error::InvalidArgument);
}

// Only a file that still holds both segments' file bytes (up to 0x194) can be
// accepted; no shorter one may make the parser read past its end.
TEST(Elf, EveryTruncation) {
  std::vector<uint8_t> full = ElfBuilder{}.build();
  for (size_t length = 0; length <= full.size(); ++length) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + length);
    auto image = parse(cut, kUserTop);
    EXPECT_EQ(image.has_value(), length >= 0x194) << "length " << length;
    if (image) check_accepted(*image, cut, kUserTop);
  }
}

// Every byte of the headers changed in several ways: whatever is accepted
// must still describe memory inside the file and under user_top.
TEST(Elf, EverySingleByteCorruption) {
  std::vector<uint8_t> original = ElfBuilder{}.build();
  const size_t header_bytes = 64 + 5 * 56;
  size_t accepted = 0;
  for (size_t i = 0; i < header_bytes; ++i) {
    for (uint8_t value : {uint8_t{0x00}, uint8_t{0xff}, uint8_t{0x80}, static_cast<uint8_t>(original[i] ^ 1),
                          static_cast<uint8_t>(original[i] + 0x10)}) {
      std::vector<uint8_t> file = original;
      file[i] = value;
      auto image = parse(file, kUserTop);
      if (!image) continue;
      ++accepted;
      check_accepted(*image, file, kUserTop);
    }
  }
  // Some changes are harmless (e_shoff, p_paddr, the ignored headers).
  EXPECT_GT(accepted, 0u);
}

}  // namespace
}  // namespace kern::elf
