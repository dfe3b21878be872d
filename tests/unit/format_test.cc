// Tests for the kernel's formatter (microkernel/lib/format.h).
#include "format.h"

#include <gtest/gtest.h>

#include <string>

namespace kern {
namespace {

template <typename... Args>
std::string fmt(std::string_view f, const Args&... args) {
  char buffer[256];
  BufferSink sink(buffer);
  format(sink, f, args...);
  return std::string(sink.view());
}

TEST(Format, Literals) {
  EXPECT_EQ(fmt("hello"), "hello");
  EXPECT_EQ(fmt(""), "");
  EXPECT_EQ(fmt("{{}} braces"), "{} braces");
}

TEST(Format, Decimal) {
  EXPECT_EQ(fmt("{}", 0u), "0");
  EXPECT_EQ(fmt("{}", 42), "42");
  EXPECT_EQ(fmt("{}", -42), "-42");
  EXPECT_EQ(fmt("{}", uint64_t{18446744073709551615ull}), "18446744073709551615");
  EXPECT_EQ(fmt("{}", int64_t{-9223372036854775807ll - 1}), "-9223372036854775808");
  EXPECT_EQ(fmt("[{:5}]", 42), "[   42]");
  EXPECT_EQ(fmt("[{:05}]", 42), "[00042]");
  EXPECT_EQ(fmt("[{:05}]", -42), "[-0042]");
}

TEST(Format, Hex) {
  EXPECT_EQ(fmt("{:x}", 255u), "ff");
  EXPECT_EQ(fmt("{:X}", 255u), "FF");
  EXPECT_EQ(fmt("{:#x}", 255u), "0xff");
  EXPECT_EQ(fmt("{:016x}", uint64_t{0x80200000}), "0000000080200000");
  EXPECT_EQ(fmt("{:#010x}", 0x1234u), "0x00001234");
  EXPECT_EQ(fmt("{:x}", -1), "ffffffffffffffff");
}

TEST(Format, Addresses) {
  EXPECT_EQ(fmt("{}", PhysAddr(0x80200000)), "0x0000000080200000");
  EXPECT_EQ(fmt("{:#x}", VirtAddr(0x10)), "0x10");
}

TEST(Format, StringsCharsBools) {
  EXPECT_EQ(fmt("{} {}", "a", std::string_view("bc")), "a bc");
  EXPECT_EQ(fmt("[{:4}]", "ab"), "[  ab]");
  EXPECT_EQ(fmt("{}{}", 'x', 'y'), "xy");
  EXPECT_EQ(fmt("{:c}", 65u), "A");
  EXPECT_EQ(fmt("{} {}", true, false), "true false");
  EXPECT_EQ(fmt("{}", static_cast<const char*>(nullptr)), "(null)");
}

TEST(Format, Enums) {
  enum class Color : uint8_t { Red = 3 };
  EXPECT_EQ(fmt("{}", Color::Red), "3");
}

TEST(Format, MistakesNeverReadPastArguments) {
  EXPECT_EQ(fmt("{} {}", 1), "1 {?}");
  EXPECT_EQ(fmt("{}", 1, 2, 3), "1");
  EXPECT_EQ(fmt("unterminated {", 1), "unterminated {");
  EXPECT_EQ(fmt("stray } brace"), "stray } brace");
  EXPECT_EQ(fmt("{:99999999999999999999x}", 1u).size(), 64u);  // width is clamped
}

TEST(BufferSink, TruncatesAndTerminates) {
  char buffer[6];
  BufferSink sink(buffer);
  format(sink, "{}", "hello world");
  EXPECT_EQ(sink.view(), "hello");
  EXPECT_TRUE(sink.truncated());
  EXPECT_EQ(buffer[5], '\0');

  BufferSink empty(std::span<char>{});
  format(empty, "x");
  EXPECT_TRUE(empty.truncated());
  EXPECT_EQ(empty.view(), "");
}

}  // namespace
}  // namespace kern
