// Host tests for the vfs descriptor layer (servers/vfs/files.*) and pipes
// (servers/vfs/pipe.*), over a fake page source that counts outstanding
// pages and can be run dry: every test ends by checking that what it built
// gave every page back, and the out-of-memory tests that a failure changed
// nothing.
#include <gtest/gtest.h>

#include "fake_page_source.h"
#include "posix_matchers.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "vfs/files.h"

namespace vfs {
namespace {

using FakePages = servers::testing_support::FakePageSource;


std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

std::string read_string(Files& files, FdTable& t, int fd, size_t max = 256) {
  std::string out(max, '\0');
  auto n = files.read(t, fd, std::as_writable_bytes(std::span(out.data(), out.size())));
  if (!n) return "<" + std::string(errno_name(n.error())) + ">";
  out.resize(*n);
  return out;
}

using posix::testing_support::fails_with_errno;

// ---------------- Pipes ----------------

class PipeTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_EQ(pages.outstanding(), 0u); }
  FakePages pages;
  Heap heap{pages};
};

TEST_F(PipeTest, EmptyWithWriterWouldBlockThenEof) {
  Pipe* p = *Pipe::create(heap);
  std::byte buf[8];
  EXPECT_FALSE(p->read_ready());
  EXPECT_TRUE(fails_with_errno(p->read(buf), Errno::Again));
  p->drop_writer();
  EXPECT_TRUE(p->read_ready());
  EXPECT_EQ(*p->read(buf), 0u);
  p->drop_reader();
}

TEST_F(PipeTest, DataBeforeEof) {
  Pipe* p = *Pipe::create(heap);
  ASSERT_EQ(*p->write(bytes("hello")), 5u);
  p->drop_writer();
  char buf[3];
  auto out = std::as_writable_bytes(std::span(buf));
  EXPECT_EQ(*p->read(out), 3u);
  EXPECT_EQ(std::string(buf, 3), "hel");
  EXPECT_EQ(*p->read(out), 2u);
  EXPECT_EQ(std::string(buf, 2), "lo");
  EXPECT_EQ(*p->read(out), 0u);
  p->drop_reader();
}

TEST_F(PipeTest, PeekLeavesBytesUntilConsumed) {
  Pipe* p = *Pipe::create(heap);
  ASSERT_EQ(*p->write(bytes("abcdef")), 6u);
  char buf[4];
  auto out = std::as_writable_bytes(std::span(buf));
  EXPECT_EQ(p->peek(out), 4u);
  EXPECT_EQ(std::string(buf, 4), "abcd");
  EXPECT_EQ(p->buffered(), 6u);
  p->consume(2);
  EXPECT_EQ(p->peek(out), 4u);
  EXPECT_EQ(std::string(buf, 4), "cdef");
  p->consume(100);  // no more than there is
  EXPECT_EQ(p->buffered(), 0u);
  EXPECT_EQ(p->peek(out), 0u);
  p->drop_reader();
  p->drop_writer();
}

TEST_F(PipeTest, NoReadersIsBrokenPipe) {
  Pipe* p = *Pipe::create(heap);
  p->drop_reader();
  EXPECT_TRUE(p->write_ready(10));  // ready: the answer is no longer Again
  EXPECT_TRUE(fails_with_errno(p->write(bytes("x")), Errno::BrokenPipe));
  EXPECT_TRUE(fails_with_errno(p->write({}), Errno::BrokenPipe));
  p->drop_writer();
}

