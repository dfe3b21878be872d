// Reading a cpio "newc" archive in place. Each entry is a 110-byte header of
// ASCII text (the magic "070701", then thirteen fields of eight hex digits:
// ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
// rdevmajor, rdevminor, namesize, check), the name with its NUL (namesize
// counts it), padding to a multiple of four bytes from the start of the
// entry, the file's data, and padding to four again. An entry named
// "TRAILER!!!" ends the archive; what follows it (cpio pads to 512-byte
// blocks) is not read.
//
// Every entry starts at a multiple of four from the start of the archive, so
// padding "from the start of the entry" is the same as padding the offset in
// the archive. decode() checks one entry completely (every digit, the
// name's NUL, the name, the data and both paddings inside the span) and
// gives the offset of the next; parse() runs it up to the trailer, so an
// archive it accepts is valid from end to end. The accessors decode again
// rather than keep an index: the archive is read a handful of times at boot,
// and an index would need memory the kernel does not have yet.
#include "cpio.h"

#include <cstring>

namespace kern::cpio {

namespace {

using namespace std::string_view_literals;

constexpr size_t kHeaderSize = 110;
constexpr std::string_view kMagic = "070701"sv;
constexpr std::string_view kTrailerName = "TRAILER!!!"sv;
constexpr size_t kFieldDigits = 8;
constexpr size_t kAlign = 4;

// The header fields in the order they are stored, after the magic.
enum class Field : size_t {
  Inode,
  Mode,
  Uid,
  Gid,
  LinkCount,
  ModificationTime,
  FileSize,
  DevMajor,
  DevMinor,
  RdevMajor,
  RdevMinor,
  NameSize,
  Check,
  Count,
};
static_assert(kMagic.size() + static_cast<size_t>(Field::Count) * kFieldDigits == kHeaderSize);

// One entry as stored: the name without its NUL and before any prefix is
// stripped, and the offset where the next entry starts.
struct Record {
  std::string_view raw_name;
  uint32_t mode = 0;
  std::span<const uint8_t> data;
  size_t next = 0;
};

std::optional<uint32_t> hex_digit(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return std::nullopt;
}

// Eight hex digits make at most 0xffffffff, so the value cannot overflow.
std::optional<uint32_t> field(const uint8_t* header, Field which) {
  const uint8_t* digits = header + kMagic.size() + static_cast<size_t>(which) * kFieldDigits;
  uint32_t value = 0;
  for (size_t i = 0; i < kFieldDigits; ++i) {
    std::optional<uint32_t> digit = hex_digit(digits[i]);
    if (!digit) return std::nullopt;
    value = value << 4 | *digit;
  }
  return value;
}

// `count` bytes starting at `offset` are inside `bytes`, without wrapping.
bool fits(std::span<const uint8_t> bytes, size_t offset, size_t count) {
  return offset <= bytes.size() && count <= bytes.size() - offset;
}

// The first multiple of four at or after `offset`, if the span reaches it:
// padding must be inside the archive too.
std::optional<size_t> padded(std::span<const uint8_t> bytes, size_t offset) {
  size_t padding = (kAlign - offset % kAlign) % kAlign;
  if (!fits(bytes, offset, padding)) return std::nullopt;
  return offset + padding;
}

// Decodes and checks the entry at `offset`, a multiple of four.
// Errors: Malformed.
Result<Record> decode(std::span<const uint8_t> bytes, size_t offset) {
  if (!fits(bytes, offset, kHeaderSize)) return fail(Error::Malformed);
  const uint8_t* header = bytes.data() + offset;
  if (std::memcmp(header, kMagic.data(), kMagic.size()) != 0) return fail(Error::Malformed);
  // Every field is checked, the unused ones too: a bad digit anywhere means
  // the archive is not what it claims to be.
  uint32_t values[static_cast<size_t>(Field::Count)];
  for (size_t i = 0; i < static_cast<size_t>(Field::Count); ++i) {
    std::optional<uint32_t> value = field(header, static_cast<Field>(i));
    if (!value) return fail(Error::Malformed);
    values[i] = *value;
  }
  auto value = [&values](Field f) { return values[static_cast<size_t>(f)]; };

  size_t name_offset = offset + kHeaderSize;
  size_t name_size = value(Field::NameSize);
  if (name_size == 0 || !fits(bytes, name_offset, name_size)) return fail(Error::Malformed);
  std::string_view name(reinterpret_cast<const char*>(bytes.data() + name_offset), name_size - 1);
  // The NUL must end the name, and only there: a name with an embedded NUL
  // would compare differently from what a C string reader sees.
  if (bytes[name_offset + name_size - 1] != 0 || name.find('\0') != std::string_view::npos) {
    return fail(Error::Malformed);
  }
  std::optional<size_t> data_offset = padded(bytes, name_offset + name_size);
  if (!data_offset) return fail(Error::Malformed);

  size_t data_size = value(Field::FileSize);
  if (!fits(bytes, *data_offset, data_size)) return fail(Error::Malformed);
  std::optional<size_t> next = padded(bytes, *data_offset + data_size);
  if (!next) return fail(Error::Malformed);
  return Record{
      .raw_name = name,
      .mode = value(Field::Mode),
      .data = bytes.subspan(*data_offset, data_size),
      .next = *next,
  };
}

// Names are compared without a leading "./" (find . | cpio) or "/". All
// of them go, not only the first, so that stripping twice changes nothing
// and find(entry.name) finds a name as entry() reports it.
std::string_view strip_prefix(std::string_view name) {
  for (;;) {
    if (name.starts_with("./"sv)) {
      name.remove_prefix(2);
    } else if (name.starts_with("/"sv)) {
      name.remove_prefix(1);
    } else {
      return name;
    }
  }
}

Entry to_entry(const Record& record) {
  return Entry{.name = strip_prefix(record.raw_name), .mode = record.mode, .data = record.data};
}

}  // namespace

// Errors: Malformed for any bad entry or a missing trailer. Each entry is at
// least 112 bytes long, so the walk ends.
Result<Archive> Archive::parse(std::span<const uint8_t> bytes) {
  Archive archive;
  archive.m_bytes = bytes;
  size_t offset = 0;
  for (;;) {
    Record record = TRY(decode(bytes, offset));
    if (record.raw_name == kTrailerName) break;
    ++archive.m_count;
    offset = record.next;
  }
  return archive;
}

// Errors: RangeError for index >= count(). parse() has checked every entry
// before the trailer, so decoding them again cannot fail.
Result<Entry> Archive::entry(size_t index) const {
  if (index >= m_count) return fail(Error::RangeError);
  size_t offset = 0;
  for (size_t i = 0;; ++i) {
    Record record = TRY(decode(m_bytes, offset));
    if (i == index) return to_entry(record);
    offset = record.next;
  }
}

// The first regular file with that name; directories, symbolic links and
// device nodes of the same name are passed over.
std::optional<Entry> Archive::find(std::string_view name) const {
  std::string_view wanted = strip_prefix(name);
  size_t offset = 0;
  for (size_t i = 0; i < m_count; ++i) {
    Result<Record> record = decode(m_bytes, offset);
    if (!record) return std::nullopt;
    Entry entry = to_entry(*record);
    if (entry.is_regular() && entry.name == wanted) return entry;
    offset = record->next;
  }
  return std::nullopt;
}

}  // namespace kern::cpio
