// The exec block procmgr hands the pager with Load (procmgr/protocol.h):
// an ExecHeader {argc, envc}, then NUL-terminated strings: the program's
// path, argc arguments, envc environment strings. The block is untrusted
// bytes in the exchange area; parsing checks every string ends inside it and
// returns views into it, ready for procmgr::build_initial_stack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/posix_errno.h"

namespace pager {

// The most strings (argc + envc) a block may carry. Each needs a view the
// caller provides storage for; 4096 is far beyond any shell command line
// (Linux's ARG_MAX of 128 KiB would allow ~14,000 one-letter strings).
inline constexpr size_t kMaxExecStrings = 4096;

struct ExecArgs {
  std::string_view path;
  std::span<const std::string_view> argv;
  std::span<const std::string_view> envp;
};

// Parses `block`, putting the argv then envp views into `storage`. Errors:
// EINVAL for a block shorter than its header, a string without its NUL
// inside the block, or an empty path; E2BIG for a block longer than
// procmgr::protocol::kExecBlockMax or more strings than `storage` holds.
// Bytes after the last string are ignored (padding).
posix::Result<ExecArgs> parse_exec_block(std::span<const uint8_t> block, std::span<std::string_view> storage);

}  // namespace pager