TEST_F(PipeTest, FullWouldBlockAndLargeWritesArePartial) {
  Pipe* p = *Pipe::create(heap);
  std::string big(kPipeCapacity + 1000, 'a');
  EXPECT_EQ(*p->write(bytes(big)), kPipeCapacity);  // partial
  EXPECT_FALSE(p->write_ready(1));
  EXPECT_TRUE(fails_with_errno(p->write(bytes("b")), Errno::Again));
  std::byte buf[100];
  ASSERT_EQ(*p->read(buf), 100u);
  // A small write is atomic: 200 bytes do not fit in 100, so nothing goes in.
  std::string small(200, 'c');
  EXPECT_FALSE(p->write_ready(small.size()));
  EXPECT_TRUE(fails_with_errno(p->write(bytes(small)), Errno::Again));
  // A large one takes what fits.
  EXPECT_TRUE(p->write_ready(1000));
  EXPECT_EQ(*p->write(bytes(std::string(1000, 'd'))), 100u);
  EXPECT_EQ(p->buffered(), kPipeCapacity);
  p->drop_reader();
  p->drop_writer();
}

TEST_F(PipeTest, RingWrapsAround) {
  Pipe* p = *Pipe::create(heap);
  std::mt19937 rng(7);
  std::string expected_stream, got_stream;
  // Odd sizes make the head and tail cross the end of the page many times.
  for (int round = 0; round < 200; ++round) {
    std::string chunk(1 + rng() % 3000, '\0');
    for (char& c : chunk) c = static_cast<char>('a' + rng() % 26);
    auto n = p->write(bytes(chunk));
    if (n) expected_stream += chunk.substr(0, *n);
    std::string buf(1 + rng() % 3000, '\0');
    auto m = p->read(std::as_writable_bytes(std::span(buf.data(), buf.size())));
    if (m) got_stream += buf.substr(0, *m);
  }
  p->drop_writer();
  std::string rest(kPipeCapacity, '\0');
  auto m = p->read(std::as_writable_bytes(std::span(rest.data(), rest.size())));
  got_stream += rest.substr(0, *m);
  EXPECT_EQ(got_stream, expected_stream);
  p->drop_reader();
}

TEST_F(PipeTest, CreateOutOfMemoryLeavesNothing) {
  for (size_t budget = 0; budget < 2; ++budget) {
    pages.set_limit(budget);
    EXPECT_TRUE(fails_with_errno(Pipe::create(heap), Errno::NoMemory));
    EXPECT_EQ(pages.outstanding(), 0u);
  }
}

// ---------------- Descriptor tables ----------------

class FakeConsole final : public Device {
 public:
  Result<size_t> read(std::span<std::byte> buf) override {
    if (input.empty()) return fail(Errno::Again);
    size_t n = std::min(buf.size(), input.size());
    std::memcpy(buf.data(), input.data(), n);
    input.erase(0, n);
    return n;
  }
  Result<size_t> write(std::span<const std::byte> data) override {
    output.append(reinterpret_cast<const char*>(data.data()), data.size());
    return data.size();
  }
  bool read_ready() const override { return !input.empty(); }
  std::string input, output;
};

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs.init("/bin", rom));
    baseline = pages.outstanding();
    table = *files.create_table(fs.root());
  }
  void TearDown() override {
    if (table) files.release_table(table);
    EXPECT_EQ(files.descriptions(), 0u);
    for (const char* name : {"/a", "/b", "/c"}) (void)fs.unlink(fs.root(), name);
    EXPECT_EQ(pages.outstanding(), baseline);
    fs.clear();
    EXPECT_EQ(pages.outstanding(), 0u);
  }
  int open(std::string_view path, uint32_t flags) {
    auto fd = files.open(*table, path, flags);
    EXPECT_TRUE(fd) << path;
    return fd.value_or(-1);
  }

  static constexpr std::string_view kEcho = "ECHO-PROGRAM";
  RomFile rom[1] = {{"echo", bytes(kEcho)}};
  FakePages pages;
  Heap heap{pages};
  MemFs fs{heap};
  Files files{heap, fs, 16};
  FdTable* table = nullptr;
  size_t baseline = 0;
  FakeConsole console;
};

