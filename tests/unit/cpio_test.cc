// Tests for the boot-archive reader (microkernel/lib/cpio.h). Archives come
// from two places: CpioWriter below, which writes newc entries the way GNU
// cpio does and can also write what no correct writer would, and the system's
// own `cpio -o -H newc` run on a directory the test makes (skipped when cpio
// is not installed). Archives live in vectors of exactly their size, so
// under AddressSanitizer a read past the end is caught; the sweeps (every
// truncation, every single-byte corruption) check that whatever parse()
// accepts can be read through entry() and find() without leaving the span.
#include "cpio.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace kern::cpio {
namespace {

constexpr uint32_t kRegular = 0100644, kDirectory = 0040755, kSymlink = 0120777;
constexpr size_t kHeaderSize = 110;

std::string as_string(std::span<const uint8_t> bytes) { return std::string(bytes.begin(), bytes.end()); }

// Writes newc entries. The header fields other than mode, filesize and
// namesize get values like cpio's (an inode counter, nlink 1 or 2); tests
// that need a field to be wrong change the bytes afterwards, at
// field_offset().
class CpioWriter {
 public:
  CpioWriter& file(const std::string& name, const std::string& data) { return add(name, kRegular, data); }
  CpioWriter& directory(const std::string& name) { return add(name, kDirectory, ""); }
  CpioWriter& symlink(const std::string& name, const std::string& target) { return add(name, kSymlink, target); }
  CpioWriter& trailer() {
    m_trailer_offset = m_out.size();
    return add("TRAILER!!!", 0, "", /*inode=*/0);
  }

  // An entry with any name (NULs included) and any namesize; the name bytes
  // are written as given, followed by padding.
  CpioWriter& raw(const std::string& name_bytes, uint32_t name_size, uint32_t mode, const std::string& data) {
    m_entry_offsets.push_back(m_out.size());
    char header[kHeaderSize + 1];
    std::snprintf(header, sizeof(header), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", m_inode++,
                  mode, 0u, 0u, mode == kDirectory ? 2u : 1u, 0x65000000u, static_cast<uint32_t>(data.size()), 0u,
                  0u, 0u, 0u, name_size, 0u);
    m_out.insert(m_out.end(), header, header + kHeaderSize);
    m_out.insert(m_out.end(), name_bytes.begin(), name_bytes.end());
    pad();
    m_out.insert(m_out.end(), data.begin(), data.end());
    pad();
    return *this;
  }

  std::vector<uint8_t> bytes() const { return m_out; }
  // Where entry `index` starts, and where its header field `field` (0 = ino,
  // 1 = mode, ... 11 = namesize, 12 = check) starts.
  size_t entry_offset(size_t index) const { return m_entry_offsets.at(index); }
  static size_t field_offset(size_t entry, size_t field) { return entry + 6 + 8 * field; }
  size_t trailer_offset() const { return m_trailer_offset; }
  // The end of the trailer including its name padding: the shortest prefix
  // that is still a valid archive.
  size_t trailer_end() const { return m_trailer_offset + 124; }

 private:
  CpioWriter& add(const std::string& name, uint32_t mode, const std::string& data, std::optional<uint32_t> inode = {}) {
    if (inode) m_inode = *inode;
    return raw(name + '\0', static_cast<uint32_t>(name.size() + 1), mode, data);
  }
  void pad() {
    while (m_out.size() % 4 != 0) m_out.push_back(0);
  }

