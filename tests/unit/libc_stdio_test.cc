// Tests for the streams behind <stdio.h> (libos/core/stream.h) over a fake
// descriptor layer that records every call: what each buffering mode
// writes and when, reads through the buffer and around it, push-back,
// seeking with data buffered either way, sticky end of file, errors, the
// flush of line-buffered output before interactive input, printf to a
// stream, getdelim, fopen's modes; and scanf's engine (libos/core/scan.h)
// against the host's sscanf.
#include <gtest/gtest.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "scan.h"
#include "stream.h"

namespace {

using os::libc::Buffering;
using os::libc::Stream;

// Descriptors over strings. A file seeks; a "console" is a terminal that
// cannot seek and returns at most one line per read, as a tty does.
class FakeIo final : public os::libc::FileIo {
 public:
  struct File {
    std::string data;
    size_t offset = 0;
    bool terminal = false;
    bool fail_writes = false;
    bool fail_reads = false;
    size_t max_write = 0;  // 0: no limit; else short writes of this size
  };

  std::map<int, File> files;
  std::vector<std::string> writes;  // "fd:bytes" of every write call
  std::vector<int> reads;           // fd of every read call
  int last_error = 0;
  int closed = -1;

  long read(int fd, void* buffer, size_t size) override {
    reads.push_back(fd);
    File& f = files.at(fd);
    if (f.fail_reads) return -1;
    size_t n = std::min(size, f.data.size() - f.offset);
    if (f.terminal) {
      const size_t newline = f.data.find('\n', f.offset);
      if (newline != std::string::npos) n = std::min(n, newline + 1 - f.offset);
    }
    std::memcpy(buffer, f.data.data() + f.offset, n);
    f.offset += n;
    return long(n);
  }

  long write(int fd, const void* data, size_t size) override {
    File& f = files.at(fd);
    if (f.fail_writes) return -1;
    if (f.max_write != 0) size = std::min(size, f.max_write);
    std::string bytes(static_cast<const char*>(data), size);
    writes.push_back(std::to_string(fd) + ":" + bytes);
    if (f.terminal) {
      f.data += bytes;  // the screen: output never mixes with input here
    } else {
      f.data.replace(f.offset, std::min(size, f.data.size() - f.offset), bytes);
      f.offset += size;
    }
    return long(size);
  }

  long seek(int fd, long offset, int whence) override {
    File& f = files.at(fd);
    if (f.terminal) {
      last_error = 29;  // ESPIPE
      return -1;
    }
    const long base = whence == os::libc::kSeekSet ? 0
                      : whence == os::libc::kSeekCur ? long(f.offset)
                                                     : long(f.data.size());
    if (base + offset < 0) return -1;
    f.offset = size_t(base + offset);
    return long(f.offset);
  }