TEST_F(FilesTest, OpenGivesLowestFreeDescriptor) {
  EXPECT_EQ(open("/a", kOpenCreate | kOpenReadWrite), 0);
  EXPECT_EQ(open("/a", kOpenReadOnly), 1);
  EXPECT_EQ(open("/a", kOpenReadOnly), 2);
  ASSERT_TRUE(files.close(*table, 1));
  EXPECT_EQ(open("/a", kOpenReadOnly), 1);
  EXPECT_EQ(files.descriptions(), 3u);
}

TEST_F(FilesTest, BadDescriptors) {
  std::byte buf[4];
  EXPECT_TRUE(fails_with_errno(files.close(*table, 0), Errno::BadFd));
  EXPECT_TRUE(fails_with_errno(files.close(*table, -1), Errno::BadFd));
  EXPECT_TRUE(fails_with_errno(files.close(*table, 1000), Errno::BadFd));
  EXPECT_TRUE(fails_with_errno(files.read(*table, 3, buf), Errno::BadFd));
  EXPECT_TRUE(fails_with_errno(files.write(*table, 3, bytes("x")), Errno::BadFd));
  EXPECT_TRUE(fails_with_errno(files.dup(*table, 3), Errno::BadFd));
  EXPECT_TRUE(fails_with_errno(files.dup2(*table, 3, 4), Errno::BadFd));
  EXPECT_TRUE(fails_with_errno(files.lseek(*table, 3, 0, 0), Errno::BadFd));
  EXPECT_TRUE(fails_with_errno(files.fstat(*table, 3), Errno::BadFd));
  int fd = open("/a", kOpenCreate | kOpenReadWrite);
  ASSERT_TRUE(files.close(*table, fd));
  EXPECT_TRUE(fails_with_errno(files.close(*table, fd), Errno::BadFd));
}

TEST_F(FilesTest, AccessModeIsChecked) {
  int ro = open("/a", kOpenCreate | kOpenReadOnly);
  int wo = open("/a", kOpenWriteOnly);
  std::byte buf[4];
  EXPECT_TRUE(fails_with_errno(files.write(*table, ro, bytes("x")), Errno::BadFd));
  EXPECT_TRUE(fails_with_errno(files.read(*table, wo, buf), Errno::BadFd));
  EXPECT_EQ(*files.write(*table, wo, bytes("xy")), 2u);
  EXPECT_EQ(read_string(files, *table, ro), "xy");
}

TEST_F(FilesTest, OpenErrorsComeFromTheFileSystem) {
  EXPECT_TRUE(fails_with_errno(files.open(*table, "/missing", kOpenReadOnly), Errno::NoEntry));
  EXPECT_TRUE(fails_with_errno(files.open(*table, "/bin/echo", kOpenWriteOnly), Errno::ReadOnlyFs));
  EXPECT_TRUE(fails_with_errno(files.open(*table, "/bin", kOpenReadWrite), Errno::IsDir));
  EXPECT_TRUE(fails_with_errno(files.open(*table, "/a", kOpenCreate | 0x40000000), Errno::Invalid));
  EXPECT_EQ(files.descriptions(), 0u);
  int fd = open("/bin/echo", kOpenReadOnly);
  EXPECT_EQ(read_string(files, *table, fd), kEcho);
}

TEST_F(FilesTest, DupSharesTheOffset) {
  int fd = open("/a", kOpenCreate | kOpenReadWrite);
  ASSERT_TRUE(files.write(*table, fd, bytes("hello world")));
  int copy = *files.dup(*table, fd);
  EXPECT_EQ(copy, 1);
  EXPECT_EQ(*files.lseek(*table, fd, 6, 0), 6u);
  EXPECT_EQ(read_string(files, *table, copy), "world");
  ASSERT_TRUE(files.close(*table, fd));
  EXPECT_EQ(*files.lseek(*table, copy, 0, 1), 11u);
  EXPECT_EQ(files.descriptions(), 1u);
}

