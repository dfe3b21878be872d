// Host tests for the console's line discipline (servers/vfs/console.*):
// editing, echo, line delivery one line per read, Ctrl-C and Ctrl-D, and
// what happens when the buffers are full.
#include <gtest/gtest.h>

#include <string>

#include "posix_matchers.h"
#include "vfs/console.h"

namespace vfs {
namespace {

using posix::testing_support::fails_with_errno;

class StringOutput final : public ConsoleOutput {
 public:
  void write(std::span<const std::byte> bytes) override {
    text.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  std::string take() { return std::exchange(text, {}); }
  std::string text;
};

class LineDisciplineTest : public ::testing::Test {
 protected:
  bool type(std::string_view s) { return line.input(std::as_bytes(std::span(s.data(), s.size()))); }
  // One read of at most `max` bytes: the bytes, or "<EAGAIN>" and the like.
  std::string read(size_t max = 512) {
    std::string buf(max, '\0');
    auto n = line.read(std::as_writable_bytes(std::span(buf.data(), buf.size())));
    if (!n) return "<" + std::string(errno_name(n.error())) + ">";
    buf.resize(*n);
    return buf;
  }

  StringOutput out;
  LineDiscipline line{out};
};

TEST_F(LineDisciplineTest, NothingTypedWouldBlock) {
  EXPECT_FALSE(line.read_ready());
  EXPECT_EQ(read(), "<EAGAIN>");
  // A zero-byte read is answered at once, line or not.
  EXPECT_EQ(read(0), "");
}

TEST_F(LineDisciplineTest, LineEndsWithReturnOrNewlineAndIsEchoed) {
  EXPECT_FALSE(type("ls -l"));
  EXPECT_EQ(out.take(), "ls -l");
  EXPECT_FALSE(line.read_ready());
  EXPECT_EQ(read(), "<EAGAIN>");
  type("\r");
  EXPECT_EQ(out.take(), "\n");
  EXPECT_TRUE(line.read_ready());
  EXPECT_EQ(read(), "ls -l\n");
  EXPECT_FALSE(line.read_ready());
  type("pwd\n");
  EXPECT_EQ(read(), "pwd\n");
}

TEST_F(LineDisciplineTest, OneLinePerRead) {
  type("one\ntwo\nthr");
  EXPECT_EQ(line.lines(), 2u);
  EXPECT_EQ(read(), "one\n");
  EXPECT_EQ(read(), "two\n");
  EXPECT_EQ(read(), "<EAGAIN>");  // "thr" is still being edited
  EXPECT_EQ(line.editing(), 3u);
}

TEST_F(LineDisciplineTest, ShortReadsTakeTheRestOfTheLineLater) {
  type("abcdef\nxy\n");
  EXPECT_EQ(read(4), "abcd");
  EXPECT_EQ(read(4), "ef\n");  // the rest of the first line, not into the second
  EXPECT_EQ(read(4), "xy\n");
}

TEST_F(LineDisciplineTest, BackspaceAndDeleteEraseOneCharacter) {
  type("cat\x7f\x7fp");
  EXPECT_EQ(out.take(), "cat\b \b\b \bp");
  type("\b");
  EXPECT_EQ(out.take(), "\b \b");
  type("d\n");
  EXPECT_EQ(read(), "cd\n");
  out.take();
  // Erasing at the start of a line does nothing, echoes nothing.
  type("\x7f\x08");
  EXPECT_EQ(out.take(), "");
  EXPECT_EQ(line.editing(), 0u);
}

TEST_F(LineDisciplineTest, CtrlCDiscardsTheLineAndAsksForSigint) {
  EXPECT_TRUE(type("sleep 100\x03"));
  EXPECT_EQ(out.take(), "sleep 100^C\n");
  EXPECT_EQ(line.editing(), 0u);
  EXPECT_FALSE(line.read_ready());
  // Finished lines before it stay.
  EXPECT_TRUE(type("echo hi\nrm -rf\x03"));
  EXPECT_EQ(read(), "echo hi\n");
  EXPECT_EQ(read(), "<EAGAIN>");
}

TEST_F(LineDisciplineTest, CtrlDAtStartOfLineIsEndOfFile) {
  type("\x04");
  EXPECT_EQ(out.take(), "");
  EXPECT_TRUE(line.read_ready());
  EXPECT_EQ(read(), "");  // end of file, once
  EXPECT_EQ(read(), "<EAGAIN>");
  // After a finished line, Ctrl-D is again at the start of a line.
  type("last\n\x04");
  EXPECT_EQ(read(), "last\n");
  EXPECT_EQ(read(), "");
  EXPECT_FALSE(line.read_ready());
}

TEST_F(LineDisciplineTest, CtrlDInsideALineDeliversItWithoutNewline) {
  type("abc\x04");
  EXPECT_EQ(out.take(), "abc");
  EXPECT_EQ(read(), "abc");
  EXPECT_EQ(read(), "<EAGAIN>");
  // And a second Ctrl-D, now at the start, is end of file.
  type("\x04");
  EXPECT_EQ(read(), "");
}

TEST_F(LineDisciplineTest, PeekKeepsTheLineUntilConsumed) {
  type("abc\n\x04");
  char buf[8];
  auto out_buf = std::as_writable_bytes(std::span(buf));
  EXPECT_EQ(line.peek(out_buf.first(2)), 2u);
  EXPECT_EQ(line.peek(out_buf), 4u);
  EXPECT_EQ(std::string(buf, 4), "abc\n");
  line.consume(1);
  EXPECT_EQ(read(), "bc\n");
  // The end-of-file mark peeks as 0 bytes and goes with consume(0).
  EXPECT_TRUE(line.read_ready());
  EXPECT_EQ(line.peek(out_buf), 0u);
  line.consume(0);
  EXPECT_FALSE(line.read_ready());
  EXPECT_EQ(line.peek(out_buf), 0u);
  line.consume(5);  // nothing there: nothing happens
  EXPECT_EQ(line.buffered(), 0u);
}

TEST_F(LineDisciplineTest, OtherControlCharactersAreDropped) {
  type("a\x1b[Ab\x01\t\n");
  EXPECT_EQ(read(), "a[Ab\t\n");
  EXPECT_EQ(out.take(), "a[Ab\t\n");
}

TEST_F(LineDisciplineTest, Utf8BytesPass) {
  type("caf\xc3\xa9\n");
  EXPECT_EQ(read(), "caf\xc3\xa9\n");
}

TEST_F(LineDisciplineTest, LongLineIsCutAtTheLimitWithABell) {
  std::string long_line(kLineMax + 10, 'x');
  type(long_line);
  EXPECT_EQ(line.editing(), kLineMax);
  std::string echoed = out.take();
  EXPECT_EQ(echoed, std::string(kLineMax, 'x') + std::string(10, '\a'));
  type("\n");
  EXPECT_EQ(read(), std::string(kLineMax, 'x') + "\n");
}

TEST_F(LineDisciplineTest, FullInputBufferRefusesMoreUntilRead) {
  // Fill the finished-line buffer with lines nobody reads.
  std::string chunk(99, 'y');
  size_t lines = 0;
  while (line.buffered() + chunk.size() + 1 <= kInputMax && line.lines() < kLinesMax) {
    type(chunk + "\n");
    ++lines;
  }
  out.take();
  size_t before = line.buffered();
  // What still fits is accepted; then characters are refused with a bell.
  type(std::string(kInputMax, 'z'));
  EXPECT_LE(line.buffered() + line.editing() + 1, kInputMax);
  EXPECT_NE(out.take().find('\a'), std::string::npos);
  EXPECT_EQ(line.buffered(), before);
  // Reading makes room again.
  EXPECT_EQ(read(), chunk + "\n");
  type("\x03ok\n");
  for (size_t i = 1; i < lines; ++i) EXPECT_EQ(read(), chunk + "\n");
  EXPECT_EQ(read(), "ok\n");
}

TEST_F(LineDisciplineTest, TooManyLinesRingsTheBell) {
  for (size_t i = 0; i < kLinesMax; ++i) type("\n");
  EXPECT_EQ(line.lines(), kLinesMax);
  out.take();
  type("\n");
  EXPECT_EQ(out.take(), "\a");
  type("\x04");
  EXPECT_EQ(out.take(), "\a");
  EXPECT_EQ(line.lines(), kLinesMax);
  EXPECT_EQ(read(), "\n");
  type("\n");
  EXPECT_EQ(line.lines(), kLinesMax);
}

TEST(ConsoleTest, InterruptNamesTheForegroundGroup) {
  StringOutput out;
  Console console(out);
  auto typed = [&](std::string_view s) { return console.input(std::as_bytes(std::span(s.data(), s.size()))); };
  EXPECT_EQ(typed("x\x03"), 0u);  // no foreground group: nobody to signal
  console.set_foreground(7);
  EXPECT_EQ(typed("abc"), 0u);
  EXPECT_EQ(typed("a\x03\x03"), 7u);
  EXPECT_EQ(console.foreground(), 7u);
}

TEST(ConsoleTest, WritesGoStraightOut) {
  StringOutput out;
  Console console(out);
  std::string_view s = "hello\n";
  EXPECT_EQ(*console.write(std::as_bytes(std::span(s.data(), s.size()))), s.size());
  EXPECT_EQ(out.text, "hello\n");
  EXPECT_FALSE(console.read_ready());
}

}  // namespace
}  // namespace vfs