  int close(int fd) override {
    closed = fd;
    return 0;
  }
  bool is_terminal(int fd) override { return files.at(fd).terminal; }
  void report_error(int error_number) override { last_error = error_number; }
};

class StreamTest : public ::testing::Test {
 protected:
  FakeIo io;
  void SetUp() override {
    io.files[0].terminal = true;  // console input
    io.files[1].terminal = true;  // console output
    io.files[3] = {};             // a file
  }
};

std::string read_all(Stream& s) {
  std::string out;
  for (int c; (c = s.get()) != Stream::kEof;) out += char(c);
  return out;
}

TEST_F(StreamTest, FullBufferingWritesWhenFullOrFlushed) {
  Stream s(io, 3, false, true, Buffering::Full);
  EXPECT_EQ(s.write("ab\n", 3), 3u);
  EXPECT_TRUE(io.writes.empty());
  const std::string big(Stream::kBufferSize - 3, 'x');
  EXPECT_EQ(s.write(big.data(), big.size()), big.size());  // fills the buffer exactly
  ASSERT_EQ(io.writes.size(), 1u);
  EXPECT_EQ(io.writes[0].size(), 2 + Stream::kBufferSize);
  EXPECT_EQ(s.put('z'), 'z');
  EXPECT_EQ(io.writes.size(), 1u);
  EXPECT_EQ(s.flush(), 0);
  EXPECT_EQ(io.writes.back(), "3:z");
  EXPECT_EQ(io.files[3].data, "ab\n" + big + "z");
}

TEST_F(StreamTest, LargeWritesBypassTheBuffer) {
  Stream s(io, 3, false, true, Buffering::Full);
  s.write("head", 4);
  const std::string big(3 * Stream::kBufferSize, 'y');
  EXPECT_EQ(s.write(big.data(), big.size()), big.size());
  ASSERT_EQ(io.writes.size(), 2u);
  EXPECT_EQ(io.writes[0], "3:head");
  EXPECT_EQ(io.writes[1].size(), 2 + big.size());
}

TEST_F(StreamTest, LineBufferingWritesAtEachNewline) {
  Stream s(io, 1, false, true, Buffering::Line);
  s.write("no newline", 10);
  EXPECT_TRUE(io.writes.empty());
  s.write(" yet\nmore", 9);
  ASSERT_EQ(io.writes.size(), 1u);
  EXPECT_EQ(io.writes[0], "1:no newline yet\nmore");
}

TEST_F(StreamTest, UnbufferedWritesEveryCall) {
  Stream s(io, 1, false, true, Buffering::None);
  s.put('a');
  s.write("bc", 2);
  EXPECT_EQ(io.writes, (std::vector<std::string>{"1:a", "1:bc"}));
}

TEST_F(StreamTest, AutoIsLineOnATerminalAndFullOtherwise) {
  Stream console(io, 1, false, true, Buffering::Auto);
  Stream file(io, 3, false, true, Buffering::Auto);
  EXPECT_EQ(console.buffering(), Buffering::Line);
  EXPECT_EQ(file.buffering(), Buffering::Full);
}

TEST_F(StreamTest, ShortWritesAreRetried) {
  io.files[3].max_write = 3;
  Stream s(io, 3, false, true, Buffering::Full);
  s.write("0123456789", 10);
  EXPECT_EQ(s.flush(), 0);
  EXPECT_EQ(io.files[3].data, "0123456789");
  EXPECT_EQ(io.writes.size(), 4u);
}

TEST_F(StreamTest, WriteErrorsSetTheIndicator) {
  io.files[3].fail_writes = true;
  Stream s(io, 3, false, true, Buffering::Full);
  EXPECT_EQ(s.write("abc", 3), 3u);  // buffered: not yet known
  EXPECT_EQ(s.flush(), Stream::kEof);
  EXPECT_TRUE(s.error());
  s.clear();
  EXPECT_FALSE(s.error());
  Stream unbuffered(io, 3, false, true, Buffering::None);
  EXPECT_EQ(unbuffered.put('x'), Stream::kEof);
  EXPECT_TRUE(unbuffered.error());
}

TEST_F(StreamTest, WrongDirectionIsBadFd) {
  Stream in(io, 3, true, false, Buffering::Full);
  EXPECT_EQ(in.write("x", 1), 0u);
  EXPECT_TRUE(in.error());
  EXPECT_EQ(io.last_error, os::libc::kErrorBadFd);
  Stream out(io, 3, false, true, Buffering::Full);
  EXPECT_EQ(out.get(), Stream::kEof);
  EXPECT_EQ(io.last_error, os::libc::kErrorBadFd);
}

TEST_F(StreamTest, ReadsThroughTheBufferAndEndOfFileIsSticky) {
  io.files[3].data = "hello\nworld";
  Stream s(io, 3, true, false, Buffering::Full);
  EXPECT_EQ(read_all(s), "hello\nworld");
  EXPECT_TRUE(s.eof());
  EXPECT_EQ(io.reads.size(), 2u);  // one fill, one that saw the end
  io.files[3].data += "!";          // the file grows; EOF stays until clear
  EXPECT_EQ(s.get(), Stream::kEof);
  EXPECT_EQ(io.reads.size(), 2u);
  s.clear();
  EXPECT_EQ(s.get(), '!');
}

TEST_F(StreamTest, LargeReadsGoStraightToTheCaller) {
  io.files[3].data = std::string(5000, 'r');
  Stream s(io, 3, true, false, Buffering::Full);
  EXPECT_EQ(s.get(), 'r');  // fills the buffer: kBufferSize bytes
  std::vector<char> rest(4999);
  EXPECT_EQ(s.read(rest.data(), rest.size()), rest.size());
  EXPECT_EQ(io.reads.size(), 2u);  // the buffered rest, then one direct read
  EXPECT_EQ(s.read(rest.data(), 1), 0u);
  EXPECT_TRUE(s.eof());
}

TEST_F(StreamTest, GetLineStopsAfterNewlineOrSize) {
  io.files[3].data = "one\ntwo three\nlast";
  Stream s(io, 3, true, false, Buffering::Full);
  char line[8];
  EXPECT_STREQ(s.get_line(line, sizeof line), "one\n");
  EXPECT_STREQ(s.get_line(line, sizeof line), "two thr");
  EXPECT_STREQ(s.get_line(line, sizeof line), "ee\n");
  EXPECT_STREQ(s.get_line(line, sizeof line), "last");
  EXPECT_EQ(s.get_line(line, sizeof line), nullptr);
  EXPECT_TRUE(s.eof());
}

TEST_F(StreamTest, ReadErrorBeforeAnyByteGivesNull) {
  io.files[3].fail_reads = true;
  Stream s(io, 3, true, false, Buffering::Full);
  char line[8];
  EXPECT_EQ(s.get_line(line, sizeof line), nullptr);
  EXPECT_TRUE(s.error());
  EXPECT_FALSE(s.eof());
}

TEST_F(StreamTest, UngetGivesOneByteBackAndClearsEof) {
  io.files[3].data = "ab";
  Stream s(io, 3, true, false, Buffering::Full);
  EXPECT_EQ(s.get(), 'a');
  EXPECT_EQ(s.unget('x'), 'x');
  EXPECT_EQ(s.unget('y'), Stream::kEof);  // one slot
  EXPECT_EQ(s.get(), 'x');
  EXPECT_EQ(s.get(), 'b');
  EXPECT_EQ(s.get(), Stream::kEof);
  EXPECT_EQ(s.unget(0xff), 0xff);
  EXPECT_FALSE(s.eof());
  EXPECT_EQ(s.get(), 0xff);
  EXPECT_EQ(s.unget(Stream::kEof), Stream::kEof);
}

TEST_F(StreamTest, TellAndSeekAccountForBufferedData) {
  io.files[3].data = "0123456789";
  Stream s(io, 3, true, true, Buffering::Full);
  EXPECT_EQ(s.get(), '0');
  EXPECT_EQ(s.get(), '1');
  EXPECT_EQ(s.tell(), 2);  // the descriptor is at 10, 8 bytes unread
  s.unget('1');
  EXPECT_EQ(s.tell(), 1);
  EXPECT_EQ(s.seek(3, os::libc::kSeekCur), 0);  // relative to the stream's position
  EXPECT_EQ(s.get(), '4');
  EXPECT_EQ(s.seek(-2, os::libc::kSeekEnd), 0);
  EXPECT_EQ(s.get(), '8');
  // Writing after reading gives the read-ahead back to the descriptor.
  EXPECT_EQ(s.write("X", 1), 1u);
  EXPECT_EQ(s.tell(), 10);
  EXPECT_EQ(s.flush(), 0);
  EXPECT_EQ(io.files[3].data, "012345678X");
  EXPECT_EQ(s.seek(0, os::libc::kSeekSet), 0);
  EXPECT_EQ(read_all(s), "012345678X");
}

TEST_F(StreamTest, SeekClearsEofAndFailsOnAConsole) {
  io.files[3].data = "ab";
  Stream s(io, 3, true, false, Buffering::Full);
  read_all(s);
  ASSERT_TRUE(s.eof());
  EXPECT_EQ(s.seek(0, os::libc::kSeekSet), 0);
  EXPECT_FALSE(s.eof());
  Stream console(io, 0, true, false, Buffering::Auto);
  EXPECT_EQ(console.seek(0, os::libc::kSeekSet), -1);
  EXPECT_EQ(console.tell(), -1);
}

TEST_F(StreamTest, FlushOfAnInputStreamGivesReadAheadBack) {
  io.files[3].data = "line1\nline2\n";
  Stream s(io, 3, true, false, Buffering::Full);
  char line[16];
  s.get_line(line, sizeof line);
  EXPECT_EQ(io.files[3].offset, 12u);
  EXPECT_EQ(s.flush(), 0);
  EXPECT_EQ(io.files[3].offset, 6u);  // where another reader of the fd must start
  // A console cannot seek: the input is kept, not lost.
  io.files[0].data = "a\nb\n";
  Stream console(io, 0, true, false, Buffering::Line);
  EXPECT_EQ(console.get(), 'a');
  EXPECT_EQ(console.flush(), 0);
  EXPECT_EQ(console.get(), '\n');
}

TEST_F(StreamTest, InteractiveInputFlushesLineBufferedOutputFirst) {
  os::libc::StreamList open;
  Stream out(io, 1, false, true, Buffering::Auto);
  Stream in(io, 0, true, false, Buffering::Auto);
  Stream file_out(io, 3, false, true, Buffering::Full);
  open.add(out);
  open.add(in);
  open.add(file_out);
  io.files[0].data = "ls\n";
  out.write("$ ", 2);  // a prompt, no newline
  file_out.write("log", 3);
  EXPECT_TRUE(io.writes.empty());
  char line[8];
  EXPECT_STREQ(in.get_line(line, sizeof line), "ls\n");
  // The prompt went out before the read; the fully buffered file did not.
  EXPECT_EQ(io.writes, std::vector<std::string>{"1:$ "});
  EXPECT_EQ(open.flush_all(), 0);
  EXPECT_EQ(io.writes.back(), "3:log");
  open.remove(file_out);
  file_out.write("more", 4);
  EXPECT_EQ(open.flush_all(), 0);
  EXPECT_EQ(io.writes.back(), "3:log");  // no longer in the list
}

TEST_F(StreamTest, SetBufferingUsesTheCallersBuffer) {
  Stream s(io, 3, false, true, Buffering::Full);
  char mine[4];
  EXPECT_EQ(s.set_buffering(mine, Buffering::Full, sizeof mine), 0);
  s.write("abc", 3);
  EXPECT_EQ(std::string(mine, 3), "abc");
  s.write("d", 1);  // fills it
  EXPECT_EQ(io.writes, std::vector<std::string>{"3:abcd"});
  EXPECT_EQ(s.set_buffering(nullptr, static_cast<Buffering>(7), 0), -1);
  EXPECT_EQ(io.last_error, os::libc::kErrorInvalid);
  EXPECT_EQ(s.set_buffering(nullptr, Buffering::None, 0), 0);
  s.write("e", 1);
  EXPECT_EQ(io.writes.back(), "3:e");
}

TEST_F(StreamTest, CloseFlushesAndClosesTheDescriptor) {
  Stream s(io, 3, false, true, Buffering::Full);
  s.write("bye", 3);
  EXPECT_EQ(s.close(), 0);
  EXPECT_EQ(io.closed, 3);
  EXPECT_EQ(io.files[3].data, "bye");
}

int print(Stream& s, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int n = os::libc::vprint(s, fmt, ap);
  va_end(ap);
  return n;
}

TEST_F(StreamTest, PrintFormatsIntoTheStream) {
  Stream s(io, 3, false, true, Buffering::Full);
  EXPECT_EQ(print(s, "%s=%d %#x|%-4c|", "n", -42, 255u, 'q'), 16);
  s.flush();
  EXPECT_EQ(io.files[3].data, "n=-42 0xff|q   |");
}

TEST_F(StreamTest, PrintOnAnUnbufferedStreamGathersItsPieces) {
  Stream s(io, 1, false, true, Buffering::None);
  EXPECT_EQ(print(s, "%s: %d: %s\n", "prog", 7, "failed"), 16);
  EXPECT_EQ(io.writes, std::vector<std::string>{"1:prog: 7: failed\n"});
  const std::string long_text(600, 'L');
  print(s, "%s", long_text.c_str());
  EXPECT_EQ(io.writes.size(), 4u);  // 256 + 256 + 88
}

TEST_F(StreamTest, PrintReportsWriteErrors) {
  io.files[3].fail_writes = true;
  Stream s(io, 3, false, true, Buffering::None);
  EXPECT_EQ(print(s, "x%d", 1), -1);
  EXPECT_TRUE(s.error());
}

TEST_F(StreamTest, GetDelimitedGrowsTheLine) {
  io.files[3].data = std::string(300, 'a') + "\nshort\nend";
  Stream s(io, 3, true, false, Buffering::Full);
  char* line = nullptr;
  size_t capacity = 0;
  EXPECT_EQ(os::libc::get_delimited(s, &line, &capacity, '\n', realloc), 301);
  EXPECT_GE(capacity, 302u);
  EXPECT_EQ(std::string(line), std::string(300, 'a') + "\n");
  EXPECT_EQ(os::libc::get_delimited(s, &line, &capacity, '\n', realloc), 6);
  EXPECT_STREQ(line, "short\n");
  EXPECT_EQ(os::libc::get_delimited(s, &line, &capacity, '\n', realloc), 3);
  EXPECT_STREQ(line, "end");
  EXPECT_EQ(os::libc::get_delimited(s, &line, &capacity, '\n', realloc), -1);
  std::free(line);
  EXPECT_EQ(os::libc::get_delimited(s, nullptr, &capacity, '\n', realloc), -1);
  EXPECT_EQ(io.last_error, os::libc::kErrorInvalid);
}

TEST_F(StreamTest, GetDelimitedReportsExhaustedMemory) {
  io.files[3].data = "abc\n";
  Stream s(io, 3, true, false, Buffering::Full);
  char* line = nullptr;
  size_t capacity = 0;
  auto no_memory = [](void*, size_t) -> void* { return nullptr; };
  EXPECT_EQ(os::libc::get_delimited(s, &line, &capacity, '\n', no_memory), -1);
  EXPECT_EQ(io.last_error, os::libc::kErrorNoMemory);
}

TEST(OpenMode, DecodesEveryFopenMode) {
  using namespace os::libc;
  struct Case {
    const char* mode;
    int flags;
    bool readable;
    bool writable;
  };
  const Case cases[] = {
      {"r", kOpenReadOnly, true, false},
      {"rb", kOpenReadOnly, true, false},
      {"w", kOpenWriteOnly | kOpenCreate | kOpenTruncate, false, true},
      {"a", kOpenWriteOnly | kOpenCreate | kOpenAppend, false, true},
      {"r+", kOpenReadWrite, true, true},
      {"rb+", kOpenReadWrite, true, true},
      {"r+b", kOpenReadWrite, true, true},
      {"w+", kOpenReadWrite | kOpenCreate | kOpenTruncate, true, true},
      {"a+", kOpenReadWrite | kOpenCreate | kOpenAppend, true, true},
      {"wx", kOpenWriteOnly | kOpenCreate | kOpenTruncate | kOpenExclusive, false, true},
      {"re", kOpenReadOnly, true, false},
  };
  for (const Case& c : cases) {
    const OpenMode m = parse_open_mode(c.mode);
    EXPECT_TRUE(m.valid) << c.mode;
    EXPECT_EQ(m.flags, c.flags) << c.mode;
    EXPECT_EQ(m.readable, c.readable) << c.mode;
    EXPECT_EQ(m.writable, c.writable) << c.mode;
  }
  for (const char* bad : {"", "x", "+r", "b"}) EXPECT_FALSE(parse_open_mode(bad).valid) << bad;
  EXPECT_FALSE(parse_open_mode(nullptr).valid);
}

// ---- scanf ---------------------------------------------------------------

// Runs the same scan through the host's sscanf and ours with the same kind
// of destinations, and compares the result and every destination.
template <typename... T>
void expect_scan_like_host(const char* input, const char* fmt) {
  std::tuple<T...> host{};
  std::tuple<T...> ours{};
  const int host_n = std::apply([&](auto&... v) { return ::sscanf(input, fmt, &v...); }, host);
  const int ours_n = std::apply([&](auto&... v) { return os::libc::scan_string(input, fmt, &v...); }, ours);
  EXPECT_EQ(ours_n, host_n) << "\"" << input << "\" with \"" << fmt << "\"";
  EXPECT_TRUE(host == ours) << "\"" << input << "\" with \"" << fmt << "\"";
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat"

TEST(Scan, IntegersMatchHost) {
  const char* const inputs[] = {"42",  "  -17 x", "+5", "0x1f", "0X1F", "010", "08", "-0x10", "", "   ",
                                "abc", "-",       "+",  "0x",   "0xg",  "99999999999", "12 34 56", "7,8"};
  for (const char* in : inputs) {
    expect_scan_like_host<int>(in, "%d");
    expect_scan_like_host<int>(in, "%i");
    expect_scan_like_host<unsigned>(in, "%u");
    expect_scan_like_host<unsigned>(in, "%x");
    expect_scan_like_host<unsigned>(in, "%o");
    expect_scan_like_host<long>(in, "%ld");
    expect_scan_like_host<long long>(in, "%lli");
    expect_scan_like_host<short>(in, "%hd");
    expect_scan_like_host<signed char>(in, "%hhd");
    expect_scan_like_host<unsigned long>(in, "%lx");
    expect_scan_like_host<int>(in, "%2d");
    expect_scan_like_host<int, int>(in, "%d %d");
    expect_scan_like_host<int, int>(in, "%d,%d");
    expect_scan_like_host<int, int>(in, "%1d%d");
  }
}

TEST(Scan, StringsCharsAndSetsMatchHost) {
  struct Chars {
    char text[16];
    bool operator==(const Chars& o) const { return std::memcmp(text, o.text, sizeof text) == 0; }
  };
  const char* const inputs[] = {"hello world", "  x", "", "a-b_c]d", "abc123def", "]]x", "\tone\ttwo\n"};
  for (const char* in : inputs) {
    for (const char* fmt : {"%s", "%3s", "%c", "%4c", "%[a-c]", "%[^ ]", "%[]a]", "%[^]x]", " %c", "%*s %s",
                            "%[a-z]%d"}) {
      // Destinations for every argument a format above may take.
      std::tuple<Chars, Chars> host{};
      std::tuple<Chars, Chars> ours{};
      const int host_n = ::sscanf(in, fmt, std::get<0>(host).text, std::get<1>(host).text);
      const int ours_n = os::libc::scan_string(in, fmt, std::get<0>(ours).text, std::get<1>(ours).text);
      EXPECT_EQ(ours_n, host_n) << "\"" << in << "\" with \"" << fmt << "\"";
      EXPECT_TRUE(std::get<0>(host) == std::get<0>(ours)) << "\"" << in << "\" with \"" << fmt << "\"";
    }
  }
}

TEST(Scan, CountsSuppressionLiteralsAndPercent) {
  int a = 0;
  int b = 0;
  int n = 0;
  EXPECT_EQ(os::libc::scan_string("12 abc 34", "%d %*s %d%n", &a, &b, &n), 2);
  EXPECT_EQ(a, 12);
  EXPECT_EQ(b, 34);
  EXPECT_EQ(n, 9);
  EXPECT_EQ(os::libc::scan_string("100%", "%d%%", &a), 1);
  EXPECT_EQ(os::libc::scan_string("x=5", "x=%d", &a), 1);
  EXPECT_EQ(a, 5);
  EXPECT_EQ(os::libc::scan_string("y=5", "x=%d", &a), 0);
  EXPECT_EQ(os::libc::scan_string("", "x=%d", &a), -1);
  EXPECT_EQ(os::libc::scan_string("7", "%*d"), 0);
  void* p = nullptr;
  EXPECT_EQ(os::libc::scan_string("0x1234", "%p", &p), 1);
  EXPECT_EQ(p, reinterpret_cast<void*>(0x1234));
  double d = 0;
  EXPECT_EQ(os::libc::scan_string("1.5", "%lf", &d), 0);  // no floating point
}

#pragma GCC diagnostic pop

TEST_F(StreamTest, ScanFromAStreamLeavesTheRestUnread) {
  io.files[3].data = "12 34 rest";
  Stream s(io, 3, true, false, Buffering::Full);
  int a = 0;
  int b = 0;
  auto scan = [&](const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const int n = os::libc::vscan_stream(s, fmt, ap);
    va_end(ap);
    return n;
  };
  EXPECT_EQ(scan("%d %d", &a, &b), 2);
  EXPECT_EQ(a + b, 46);
  EXPECT_EQ(read_all(s), " rest");
}

}  // namespace
