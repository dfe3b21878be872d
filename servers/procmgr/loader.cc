// The load plan and the initial stack of execve (loader.h). Both decide
// everything before they write anything: make_load_plan() builds its plan in
// a local value and returns it only when every check passed, and
// build_initial_stack() computes the whole layout, checks it against the
// limits and the buffer, and only then fills the buffer, with stores that
// cannot fail.
//
// The ELF image was checked by kern::elf::parse(): its segments lie inside
// the file and inside the user half (so no address sum here wraps), they do
// not share pages, and the program header table lies inside the file. The
// few header fields parse() does not hand back (where the program headers
// are, for AT_PHDR) are read here a byte at a time, as parse() does, since
// the image may sit at any alignment.
#include "loader.h"

namespace procmgr {

namespace {

using kern::align_down;
using kern::align_up;
using kern::elf::Segment;

// Fields of the ELF file header that parse() checked but does not return.
constexpr size_t kPhoffField = 32, kPhentsizeField = 54, kPhnumField = 56;

uint64_t load_le(std::span<const uint8_t> file, size_t at, size_t size) {
  uint64_t value = 0;
  for (size_t i = size; i-- > 0;) value = value << 8 | file[at + i];
  return value;
}

// Finds the user address of the program header table: the segment whose
// file bytes contain the whole table maps it there. That is where GNU ld
// puts it for a static executable (the first, text, segment starts at file
// offset 0 and holds the headers); an image that keeps its headers outside
// every segment gets no AT_PHDR.
void locate_program_headers(const kern::elf::Image& image, LoadPlan& plan) {
  uint64_t phoff = load_le(image.file, kPhoffField, 8);
  uint16_t phent = static_cast<uint16_t>(load_le(image.file, kPhentsizeField, 2));
  uint16_t phnum = static_cast<uint16_t>(load_le(image.file, kPhnumField, 2));
  // parse() checked that phoff + phnum * phent lies inside the file.
  uint64_t table_size = uint64_t{phnum} * phent;
  for (size_t i = 0; i < image.segment_count; ++i) {
    const Segment& s = image.segments[i];
    if (phoff >= s.offset && phoff + table_size <= s.offset + s.filesz) {
      plan.phdr = VirtAddr(s.vaddr + (phoff - s.offset));
      plan.phent = phent;
      plan.phnum = phnum;
      return;
    }
  }
}

void append(LoadPlan& plan, const LoadRegion& region) { plan.regions[plan.region_count++] = region; }

// The regions of one segment (see LoadPlan in loader.h for the split).
// Cannot fail: a plan has room for two regions per segment.
void add_segment(const Segment& s, LoadPlan& plan) {
  const VirtAddr start(align_down(s.vaddr, kPageSize));
  const VirtAddr file_start(s.vaddr);
  const VirtAddr file_end(s.vaddr + s.filesz);
  const VirtAddr end(align_up(s.vaddr + s.memsz, kPageSize));

  if (!s.write) {
    // A segment with no permission bits at all (PROT_NONE on Linux) has no
    // pager kind; Rodata is the nearest, and shows nothing the program
    // could not read from its own file.
    append(plan, {.kind = s.execute ? RegionKind::Text : RegionKind::Rodata,
                  .start = start,
                  .end = end,
                  .file_start = file_start,
                  .file_end = file_end,
                  .file_offset = s.offset});
    return;
  }

  VirtAddr bss_start = start;
  if (s.filesz > 0) {
    bss_start = file_end.align_up(kPageSize);
    append(plan, {.kind = RegionKind::Data,
                  .write_execute = s.execute,
                  .start = start,
                  .end = bss_start,
                  .file_start = file_start,
                  .file_end = file_end,
                  .file_offset = s.offset});
  }
  // The zero tail may end inside the last file-backed page (a small .bss):
  // then that page's fill has the zeros and no Bss region is needed.
  if (end > bss_start) {
    append(plan, {.kind = RegionKind::Bss,
                  .write_execute = s.execute,
                  .start = bss_start,
                  .end = end,
                  .file_start = bss_start,
                  .file_end = bss_start,
                  .file_offset = 0});
  }
}

// GNU ld writes PT_LOADs in address order, as the ELF spec requires, but
// parse() does not insist; the pager wants its regions sorted. At most 32
// entries: insertion sort.
void sort_regions(LoadPlan& plan) {
  for (size_t i = 1; i < plan.region_count; ++i) {
    LoadRegion moving = plan.regions[i];
    size_t j = i;
    for (; j > 0 && plan.regions[j - 1].start > moving.start; --j) plan.regions[j] = plan.regions[j - 1];
    plan.regions[j] = moving;
  }
}

}  // namespace

PageFill LoadRegion::page_fill(VirtAddr page) const {
  const VirtAddr page_end = page + kPageSize;
  const VirtAddr lo = file_start > page ? file_start : page;
  const VirtAddr hi = file_end < page_end ? file_end : page_end;
  if (lo >= hi) return {};
  return {.file_offset = file_offset + (lo - file_start),
          .copy_start = static_cast<uint32_t>(lo - page),
          .copy_end = static_cast<uint32_t>(hi - page)};
}

void fill_page(const LoadRegion& region, VirtAddr page, std::span<const uint8_t> file,
               std::span<uint8_t, kPageSize> out) {
  const PageFill fill = region.page_fill(page);
  for (uint32_t i = 0; i < fill.copy_start; ++i) out[i] = 0;
  for (uint32_t i = fill.copy_start; i < fill.copy_end; ++i) out[i] = file[fill.file_offset + (i - fill.copy_start)];
  for (size_t i = fill.copy_end; i < kPageSize; ++i) out[i] = 0;
}

Result<LoadPlan> make_load_plan(std::span<const uint8_t> file, const LoadLimits& limits) {
  if (!limits.image_top.is_aligned(kPageSize)) return posix::fail(Errno::Invalid);
  // Every parse() error is a file that cannot be run as it is: not ELF, not
  // ours, or a layout no linker writes. ENOEXEC is what execve says then,
  // whatever kern::Error the parser chose.
  auto image = kern::elf::parse(file, kUserTop);
  if (!image) return posix::fail(Errno::ExecFormat);

  LoadPlan plan;
  plan.entry = VirtAddr(image->entry);
  for (size_t i = 0; i < image->segment_count; ++i) {
    const Segment& s = image->segments[i];
    plan.write_execute = plan.write_execute || (s.write && s.execute);
    add_segment(s, plan);
  }
  sort_regions(plan);

  // A valid image that does not fit this address space: ENOMEM, as Linux
  // answers when it cannot map a segment. Segment pages are disjoint
  // (parse() rejects shared pages), so their sizes add up without counting
  // a page twice; the sum stays below 2^38.
  uint64_t total = 0;
  for (const LoadRegion& region : plan.load_regions()) {
    if (region.end > limits.image_top) return posix::fail(Errno::NoMemory);
    total += region.size();
    if (region.end > plan.heap_start) plan.heap_start = region.end;
  }
  if (total > limits.max_bytes) return posix::fail(Errno::NoMemory);

  locate_program_headers(*image, plan);
  return plan;
}

// ---------------------------------------------------------------------------
// The initial stack

namespace {

// The stack is written a byte at a time in little-endian order: the buffer
// has no alignment promise and RISC-V is little-endian like every host that
// runs the tests.
class StackWriter {
 public:
  StackWriter(std::span<uint8_t> buffer, VirtAddr top) : m_buffer(buffer), m_base(top - buffer.size()) {}

