// Type-safe text formatting for the kernel console and panic reports, with no
// heap and no varargs: format(sink, "RAM {} MiB at {:#x}\n", mib, base).
//
// Replacement fields: "{}" or "{:SPEC}" with SPEC = [fill-zero][width][type],
// where fill-zero is '0', width is decimal, type is one of x (hex), X (hex,
// upper case), #x (hex with 0x), d (decimal, the default), c (character), s
// (string). "{{" and "}}" print braces. A field without an argument prints
// "{?}", an argument without a field is ignored: a format mistake never reads
// past the arguments.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

#include "types.h"

namespace kern {

class FormatSink {
 public:
  virtual void put(std::string_view text) = 0;

 protected:
  ~FormatSink() = default;
};

struct FormatArg {
  enum class Kind : uint8_t { Unsigned, Signed, String, Char, Pointer };
  Kind kind = Kind::Unsigned;
  uint64_t u = 0;
  int64_t s = 0;
  std::string_view str;

  template <std::unsigned_integral T>
    requires(!std::same_as<T, bool>)
  constexpr FormatArg(T v) : kind(Kind::Unsigned), u(v) {}
  template <std::signed_integral T>
    requires(!std::same_as<T, char>)
  constexpr FormatArg(T v) : kind(Kind::Signed), s(v) {}
  constexpr FormatArg(bool v) : kind(Kind::String), str(v ? "true" : "false") {}
  constexpr FormatArg(char c) : kind(Kind::Char), u(static_cast<unsigned char>(c)) {}
  constexpr FormatArg(std::string_view v) : kind(Kind::String), str(v) {}
  constexpr FormatArg(const char* v) : kind(Kind::String), str(v ? std::string_view(v) : "(null)") {}
  FormatArg(const void* p) : kind(Kind::Pointer), u(reinterpret_cast<uintptr_t>(p)) {}
  template <typename Tag>
  constexpr FormatArg(Address<Tag> a) : kind(Kind::Pointer), u(a.value()) {}
  template <typename E>
    requires std::is_enum_v<E>
  constexpr FormatArg(E e) : FormatArg(static_cast<std::underlying_type_t<E>>(e)) {}
};

void vformat(FormatSink& sink, std::string_view fmt, std::span<const FormatArg> args);

template <typename... Args>
void format(FormatSink& sink, std::string_view fmt, const Args&... args) {
  const FormatArg list[sizeof...(Args) + 1] = {FormatArg(args)..., FormatArg(0u)};
  vformat(sink, fmt, std::span<const FormatArg>(list, sizeof...(Args)));
}

// A sink that fills a fixed buffer and truncates; always NUL-terminated when
// the buffer is not empty.
class BufferSink final : public FormatSink {
 public:
  explicit BufferSink(std::span<char> buffer) : m_buffer(buffer) { terminate(); }
  void put(std::string_view text) override;
  std::string_view view() const { return {m_buffer.data(), m_length}; }
  bool truncated() const { return m_truncated; }

 private:
  void terminate();
  std::span<char> m_buffer;
  size_t m_length = 0;
  bool m_truncated = false;
};

}  // namespace kern