  std::vector<uint8_t> m_out;
  std::vector<size_t> m_entry_offsets;
  size_t m_trailer_offset = 0;
  uint32_t m_inode = 0x100;
};

// A small root file system as `find . | cpio -o -H newc` lists it.
CpioWriter sample() {
  CpioWriter w;
  w.directory(".").directory("./bin").file("./bin/init", std::string("\x7f" "ELF init", 9));
  w.file("./etc/motd", "hello\n").symlink("./bin/sh", "init").file("./empty", "");
  w.file("./a", "1").file("./ab", "12").file("./abc", "123").file("./abcd", "1234");
  return w.trailer();
}

// Calls every accessor on every entry and reads every data byte. find() must
// find every regular file under the name entry() gives it.
void walk_everything(const Archive& archive) {
  volatile uint8_t sink = 0;  // the reads must happen for ASan to check them
  for (size_t i = 0; i < archive.count(); ++i) {
    auto entry = archive.entry(i);
    ASSERT_TRUE(entry) << "entry " << i;
    for (char c : entry->name) sink = sink ^ static_cast<uint8_t>(c);
    for (uint8_t byte : entry->data) sink = sink ^ byte;
    if (entry->is_regular()) {
      auto found = archive.find(entry->name);
      ASSERT_TRUE(found) << entry->name;
      EXPECT_EQ(found->name, entry->name);
    }
  }
  EXPECT_FALSE(archive.entry(archive.count()));
  (void)archive.find("bin/init");
}

Error parse_error(const std::vector<uint8_t>& bytes) {
  auto archive = Archive::parse(bytes);
  EXPECT_FALSE(archive.has_value());
  return archive ? Error{} : archive.error();
}

TEST(Cpio, ParsesSample) {
  std::vector<uint8_t> bytes = sample().bytes();
  auto archive = Archive::parse(bytes);
  ASSERT_TRUE(archive) << error_name(archive.error());
  ASSERT_EQ(archive->count(), 10u);
  std::vector<std::string> names;
  for (size_t i = 0; i < archive->count(); ++i) names.emplace_back(archive->entry(i)->name);
  EXPECT_EQ(names, (std::vector<std::string>{".", "bin", "bin/init", "etc/motd", "bin/sh", "empty", "a", "ab",
                                              "abc", "abcd"}));
  auto dir = archive->entry(1);
  EXPECT_TRUE(dir->is_directory());
  EXPECT_FALSE(dir->is_regular());
  EXPECT_EQ(dir->mode, kDirectory);
  auto link = archive->entry(4);
  EXPECT_EQ(link->mode, kSymlink);
  EXPECT_EQ(as_string(link->data), "init");
  auto init = archive->entry(2);
  EXPECT_TRUE(init->is_regular());
  EXPECT_EQ(as_string(init->data), std::string("\x7f" "ELF init", 9));
  walk_everything(*archive);
}

TEST(Cpio, DataOfEveryLengthAndPadding) {
  // Names of 1 to 8 bytes and data of 0 to 8 bytes cover every padding of
  // both the name and the data.
  CpioWriter w;
  std::vector<std::pair<std::string, std::string>> files;
  for (size_t name_length = 1; name_length <= 8; ++name_length) {
    for (size_t data_length = 0; data_length <= 8; ++data_length) {
      std::string name = std::string(name_length - 1, 'n') + std::to_string(data_length);
      std::string data;
      for (size_t i = 0; i < data_length; ++i) data.push_back(static_cast<char>('A' + i + name_length));
      w.file(name, data);
      files.emplace_back(name, data);
    }
  }
  std::vector<uint8_t> bytes = w.trailer().bytes();
  auto archive = Archive::parse(bytes);
  ASSERT_TRUE(archive) << error_name(archive.error());
  ASSERT_EQ(archive->count(), files.size());
  for (const auto& [name, data] : files) {
    auto found = archive->find(name);
    ASSERT_TRUE(found) << name;
    EXPECT_EQ(as_string(found->data), data) << name;
  }
}

TEST(Cpio, FindStripsLeadingSlashAndDot) {
  CpioWriter w;
  w.file("./bin/init", "init").file("/etc/motd", "motd").file("lib/x", "x").file(".//./twice", "2");
  std::vector<uint8_t> bytes = w.trailer().bytes();
  auto archive = Archive::parse(bytes);
  ASSERT_TRUE(archive);
  for (const char* query : {"bin/init", "/bin/init", "./bin/init"}) {
    auto found = archive->find(query);
    ASSERT_TRUE(found) << query;
    EXPECT_EQ(as_string(found->data), "init");
    EXPECT_EQ(found->name, "bin/init");
  }
  for (const char* query : {"etc/motd", "/etc/motd", "./etc/motd"}) EXPECT_TRUE(archive->find(query)) << query;
  for (const char* query : {"lib/x", "/lib/x", "./lib/x", "twice", "/./twice"}) {
    EXPECT_TRUE(archive->find(query)) << query;
  }
  for (const char* query : {"bin", "init", "bin/init/", "bin/ini", "bin/init2", "", "/", "lib", ".bin/init"}) {
    EXPECT_FALSE(archive->find(query)) << query;
  }
}

TEST(Cpio, FindSkipsEverythingButRegularFiles) {
  CpioWriter w;
  w.directory("bin").symlink("sh", "busybox").file("bin", "not the directory");
  std::vector<uint8_t> bytes = w.trailer().bytes();
  auto archive = Archive::parse(bytes);
  ASSERT_TRUE(archive);
  EXPECT_FALSE(archive->find("sh"));
  auto bin = archive->find("bin");
  ASSERT_TRUE(bin);
  EXPECT_EQ(as_string(bin->data), "not the directory");
}

TEST(Cpio, FirstOfTwoSameNamesWins) {
  CpioWriter w;
  w.file("x", "first").file("./x", "second");
  std::vector<uint8_t> bytes = w.trailer().bytes();
  auto archive = Archive::parse(bytes);
  ASSERT_TRUE(archive);
  EXPECT_EQ(as_string(archive->find("x")->data), "first");
}

TEST(Cpio, EmptyArchive) {
  std::vector<uint8_t> bytes = CpioWriter().trailer().bytes();
  EXPECT_EQ(bytes.size(), 124u);
  auto archive = Archive::parse(bytes);
  ASSERT_TRUE(archive);
  EXPECT_EQ(archive->count(), 0u);
  EXPECT_FALSE(archive->find("anything"));
  EXPECT_EQ(archive->entry(0).error(), Error::RangeError);
}

TEST(Cpio, EntryOutOfRange) {
  std::vector<uint8_t> bytes = sample().bytes();
  auto archive = Archive::parse(bytes);
  ASSERT_TRUE(archive);
  EXPECT_EQ(archive->entry(archive->count()).error(), Error::RangeError);
  EXPECT_EQ(archive->entry(~size_t{0}).error(), Error::RangeError);
  Archive empty;
  EXPECT_EQ(empty.count(), 0u);
  EXPECT_FALSE(empty.find("x"));
}

TEST(Cpio, AcceptsBothCasesOfHex) {
  CpioWriter w;
  w.file("f", std::string(0xab, 'z'));
  std::vector<uint8_t> bytes = w.trailer().bytes();
  size_t size_field = CpioWriter::field_offset(w.entry_offset(0), 6);
  ASSERT_EQ(std::string(bytes.begin() + size_field, bytes.begin() + size_field + 8), "000000AB");
  bytes[size_field + 6] = 'a';
  bytes[size_field + 7] = 'b';
  auto archive = Archive::parse(bytes);
  ASSERT_TRUE(archive);
  EXPECT_EQ(archive->find("f")->data.size(), 0xabu);
}

TEST(Cpio, IgnoresWhatFollowsTheTrailer) {
  std::vector<uint8_t> bytes = sample().bytes();
  bytes.resize((bytes.size() + 511) / 512 * 512);  // cpio's block padding
  bytes.insert(bytes.end(), {'g', 'a', 'r', 'b', 'a', 'g', 'e'});
  auto archive = Archive::parse(bytes);
  ASSERT_TRUE(archive);
  EXPECT_EQ(archive->count(), 10u);
}

TEST(Cpio, RejectsMissingTrailer) {
  EXPECT_EQ(parse_error({}), Error::Malformed);
  CpioWriter w;
  w.file("a", "1").file("b", "2");
  EXPECT_EQ(parse_error(w.bytes()), Error::Malformed);
  // Names that are nearly the trailer's are ordinary entries.
  for (const char* name : {"TRAILER!!", "TRAILER!!!!", "trailer!!!", "./TRAILER!!!"}) {
    CpioWriter near;
    near.file(name, "");
    EXPECT_EQ(parse_error(near.bytes()), Error::Malformed) << name;
  }
  CpioWriter trailer_too_short;
  trailer_too_short.raw(std::string("TRAILER!!!\0", 11), 10, 0, "");
  EXPECT_EQ(parse_error(trailer_too_short.bytes()), Error::Malformed);
}

TEST(Cpio, RejectsBadMagic) {
  for (size_t i = 0; i < 6; ++i) {
    CpioWriter w = sample();
    std::vector<uint8_t> bytes = w.bytes();
    bytes[w.entry_offset(2) + i] = '9';
    EXPECT_EQ(parse_error(bytes), Error::Malformed) << "byte " << i;
  }
  // The "crc" variant and the old ASCII format are not newc.
  for (const char* magic : {"070702", "070707"}) {
    std::vector<uint8_t> bytes = sample().bytes();
    std::copy(magic, magic + 6, bytes.begin());
    EXPECT_EQ(parse_error(bytes), Error::Malformed) << magic;
  }
}

TEST(Cpio, RejectsBadHexDigitInEveryField) {
  for (size_t field = 0; field < 13; ++field) {
    for (char bad : {'g', 'G', ' ', 'x', '\0', '-'}) {
      CpioWriter w = sample();
      std::vector<uint8_t> bytes = w.bytes();
      bytes[CpioWriter::field_offset(w.entry_offset(3), field) + field % 8] = static_cast<uint8_t>(bad);
      EXPECT_EQ(parse_error(bytes), Error::Malformed) << "field " << field << " digit " << int{bad};
    }
  }
}

TEST(Cpio, RejectsBadNames) {
  CpioWriter zero;
  zero.raw("", 0, kRegular, "x").trailer();
  EXPECT_EQ(parse_error(zero.bytes()), Error::Malformed);
  // namesize one short: the last byte it covers is 'e', not NUL.
  CpioWriter unterminated;
  unterminated.raw(std::string("name\0", 5), 4, kRegular, "x").trailer();
  EXPECT_EQ(parse_error(unterminated.bytes()), Error::Malformed);
  CpioWriter embedded;
  embedded.raw(std::string("na\0me\0", 6), 6, kRegular, "x").trailer();
  EXPECT_EQ(parse_error(embedded.bytes()), Error::Malformed);
  // An empty name (just the NUL) is well formed.
  CpioWriter empty_name;
  empty_name.raw(std::string(1, '\0'), 1, kRegular, "x").trailer();
  auto bytes = empty_name.bytes();
  auto archive = Archive::parse(bytes);
  ASSERT_TRUE(archive);
  EXPECT_EQ(archive->entry(0)->name, "");
}

TEST(Cpio, RejectsSizesPastTheEnd) {
  CpioWriter w;
  w.file("f", "data").trailer();
  std::vector<uint8_t> bytes = w.bytes();
  auto set_field = [&bytes, &w](size_t field, const char* digits) {
    std::copy(digits, digits + 8, bytes.begin() + CpioWriter::field_offset(w.entry_offset(0), field));
  };
  set_field(11, "FFFFFFFF");  // namesize
  EXPECT_EQ(parse_error(bytes), Error::Malformed);
  bytes = w.bytes();
  set_field(6, "FFFFFFFF");  // filesize
  EXPECT_EQ(parse_error(bytes), Error::Malformed);
  // Data reaching exactly the end of the archive, its padding beyond it.
  CpioWriter last;
  last.file("f", "abc");
  bytes = last.bytes();
  bytes.resize(bytes.size() - 1);
  EXPECT_EQ(parse_error(bytes), Error::Malformed);
}

TEST(Cpio, TrailerNamePaddingMustBeInside) {
  std::vector<uint8_t> bytes = CpioWriter().trailer().bytes();
  bytes.resize(kHeaderSize + 11);  // "TRAILER!!!\0" without its padding
  EXPECT_EQ(parse_error(bytes), Error::Malformed);
}

// Only a prefix that still holds the trailer and its padding is an archive.
TEST(Cpio, EveryTruncation) {
  CpioWriter w = sample();
  std::vector<uint8_t> full = w.bytes();
  full.resize(full.size() + 16);  // as if block padding followed
  for (size_t length = 0; length <= full.size(); ++length) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + length);
    auto archive = Archive::parse(cut);
    EXPECT_EQ(archive.has_value(), length >= w.trailer_end()) << "length " << length;
    if (archive) walk_everything(*archive);
  }
}