TEST_F(FilesTest, Dup2) {
  int a = open("/a", kOpenCreate | kOpenReadWrite);
  int b = open("/b", kOpenCreate | kOpenReadWrite);
  ASSERT_TRUE(files.write(*table, a, bytes("A")));
  // Same descriptor: nothing happens, even the offset stays.
  EXPECT_EQ(*files.dup2(*table, a, a), a);
  EXPECT_EQ(*files.lseek(*table, a, 0, 1), 1u);
  // Onto an open descriptor: it is closed first (b's description goes).
  EXPECT_EQ(*files.dup2(*table, a, b), b);
  EXPECT_EQ(files.descriptions(), 1u);
  EXPECT_EQ(*files.lseek(*table, b, 0, 1), 1u);
  // Far beyond the current table: it grows.
  EXPECT_EQ(*files.dup2(*table, a, 15), 15);
  EXPECT_TRUE(fails_with_errno(files.dup2(*table, a, 16), Errno::BadFd));
  EXPECT_TRUE(fails_with_errno(files.dup2(*table, a, -1), Errno::BadFd));
  EXPECT_EQ(*files.dup(*table, 15), 2);
}

TEST_F(FilesTest, TooManyFiles) {
  int fd = open("/a", kOpenCreate | kOpenReadWrite);
  for (int i = 1; i < 16; ++i) ASSERT_EQ(*files.dup(*table, fd), i);
  EXPECT_TRUE(fails_with_errno(files.dup(*table, fd), Errno::TooManyFiles));
  EXPECT_TRUE(fails_with_errno(files.open(*table, "/a", kOpenReadOnly), Errno::TooManyFiles));
  EXPECT_TRUE(fails_with_errno(files.pipe(*table), Errno::TooManyFiles));
  ASSERT_TRUE(files.close(*table, 7));
  EXPECT_TRUE(fails_with_errno(files.pipe(*table), Errno::TooManyFiles));
  EXPECT_EQ(*files.dup(*table, fd), 7);
}

TEST_F(FilesTest, AppendWritesAtTheEnd) {
  int w = open("/a", kOpenCreate | kOpenWriteOnly);
  ASSERT_TRUE(files.write(*table, w, bytes("12345")));
  int app = open("/a", kOpenWriteOnly | kOpenAppend);
  ASSERT_TRUE(files.lseek(*table, app, 0, 0));
  ASSERT_TRUE(files.write(*table, app, bytes("67")));
  EXPECT_EQ(*files.lseek(*table, app, 0, 1), 7u);
  EXPECT_EQ(fs.stat(*fs.lookup(fs.root(), "/a")).size, 7u);
  int trunc = open("/a", kOpenWriteOnly | kOpenTruncate);
  EXPECT_EQ((*files.fstat(*table, trunc)).size, 0u);
}

TEST_F(FilesTest, Lseek) {
  int fd = open("/a", kOpenCreate | kOpenReadWrite);
  ASSERT_TRUE(files.write(*table, fd, bytes("0123456789")));
  EXPECT_EQ(*files.lseek(*table, fd, 2, 0), 2u);
  EXPECT_EQ(*files.lseek(*table, fd, 3, 1), 5u);
  EXPECT_EQ(*files.lseek(*table, fd, -1, 2), 9u);
  EXPECT_EQ(read_string(files, *table, fd), "9");
  EXPECT_TRUE(fails_with_errno(files.lseek(*table, fd, -11, 2), Errno::Invalid));
  EXPECT_TRUE(fails_with_errno(files.lseek(*table, fd, 0, 3), Errno::Invalid));
  EXPECT_TRUE(fails_with_errno(files.lseek(*table, fd, INT64_MAX, 2), Errno::Invalid));
  EXPECT_EQ(*files.lseek(*table, fd, 9, 1), 19u);  // past the end is allowed
  EXPECT_EQ(read_string(files, *table, fd), "");
  ASSERT_TRUE(files.write(*table, fd, bytes("x")));
  EXPECT_EQ((*files.fstat(*table, fd)).size, 20u);
  auto ends = *files.pipe(*table);
  EXPECT_TRUE(fails_with_errno(files.lseek(*table, ends[0], 0, 0), Errno::IllegalSeek));
  EXPECT_TRUE(fails_with_errno(files.lseek(*table, ends[1], 0, 0), Errno::IllegalSeek));
  int con = *files.open_device(*table, console, kOpenReadWrite);
  EXPECT_TRUE(fails_with_errno(files.lseek(*table, con, 0, 0), Errno::IllegalSeek));
}

