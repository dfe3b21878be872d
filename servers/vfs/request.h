// A vfs message as it travels (label, length, up to 64 words), and the two
// halves of marshalling: RequestReader checks and decodes a request's
// arguments (protocol.h layouts, message.h conventions), reply_*() build
// replies. Decoding changes nothing, so a request that fails here leaves
// the server exactly as it was.
//
// Bytes travel packed little-endian in the words; both ends of every
// message (RISC-V, and the host running the tests) are little-endian, so
// the bytes of a request are read in place, without a copy.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

#include "common/message.h"
#include "errno.h"
#include "vfs/protocol.h"

namespace vfs {

static_assert(std::endian::native == std::endian::little, "bytes are read from message words in place");

struct Message {
  uint64_t label = 0;
  size_t length = 0;  // words used, at most msg::kWords
  uint64_t mr[msg::kWords] = {};

  // The bytes from word `first` on, for reading or filling in place.
  std::byte* bytes_at(size_t first) { return reinterpret_cast<std::byte*>(&mr[first]); }
  const std::byte* bytes_at(size_t first) const { return reinterpret_cast<const std::byte*>(&mr[first]); }
};

// Reads a request's arguments. Every accessor fails with Invalid when the
// words it needs were not sent (message.h: "too short for its operation").
class RequestReader {
 public:
  explicit RequestReader(const Message& m) : m_msg(m) {}
  size_t length() const { return m_msg.length; }

  Result<uint64_t> word(size_t i) const {
    if (i >= m_msg.length) return fail(Errno::Invalid);
    return m_msg.mr[i];
  }
  Result<int64_t> signed_word(size_t i) const {
    uint64_t w = VFS_TRY(word(i));
    return static_cast<int64_t>(w);
  }
  // A descriptor: BadFd unless it is in [0, INT32_MAX] (Files checks the rest).
  Result<int> fd(size_t i) const {
    int64_t v = VFS_TRY(signed_word(i));
    if (v < 0 || v > INT32_MAX) return fail(Errno::BadFd);
    return static_cast<int>(v);
  }
  // A byte count in word i, the bytes from word i+1: Invalid if the count is
  // above `max` or the bytes go beyond the words sent.
  Result<std::span<const std::byte>> bytes(size_t i, size_t max) const {
    uint64_t count = VFS_TRY(word(i));
    if (count > max || msg::words_for(count) > m_msg.length - (i + 1)) return fail(Errno::Invalid);
    return std::span<const std::byte>(m_msg.bytes_at(i + 1), count);
  }
  // A path (protocol.h): NoEntry for an empty one, NameTooLong above
  // kPathMax, Invalid if the bytes are not all there or hold a NUL.
  Result<std::string_view> path(size_t i) const {
    uint64_t count = VFS_TRY(word(i));
    if (count == 0) return fail(Errno::NoEntry);
    if (count > protocol::kPathMax) return fail(Errno::NameTooLong);
    auto raw = VFS_TRY(bytes(i, protocol::kPathMax));
    std::string_view path(reinterpret_cast<const char*>(raw.data()), raw.size());
    if (path.find('\0') != std::string_view::npos) return fail(Errno::Invalid);
    return path;
  }

 private:
  const Message& m_msg;
};

// Replies: label 0, mr0 the result (message.h).
inline Message reply_value(int64_t value) {
  Message r;
  r.length = 1;
  r.mr[0] = msg::result_word(value);
  return r;
}
inline Message reply_error(Errno e) { return reply_value(-static_cast<int64_t>(e)); }

// mr0 = `value`, then `words` words from mr1.
inline Message reply_words(int64_t value, std::initializer_list<uint64_t> words) {
  Message r = reply_value(value);
  for (uint64_t w : words) r.mr[r.length++] = w;
  return r;
}

// Append a count word and the bytes after it (zero padded) at r.length.
// The caller made sure they fit.
inline void append_bytes(Message& r, std::span<const std::byte> bytes) {
  r.mr[r.length++] = bytes.size();
  msg::pack(&r.mr[r.length], bytes.data(), bytes.size());
  r.length += msg::words_for(bytes.size());
}

}  // namespace vfs