TEST(Cpio, EverySingleByteCorruption) {
  std::vector<uint8_t> original = sample().bytes();
  size_t accepted = 0;
  for (size_t i = 0; i < original.size(); ++i) {
    for (uint8_t value : {uint8_t{'0'}, uint8_t{'F'}, uint8_t{'f'}, uint8_t{0}, uint8_t{0xff}, uint8_t{'/'},
                          static_cast<uint8_t>(original[i] ^ 1)}) {
      std::vector<uint8_t> bytes = original;
      bytes[i] = value;
      auto archive = Archive::parse(bytes);
      if (!archive) continue;
      ++accepted;
      walk_everything(*archive);
    }
  }
  // Data bytes, modes and most digit changes keep the archive valid.
  EXPECT_GT(accepted, 0u);
}

// The system's cpio on a directory tree made here.
TEST(Cpio, ReadsArchiveFromSystemCpio) {
  if (std::system("command -v cpio >/dev/null 2>&1") != 0) GTEST_SKIP() << "cpio is not installed";
  char pattern[] = "/tmp/cpio_test.XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  std::filesystem::path dir(pattern);
  std::filesystem::path root = dir / "root";
  std::filesystem::create_directories(root / "bin");
  std::filesystem::create_directories(root / "etc" / "empty.d");
  auto write = [](const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  };
  std::string init_bytes;
  for (int i = 0; i < 5000; ++i) init_bytes.push_back(static_cast<char>(i * 31));
  write(root / "bin" / "init", init_bytes);
  write(root / "etc" / "motd", "hello from cpio\n");
  write(root / "odd", "abc");
  write(root / "zero", "");
  std::filesystem::create_symlink("init", root / "bin" / "sh");
  std::filesystem::path archive_path = dir / "boot.cpio";
  std::string command = "cd '" + root.string() + "' && find . | LC_ALL=C sort | cpio -o -H newc --quiet > '" +
                        archive_path.string() + "'";
  int status = std::system(command.c_str());
  std::ifstream in(archive_path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(dir);
  ASSERT_EQ(status, 0) << command;
  EXPECT_EQ(bytes.size() % 512, 0u);

  auto archive = Archive::parse(bytes);
  ASSERT_TRUE(archive) << error_name(archive.error());
  // ., bin, bin/init, bin/sh, etc, etc/empty.d, etc/motd, odd, zero
  EXPECT_EQ(archive->count(), 9u);
  auto init = archive->find("/bin/init");
  ASSERT_TRUE(init);
  EXPECT_EQ(as_string(init->data), init_bytes);
  EXPECT_EQ(as_string(archive->find("etc/motd")->data), "hello from cpio\n");
  EXPECT_EQ(as_string(archive->find("./odd")->data), "abc");
  EXPECT_TRUE(archive->find("zero")->data.empty());
  EXPECT_FALSE(archive->find("bin/sh"));
  EXPECT_FALSE(archive->find("etc/empty.d"));
  bool saw_link = false;
  for (size_t i = 0; i < archive->count(); ++i) {
    auto entry = archive->entry(i);
    ASSERT_TRUE(entry);
    if (entry->name == "bin/sh") {
      saw_link = true;
      EXPECT_EQ(entry->mode & 0170000, 0120000u);
      EXPECT_EQ(as_string(entry->data), "init");
    }
    if (entry->name == "etc/empty.d") {
      EXPECT_TRUE(entry->is_directory());
    }
  }
  EXPECT_TRUE(saw_link);
  walk_everything(*archive);

  // The real archive through the sweeps as well.
  for (size_t length = 0; length < bytes.size(); length += 1) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + length);
    auto partial = Archive::parse(cut);
    if (partial) walk_everything(*partial);
  }
}

}  // namespace
}  // namespace kern::cpio
