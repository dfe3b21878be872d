// Checking an ELF64 RISC-V executable before anything of it is used. parse()
// reads the file header, then each program header, and decides on the first
// error; it writes nothing but the Image it returns. Only PT_LOAD entries
// matter to a loader: every other type (PT_NOTE, PT_GNU_STACK,
// PT_RISCV_ATTRIBUTES, ...) is skipped without a look at its fields.
//
// The file comes from outside the kernel (the boot archive, later a file
// server), so every sum of two of its fields is checked for wrap-around
// before it is compared with a bound, and every field is assembled a byte at
// a time: the image may sit at any address, and the kernel must not take a
// misaligned-access trap on it.
//
// Which error: a header or program header that no correct linker writes is
// Malformed; a well-formed segment that does not fit where programs may live
// (past user_top, overlapping another, one segment too many) is RangeError;
// an image with nothing to run (no loadable segment, an entry point outside
// every executable segment) is InvalidArgument.
#include "elf.h"

#include "types.h"

namespace kern::elf {

namespace {

constexpr size_t kHeaderSize = 64;
constexpr uint16_t kProgramHeaderSize = 56;

// e_ident.
constexpr uint8_t kMagic[4] = {0x7f, 'E', 'L', 'F'};
constexpr uint8_t kClass64 = 2;            // ELFCLASS64
constexpr uint8_t kDataLittleEndian = 1;   // ELFDATA2LSB
constexpr uint8_t kVersionCurrent = 1;     // EV_CURRENT
constexpr uint16_t kTypeExecutable = 2;    // ET_EXEC
constexpr uint16_t kMachineRiscv = 243;    // EM_RISCV
// PN_XNUM: the real count is in section header 0. Only files with 65535 or
// more program headers do that; a program the kernel loads never does.
constexpr uint16_t kExtendedNumbering = 0xffff;

constexpr uint32_t kTypeLoad = 1;  // PT_LOAD
constexpr uint32_t kFlagExecute = 1, kFlagWrite = 2, kFlagRead = 4;

// Byte offsets of the fields read from the file header.
enum class HeaderField : size_t {
  Class = 4,
  Data = 5,
  IdentVersion = 6,
  Type = 16,
  Machine = 18,
  Version = 20,
  Entry = 24,
  ProgramHeaderOffset = 32,
  ProgramHeaderSize = 54,
  ProgramHeaderCount = 56,
};

// Byte offsets inside one program header. p_paddr (24) is not used.
enum class ProgramField : size_t {
  Type = 0,
  Flags = 4,
  Offset = 8,
  VirtualAddress = 16,
  FileSize = 32,
  MemorySize = 40,
  Align = 48,
};

// Little-endian loads; callers check that the bytes are inside the file.
uint64_t load_le(const uint8_t* p, size_t size) {
  uint64_t value = 0;
  for (size_t i = size; i-- > 0;) value = value << 8 | p[i];
  return value;
}

uint8_t header_byte(std::span<const uint8_t> file, HeaderField field) {
  return file[static_cast<size_t>(field)];
}
uint16_t header16(std::span<const uint8_t> file, HeaderField field) {
  return static_cast<uint16_t>(load_le(file.data() + static_cast<size_t>(field), 2));
}
uint32_t header32(std::span<const uint8_t> file, HeaderField field) {
  return static_cast<uint32_t>(load_le(file.data() + static_cast<size_t>(field), 4));
}
uint64_t header64(std::span<const uint8_t> file, HeaderField field) {
  return load_le(file.data() + static_cast<size_t>(field), 8);
}

// A decoded program header; `at` points to its 56 bytes inside the file.
struct ProgramHeader {
  uint32_t type;
  uint32_t flags;
  uint64_t offset;
  uint64_t vaddr;
  uint64_t filesz;
  uint64_t memsz;
  uint64_t align;
};

ProgramHeader decode_program_header(const uint8_t* at) {
  auto field = [at](ProgramField f, size_t size) { return load_le(at + static_cast<size_t>(f), size); };
  return {
      .type = static_cast<uint32_t>(field(ProgramField::Type, 4)),
      .flags = static_cast<uint32_t>(field(ProgramField::Flags, 4)),
      .offset = field(ProgramField::Offset, 8),
      .vaddr = field(ProgramField::VirtualAddress, 8),
      .filesz = field(ProgramField::FileSize, 8),
      .memsz = field(ProgramField::MemorySize, 8),
      .align = field(ProgramField::Align, 8),
  };
}

// True when [offset, offset + size) lies inside [0, limit); false also when
// the sum would wrap.
bool fits(uint64_t offset, uint64_t size, uint64_t limit) { return offset <= limit && size <= limit - offset; }

// The file header: identification, machine, type, and where the program
// header table is. Errors: Malformed.
Status check_header(std::span<const uint8_t> file) {
  if (file.size() < kHeaderSize) return fail(Error::Malformed);
  for (size_t i = 0; i < sizeof(kMagic); ++i) {
    if (file[i] != kMagic[i]) return fail(Error::Malformed);
  }
  if (header_byte(file, HeaderField::Class) != kClass64 ||
      header_byte(file, HeaderField::Data) != kDataLittleEndian ||
      header_byte(file, HeaderField::IdentVersion) != kVersionCurrent ||
      header32(file, HeaderField::Version) != kVersionCurrent) {
    return fail(Error::Malformed);
  }
  if (header16(file, HeaderField::Machine) != kMachineRiscv ||
      header16(file, HeaderField::Type) != kTypeExecutable) {
    return fail(Error::Malformed);
  }
  if (header16(file, HeaderField::ProgramHeaderSize) != kProgramHeaderSize) return fail(Error::Malformed);
  uint16_t count = header16(file, HeaderField::ProgramHeaderCount);
  if (count == kExtendedNumbering) return fail(Error::Malformed);
  // At most 65534 * 56 bytes: the product cannot overflow.
  uint64_t table_size = uint64_t{count} * kProgramHeaderSize;
  if (!fits(header64(file, HeaderField::ProgramHeaderOffset), table_size, file.size())) {
    return fail(Error::Malformed);
  }
  return {};
}

// One PT_LOAD on its own. Errors: Malformed for file bytes outside the file,
// filesz > memsz or a bad alignment; RangeError for memory outside
// [0, user_top).
Status check_load(const ProgramHeader& ph, uint64_t file_size, uint64_t user_top) {
  if (!fits(ph.offset, ph.filesz, file_size)) return fail(Error::Malformed);
  if (ph.filesz > ph.memsz) return fail(Error::Malformed);
  // p_align 0 and 1 both mean "no constraint". Otherwise the file offset and
  // the address must agree modulo the alignment, which is what lets a loader
  // map file pages straight to their addresses.
  if (ph.align > 1) {
    if (!is_power_of_two(ph.align)) return fail(Error::Malformed);
    if (!is_aligned(ph.vaddr - ph.offset, ph.align)) return fail(Error::Malformed);
  }
  if (!fits(ph.vaddr, ph.memsz, user_top)) return fail(Error::RangeError);
  return {};
}

// Whether two non-empty segments touch a common 4 KiB page. Both are inside
// [0, user_top) already, so end - 1 is their last byte and nothing wraps.
bool share_a_page(const Segment& a, const Segment& b) {
  uint64_t a_first = a.vaddr >> kPageShift, a_last = (a.vaddr + a.memsz - 1) >> kPageShift;
  uint64_t b_first = b.vaddr >> kPageShift, b_last = (b.vaddr + b.memsz - 1) >> kPageShift;
  return a_first <= b_last && b_first <= a_last;
}

bool contains(const Segment& segment, uint64_t address) {
  return address >= segment.vaddr && address - segment.vaddr < segment.memsz;
}

}  // namespace

Result<Image> parse(std::span<const uint8_t> file, uint64_t user_top) {
  TRY(check_header(file));
  Image image;
  image.file = file;
  image.entry = header64(file, HeaderField::Entry);
  uint64_t table = header64(file, HeaderField::ProgramHeaderOffset);
  uint16_t count = header16(file, HeaderField::ProgramHeaderCount);

  bool any_load = false;
  for (uint16_t i = 0; i < count; ++i) {
    // check_header() put the whole table inside the file.
    ProgramHeader ph = decode_program_header(file.data() + table + uint64_t{i} * kProgramHeaderSize);
    if (ph.type != kTypeLoad) continue;
    TRY(check_load(ph, file.size(), user_top));
    any_load = true;
    // A segment with nothing in memory needs no mapping and overlaps
    // nothing; it is checked like the others but not handed to the loader.
    if (ph.memsz == 0) continue;
    if (image.segment_count == kMaxSegments) return fail(Error::RangeError);
    Segment segment{
        .vaddr = ph.vaddr,
        .memsz = ph.memsz,
        .offset = ph.offset,
        .filesz = ph.filesz,
        .read = (ph.flags & kFlagRead) != 0,
        .write = (ph.flags & kFlagWrite) != 0,
        .execute = (ph.flags & kFlagExecute) != 0,
    };
    // Page granularity, because a page has one set of permissions: a page
    // shared by a writable and an executable segment would have to be both.
    for (size_t j = 0; j < image.segment_count; ++j) {
      if (share_a_page(image.segments[j], segment)) return fail(Error::RangeError);
    }
    image.segments[image.segment_count++] = segment;
  }
  if (!any_load) return fail(Error::InvalidArgument);

  for (size_t i = 0; i < image.segment_count; ++i) {
    if (image.segments[i].execute && contains(image.segments[i], image.entry)) return image;
  }
  return fail(Error::InvalidArgument);
}

}  // namespace kern::elf
