// Conventions every server protocol shares (procmgr, pager, vfs; libos is
// the other side of each): badges, result words and bytes carried in message
// registers. Included by the servers and by libos only.
//
// Replies. Every reply has label 0 and mr0 = the result as a signed word:
// zero or positive on success, -errno (posix_errno.h numbers) on failure,
// as Linux system calls return. Other reply words are the operation's own.
// A request with an unknown label gets -ENOSYS; one too short for its
// operation (fewer message words than it needs, a byte count beyond the words
// sent) gets -EINVAL. No request ever crashes or stops a server.
//
// Bytes (paths, file data) travel packed little-endian into consecutive
// message registers, after a word that gives their count: at most
// kMaxBytes per message (64 registers, minus the words before the bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>

#include "abi/abi.h"

namespace msg {

inline constexpr size_t kWords = uapi::kMaxMessageLength;  // 64
inline constexpr size_t kWordBytes = sizeof(uint64_t);

// Badges servers tell their callers apart by. Processes are named by small
// positive numbers (a pid at procmgr and vfs, an address-space id at the
// pager); the servers' own calls carry badges with kServerBit set, which no
// process number ever reaches.
inline constexpr uint64_t kServerBit = uint64_t{1} << 62;
inline constexpr uint64_t kProcmgrBadge = kServerBit | 1;   // procmgr calling pager or vfs
inline constexpr uint64_t kPagerBadge = kServerBit | 2;     // the pager's reporter thread calling procmgr
inline constexpr uint64_t kConsoleBadge = kServerBit | 3;   // vfs's console thread calling vfs or procmgr
constexpr bool is_server_badge(uint64_t badge) { return (badge & kServerBit) != 0; }

// Words needed for `bytes` bytes.
constexpr size_t words_for(size_t bytes) { return (bytes + kWordBytes - 1) / kWordBytes; }
// The most bytes a message can carry after `header_words` words.
constexpr size_t max_bytes_after(size_t header_words) { return (kWords - header_words) * kWordBytes; }

// Packs `n` bytes into words[0..words_for(n)), zero padding the last word.
inline void pack(uint64_t* words, const void* bytes, size_t n) {
  if (n == 0) return;
  words[words_for(n) - 1] = 0;
  __builtin_memcpy(words, bytes, n);
}
// Unpacks `n` bytes from words.
inline void unpack(void* bytes, const uint64_t* words, size_t n) { __builtin_memcpy(bytes, words, n); }

// Lays out a request: the words, then, when `bytes` is not null, their
// count and the bytes packed (the protocols' "count, then bytes" form).
// Returns the message length in words; `out` holds kWords words.
inline size_t compose(uint64_t* out, std::initializer_list<uint64_t> words, const void* bytes = nullptr,
                      size_t byte_count = 0) {
  size_t n = 0;
  for (uint64_t v : words) out[n++] = v;
  if (bytes != nullptr) {
    out[n++] = byte_count;
    pack(out + n, bytes, byte_count);
    n += words_for(byte_count);
  }
  return n;
}

// Encodes a negative errno or a non-negative value as the result word.
constexpr uint64_t result_word(int64_t value) { return static_cast<uint64_t>(value); }
constexpr int64_t result_of(uint64_t word) { return static_cast<int64_t>(word); }

}  // namespace msg