TEST_F(FilesTest, Fstat) {
  int fd = open("/a", kOpenCreate | kOpenReadWrite);
  ASSERT_TRUE(files.write(*table, fd, bytes("abc")));
  Stat st = *files.fstat(*table, fd);
  EXPECT_EQ(st.mode & kModeTypeMask, kModeRegular);
  EXPECT_EQ(st.size, 3u);
  EXPECT_EQ(st.links, 1u);
  EXPECT_EQ(st.inode, fs.stat(*fs.lookup(fs.root(), "a")).inode);
  auto ends = *files.pipe(*table);
  ASSERT_TRUE(files.write(*table, ends[1], bytes("zz")));
  EXPECT_EQ((*files.fstat(*table, ends[0])).mode & kModeTypeMask, kModeFifo);
  EXPECT_EQ((*files.fstat(*table, ends[0])).size, 2u);
  int con = *files.open_device(*table, console, kOpenWriteOnly);
  EXPECT_EQ((*files.fstat(*table, con)).mode & kModeTypeMask, kModeCharDevice);
  int dir = open("/bin", kOpenReadOnly | kOpenDirectory);
  EXPECT_EQ((*files.fstat(*table, dir)).mode & kModeTypeMask, kModeDirectory);
}

TEST_F(FilesTest, ConsoleDevice) {
  int in = *files.open_device(*table, console, kOpenReadOnly);
  int out = *files.open_device(*table, console, kOpenWriteOnly);
  EXPECT_TRUE(fails_with_errno(files.open_device(*table, console, kOpenCreate), Errno::Invalid));
  ASSERT_TRUE(files.write(*table, out, bytes("prompt$ ")));
  EXPECT_EQ(console.output, "prompt$ ");
  OpenFile* desc = *files.get(*table, in);
  EXPECT_FALSE(desc->read_ready());
  EXPECT_EQ(read_string(files, *table, in), "<EAGAIN>");
  console.input = "ls\n";
  EXPECT_TRUE(desc->read_ready());
  EXPECT_EQ(read_string(files, *table, in), "ls\n");
}

TEST_F(FilesTest, PipeThroughDescriptors) {
  auto ends = *files.pipe(*table);
  EXPECT_EQ(ends[0], 0);
  EXPECT_EQ(ends[1], 1);
  std::byte buf[4];
  EXPECT_TRUE(fails_with_errno(files.write(*table, ends[0], bytes("x")), Errno::BadFd));
  EXPECT_TRUE(fails_with_errno(files.read(*table, ends[1], buf), Errno::BadFd));
  OpenFile* reader = *files.get(*table, ends[0]);
  OpenFile* writer = *files.get(*table, ends[1]);
  EXPECT_FALSE(reader->read_ready());
  EXPECT_TRUE(writer->write_ready(10));
  ASSERT_TRUE(files.write(*table, ends[1], bytes("hi")));
  EXPECT_TRUE(reader->read_ready());
  EXPECT_EQ(read_string(files, *table, ends[0]), "hi");
  EXPECT_EQ(read_string(files, *table, ends[0]), "<EAGAIN>");
  // A dup of the write end keeps the pipe open for writing.
  int extra = *files.dup(*table, ends[1]);
  ASSERT_TRUE(files.close(*table, ends[1]));
  EXPECT_EQ(read_string(files, *table, ends[0]), "<EAGAIN>");
  ASSERT_TRUE(files.close(*table, extra));
  EXPECT_TRUE(reader->read_ready());
  EXPECT_EQ(read_string(files, *table, ends[0]), "");
}

