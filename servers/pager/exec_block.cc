// Parsing of the exec block (exec_block.h).
#include "exec_block.h"

#include "procmgr/protocol.h"

namespace pager {

namespace {

using posix::Errno;

// The NUL-terminated string at `at` in `block`; advances `at` past its NUL.
posix::Result<std::string_view> next_string(std::span<const uint8_t> block, size_t& at) {
  for (size_t end = at; end < block.size(); ++end) {
    if (block[end] == 0) {
      const std::string_view s(reinterpret_cast<const char*>(block.data() + at), end - at);
      at = end + 1;
      return s;
    }
  }
  return posix::fail(Errno::Invalid);
}

}  // namespace

posix::Result<ExecArgs> parse_exec_block(std::span<const uint8_t> block, std::span<std::string_view> storage) {
  using procmgr::protocol::ExecHeader;
  if (block.size() > procmgr::protocol::kExecBlockMax) return posix::fail(Errno::ArgListTooLong);
  if (block.size() < sizeof(ExecHeader)) return posix::fail(Errno::Invalid);
  ExecHeader header;
  __builtin_memcpy(&header, block.data(), sizeof header);
  if (header.argc > storage.size() || header.envc > storage.size() - header.argc) {
    return posix::fail(Errno::ArgListTooLong);
  }
  size_t at = sizeof(ExecHeader);
  ExecArgs args;
  args.path = POSIX_TRY(next_string(block, at));
  if (args.path.empty()) return posix::fail(Errno::Invalid);
  const size_t count = header.argc + header.envc;
  for (size_t i = 0; i < count; ++i) storage[i] = POSIX_TRY(next_string(block, at));
  args.argv = storage.first(header.argc);
  args.envp = storage.subspan(header.argc, header.envc);
  return args;
}

}  // namespace pager