  void put64(VirtAddr at, uint64_t value) {
    for (size_t i = 0; i < 8; ++i) m_buffer[at - m_base + i] = static_cast<uint8_t>(value >> (8 * i));
  }
  void put_bytes(VirtAddr at, std::span<const uint8_t> bytes) {
    for (size_t i = 0; i < bytes.size(); ++i) m_buffer[at - m_base + i] = bytes[i];
  }
  // Copies s with its terminating NUL and returns the address after it.
  VirtAddr put_string(VirtAddr at, std::string_view s) {
    for (size_t i = 0; i < s.size(); ++i) m_buffer[at - m_base + i] = static_cast<uint8_t>(s[i]);
    m_buffer[at - m_base + s.size()] = 0;
    return at + (s.size() + 1);
  }

 private:
  std::span<uint8_t> m_buffer;
  VirtAddr m_base;  // the user address of m_buffer[0]
};

// Adds the bytes of one string list to `total` the way kArgMax counts them:
// each string, its NUL and its pointer. False once the sum passes kArgMax.
// Checking each string against the limit before adding keeps the sum from
// wrapping, whatever sizes the views claim.
bool count_strings(std::span<const std::string_view> list, uint64_t& strings, uint64_t& total) {
  for (std::string_view s : list) {
    if (s.size() > kArgMax) return false;
    strings += s.size() + 1;
    total += s.size() + 1 + sizeof(uint64_t);
    if (total > kArgMax) return false;
  }
  return true;
}

}  // namespace

Result<InitialStack> build_initial_stack(std::span<const std::string_view> argv,
                                         std::span<const std::string_view> envp, const AuxValues& aux,
                                         VirtAddr top, std::span<uint8_t> buffer) {
  // Callers' bugs, not the program's: EINVAL.
  if (!top.is_aligned(16) || buffer.size() > top.value()) return posix::fail(Errno::Invalid);
  if (!aux.random.empty() && aux.random.size() != kRandomBytes) return posix::fail(Errno::Invalid);

  uint64_t strings = 0, counted = 0;
  if (!count_strings(argv, strings, counted) || !count_strings(envp, strings, counted)) {
    return posix::fail(Errno::ArgListTooLong);
  }

  // The auxiliary vector: AT_PAGESZ, AT_ENTRY, the program headers when the
  // plan found them, AT_RANDOM when given, AT_NULL.
  const bool with_phdr = aux.phdr.value() != 0;
  const bool with_random = !aux.random.empty();
  const uint64_t aux_entries = 3 + (with_phdr ? 3 : 0) + (with_random ? 1 : 0);

  // Distances below top. kArgMax bounds argc + envc, so nothing here wraps.
  const uint64_t info = strings + (with_random ? kRandomBytes : 0);
  const uint64_t vectors =
      sizeof(uint64_t) * (1 + (argv.size() + 1) + (envp.size() + 1)) + 2 * sizeof(uint64_t) * aux_entries;
  const uint64_t size = align_up(info + vectors, 16);
  if (size > buffer.size()) return posix::fail(Errno::ArgListTooLong);

  // Everything is checked; from here on nothing fails.
  for (uint8_t& byte : buffer) byte = 0;
  StackWriter out(buffer, top);
  InitialStack stack;
  stack.sp = top - size;
  stack.size = size;
  stack.argv = stack.sp + sizeof(uint64_t);
  stack.envp = stack.argv + sizeof(uint64_t) * (argv.size() + 1);
  stack.auxv = stack.envp + sizeof(uint64_t) * (envp.size() + 1);

  out.put64(stack.sp, argv.size());
  VirtAddr text = top - strings;
  for (size_t i = 0; i < argv.size(); ++i) {
    out.put64(stack.argv + sizeof(uint64_t) * i, text.value());
    text = out.put_string(text, argv[i]);
  }
  for (size_t i = 0; i < envp.size(); ++i) {
    out.put64(stack.envp + sizeof(uint64_t) * i, text.value());
    text = out.put_string(text, envp[i]);
  }
  // The NULLs that end argv[] and envp[] are already zero.

  VirtAddr entry = stack.auxv;
  auto put_aux = [&](AuxType type, uint64_t value) {
    out.put64(entry, static_cast<uint64_t>(type));
    out.put64(entry + sizeof(uint64_t), value);
    entry += 2 * sizeof(uint64_t);
  };
  put_aux(AuxType::PageSize, kPageSize);
  put_aux(AuxType::Entry, aux.entry.value());
  if (with_phdr) {
    put_aux(AuxType::Phdr, aux.phdr.value());
    put_aux(AuxType::Phent, aux.phent);
    put_aux(AuxType::Phnum, aux.phnum);
  }
  if (with_random) {
    const VirtAddr random = top - info;
    out.put_bytes(random, aux.random);
    put_aux(AuxType::Random, random.value());
  }
  put_aux(AuxType::Null, 0);
  return stack;
}

}  // namespace procmgr