TEST_F(FilesTest, ForkSharesDescriptionsAndOffsets) {
  int fd = open("/a", kOpenCreate | kOpenReadWrite);
  ASSERT_TRUE(files.write(*table, fd, bytes("parent")));
  FdTable* child = *files.fork_table(*table);
  EXPECT_EQ(files.descriptions(), 1u);
  ASSERT_TRUE(files.write(*table, fd, bytes("+")));
  // The child writes where the parent's write left the shared offset.
  ASSERT_TRUE(files.write(*child, fd, bytes("child")));
  EXPECT_EQ(*files.lseek(*table, fd, 0, 1), 12u);
  // Closing in the child leaves the parent's descriptor working.
  ASSERT_TRUE(files.close(*child, fd));
  ASSERT_TRUE(files.lseek(*table, fd, 0, 0));
  EXPECT_EQ(read_string(files, *table, fd), "parent+child");
  // New descriptors are per table.
  EXPECT_TRUE(fails_with_errno(files.dup(*child, 0), Errno::BadFd));
  EXPECT_EQ(*files.open(*child, "/b", kOpenCreate | kOpenReadWrite), 0);
  EXPECT_EQ(*files.lseek(*table, fd, 0, 1), 12u);
  EXPECT_TRUE(fails_with_errno(files.close(*table, 1), Errno::BadFd));
  files.release_table(child);
  EXPECT_EQ(files.descriptions(), 1u);
}

TEST_F(FilesTest, ForkSharesTheCwd) {
  ASSERT_TRUE(fs.mkdir(fs.root(), "/d"));
  ASSERT_TRUE(files.chdir(*table, "/d"));
  FdTable* child = *files.fork_table(*table);
  char buf[16];
  EXPECT_EQ(std::string(buf, *files.getcwd(*child, buf)), "/d");
  ASSERT_TRUE(files.chdir(*child, ".."));
  EXPECT_EQ(std::string(buf, *files.getcwd(*child, buf)), "/");
  EXPECT_EQ(std::string(buf, *files.getcwd(*table, buf)), "/d");
  EXPECT_TRUE(fails_with_errno(files.chdir(*child, "/bin/echo"), Errno::NotDir));
  EXPECT_TRUE(fails_with_errno(files.chdir(*child, "/nope"), Errno::NoEntry));
  files.release_table(child);
  // The directory stays alive while it is a cwd, even removed.
  ASSERT_TRUE(fs.rmdir(fs.root(), "/d"));
  EXPECT_TRUE(fails_with_errno(files.getcwd(*table, buf), Errno::NoEntry));
  EXPECT_TRUE(fails_with_errno(files.open(*table, "new", kOpenCreate | kOpenWriteOnly), Errno::NoEntry));
}

TEST_F(FilesTest, ExitDropsPipeEnds) {
  auto ends = *files.pipe(*table);
  FdTable* child = *files.fork_table(*table);
  // Parent keeps the write end only; the child the read end only.
  ASSERT_TRUE(files.close(*table, ends[0]));
  ASSERT_TRUE(files.close(*child, ends[1]));
  ASSERT_TRUE(files.write(*table, ends[1], bytes("x")));
  files.release_table(child);
  EXPECT_TRUE(fails_with_errno(files.write(*table, ends[1], bytes("x")), Errno::BrokenPipe));
  EXPECT_TRUE((*files.get(*table, ends[1]))->write_ready(1));
}

TEST_F(FilesTest, ReaddirThroughADescriptor) {
  int dir = open("/bin", kOpenReadOnly);
  std::vector<std::string> names;
  for (;;) {
    auto entry = *files.readdir(*table, dir);
    if (!entry) break;
    names.emplace_back(entry->name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{".", "..", "echo"}));
  ASSERT_TRUE(files.lseek(*table, dir, 0, 0));
  EXPECT_EQ((*files.readdir(*table, dir))->name, ".");
  int file = open("/bin/echo", kOpenReadOnly);
  EXPECT_TRUE(fails_with_errno(files.readdir(*table, file), Errno::NotDir));
  std::byte buf[4];
  EXPECT_TRUE(fails_with_errno(files.read(*table, dir, buf), Errno::IsDir));
}

TEST_F(FilesTest, ThousandCyclesLeaveMemoryAsBefore) {
  ASSERT_TRUE(files.close(*table, *files.open(*table, "/a", kOpenCreate | kOpenReadWrite)));
  size_t before = pages.outstanding();
  for (int i = 0; i < 1000; ++i) {
    int fd = *files.open(*table, "/a", kOpenCreate | kOpenReadWrite);
    int copy = *files.dup(*table, fd);
    auto ends = *files.pipe(*table);
    FdTable* child = *files.fork_table(*table);
    ASSERT_TRUE(files.write(*child, ends[1], bytes("data")));
    ASSERT_TRUE(files.dup2(*child, copy, 12));
    files.release_table(child);
    for (int f : {fd, copy, ends[0], ends[1]}) ASSERT_TRUE(files.close(*table, f));
  }
  EXPECT_EQ(files.descriptions(), 0u);
  EXPECT_EQ(pages.outstanding(), before);
}

// Every operation that allocates, tried with every smaller budget: it fails
// with NoMemory (or TooManyFiles never) and leaves descriptors and pages as
// they were.
TEST_F(FilesTest, OutOfMemoryChangesNothing) {
  int fd = open("/a", kOpenCreate | kOpenReadWrite);
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(files.dup(*table, fd));  // fill the first 8 slots
  size_t before = pages.outstanding();
  size_t descs = files.descriptions();
  auto attempt = [&](auto op) {
    for (size_t budget = before; budget < before + 4; ++budget) {
      pages.set_limit(budget);
      auto r = op();
      pages.set_limit(SIZE_MAX);
      if (r) return;  // enough memory at last
      EXPECT_EQ(r.error(), Errno::NoMemory);
      EXPECT_EQ(pages.outstanding(), before);
      EXPECT_EQ(files.descriptions(), descs);
      EXPECT_TRUE(fails_with_errno(files.get(*table, 8), Errno::BadFd));
    }
    ADD_FAILURE() << "never succeeded";
  };
  attempt([&]() -> Result<int> {
    VFS_TRY(files.pipe(*table));
    return 0;
  });
  ASSERT_TRUE(files.close(*table, 8));
  ASSERT_TRUE(files.close(*table, 9));
  attempt([&]() -> Result<int> { return files.dup(*table, fd); });
  ASSERT_TRUE(files.close(*table, 8));
  attempt([&]() -> Result<int> { return files.open(*table, "/a", kOpenReadOnly); });
  ASSERT_TRUE(files.close(*table, 8));
  attempt([&]() -> Result<int> {
    FdTable* child = VFS_TRY(files.fork_table(*table));
    files.release_table(child);
    return 0;
  });
}

// A seeded random mix of operations on several tables, checked against a
// plain model: which descriptors are open, which share a description, and
// each description's offset.
TEST_F(FilesTest, RandomAgainstModel) {
  struct Desc {
    uint64_t offset = 0;
    std::string file;
  };
  using ModelTable = std::map<int, std::shared_ptr<Desc>>;
  std::map<std::string, uint64_t> sizes;
  std::vector<FdTable*> tables{table};
  std::vector<ModelTable> model(1);
  std::mt19937 rng(12345);
  auto lowest = [](const ModelTable& t) {
    int fd = 0;
    while (t.count(fd)) ++fd;
    return fd;
  };
  for (int step = 0; step < 5000; ++step) {
    size_t ti = rng() % tables.size();
    FdTable& t = *tables[ti];
    ModelTable& m = model[ti];
    int fd = static_cast<int>(rng() % 18) - 1;
    bool open_fd = m.count(fd) > 0;
    switch (rng() % 8) {
      case 0: {
        std::string name = std::string("/") + "abc"[rng() % 3];
        auto r = files.open(t, name, kOpenCreate | kOpenReadWrite);
        if (m.size() == 16) {
          EXPECT_TRUE(fails_with_errno(r, Errno::TooManyFiles));
        } else {
          ASSERT_TRUE(r);
          EXPECT_EQ(*r, lowest(m));
          m[*r] = std::make_shared<Desc>(Desc{0, name});
          sizes.emplace(name, 0);
        }
        break;
      }
      case 1: {
        auto r = files.close(t, fd);
        EXPECT_EQ(bool(r), open_fd);
        m.erase(fd);
        break;
      }
      case 2: {
        auto r = files.dup(t, fd);
        if (!open_fd) EXPECT_TRUE(fails_with_errno(r, Errno::BadFd));
        else if (m.size() == 16) EXPECT_TRUE(fails_with_errno(r, Errno::TooManyFiles));
        else {
          ASSERT_TRUE(r);
          EXPECT_EQ(*r, lowest(m));
          m[*r] = m[fd];
        }
        break;
      }
      case 3: {
        int to = static_cast<int>(rng() % 17);
        auto r = files.dup2(t, fd, to);
        EXPECT_EQ(bool(r), open_fd && to < 16);
        if (r) m[to] = m[fd];
        break;
      }
      case 4: {
        size_t n = rng() % 100;
        auto r = files.write(t, fd, bytes(std::string(n, 'w')));
        EXPECT_EQ(bool(r), open_fd);
        if (r) {
          Desc& d = *m[fd];
          d.offset += n;
          sizes[d.file] = std::max(sizes[d.file], d.offset);
        }
        break;
      }
      case 5: {
        int64_t off = static_cast<int64_t>(rng() % 300) - 100;
        int whence = static_cast<int>(rng() % 3);
        auto r = files.lseek(t, fd, off, whence);
        if (!open_fd) {
          EXPECT_TRUE(fails_with_errno(r, Errno::BadFd));
          break;
        }
        Desc& d = *m[fd];
        int64_t base = whence == 0 ? 0 : whence == 1 ? static_cast<int64_t>(d.offset) : static_cast<int64_t>(sizes[d.file]);
        if (base + off < 0) {
          EXPECT_TRUE(fails_with_errno(r, Errno::Invalid));
        } else {
          ASSERT_TRUE(r);
          d.offset = static_cast<uint64_t>(base + off);
          EXPECT_EQ(*r, d.offset);
        }
        break;
      }
      case 6:
        if (tables.size() < 6) {
          tables.push_back(*files.fork_table(t));
          model.push_back(model[ti]);
        }
        break;
      case 7:
        if (tables.size() > 1) {
          files.release_table(tables[ti]);
          tables.erase(tables.begin() + static_cast<long>(ti));
          model.erase(model.begin() + static_cast<long>(ti));
        }
        break;
    }
    // The shared offsets agree everywhere, seen through any descriptor.
    if (step % 50 == 0) {
      std::set<Desc*> seen;
      for (size_t i = 0; i < tables.size(); ++i)
        for (auto& [f, d] : model[i]) {
          ASSERT_EQ(*files.lseek(*tables[i], f, 0, 1), d->offset);
          seen.insert(d.get());
        }
      EXPECT_EQ(files.descriptions(), seen.size());
    }
  }
  for (size_t i = 1; i < tables.size(); ++i) files.release_table(tables[i]);
  table = tables[0];
}

}  // namespace
}  // namespace vfs
