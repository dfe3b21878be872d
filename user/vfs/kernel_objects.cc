// Pages from the pool and Reply objects; the slot layout is in
// kernel_objects.h.
#include "kernel_objects.h"

#include "os/kernel.h"

namespace vfs {

namespace {

using uapi::ObjectType;

constexpr uint64_t kSelf = boot_caps::kSelfCNode;
constexpr uint64_t kPageBits = 12;
constexpr uint64_t kReadWrite = uint64_t(uapi::MapPerm::Read) | uint64_t(uapi::MapPerm::Write);

kern::Error kernel_error(uapi::Error e) { return static_cast<kern::Error>(static_cast<uint8_t>(e)); }

}  // namespace

kern::Status PoolMapper::map_fresh(uint64_t va, size_t count) {
  if (count == 0 || count > kScratchCount) return kern::fail(kern::Error::InvalidArgument);
  uint64_t bits = 0;
  while ((uint64_t{1} << bits) < count) ++bits;
  // A child must be smaller than the pool itself.
  if (kPageBits + bits >= m_pool_bits) return kern::fail(kern::Error::NotEnoughMemory);
  if (auto s = os::retype(boot_caps::kPool, ObjectType::Untyped, kPageBits + bits, 1, kSelf, kBatchUntyped); !s)
    return kern::fail(kernel_error(s.error()));
  // From here on a failure is not the pool running short: report it as
  // something else, so the page source stops asking instead of carving
  // smaller batches out of the pool in vain.
  auto mapped = [&]() -> os::Status {
    if (auto s = os::retype(kBatchUntyped, ObjectType::Frame, 0, count, kSelf, kScratchFirst); !s) return s;
    return os::vspace_map(boot_caps::kSelfVSpace, va, kSelf, kScratchFirst, count, kReadWrite);
  }();
  // The frame caps go; the mappings stay.
  (void)os::cnode_revoke(kSelf, kBatchUntyped);
  (void)os::cnode_delete(kSelf, kBatchUntyped);
  if (!mapped) return kern::fail(kern::Error::IllegalOperation);
  return {};
}

bool ObjectReplies::create() {
  constexpr uint64_t kMaxRetype = 256;  // objects per UntypedRetype
  for (uint64_t done = 0; done < kReplyCount; done += kMaxRetype) {
    const uint64_t n = kReplyCount - done < kMaxRetype ? kReplyCount - done : kMaxRetype;
    if (!os::retype(boot_caps::kPool, ObjectType::Reply, 0, n, kSelf, kReplyFirst + done)) return false;
  }
  for (uint64_t i = 0; i < kReplyCount; ++i) m_free[m_free_count++] = kReplyFirst + kReplyCount - 1 - i;
  return true;
}

Result<ReplyToken> ObjectReplies::save() {
  if (m_free_count == 0) return fail(Errno::NoMemory);
  uint64_t slot = m_free[--m_free_count];
  if (auto s = os::save_reply(slot); !s) {
    m_free[m_free_count++] = slot;
    // FailedLookup: nothing is owed (the request came by Send, not Call),
    // so nobody is waiting for an answer.
    return fail(Errno::Io);
  }
  return slot;
}

bool ObjectReplies::send(ReplyToken token, const Message& reply) {
  uapi::IpcBuffer* buffer = os::ipc_buffer();
  for (size_t i = uapi::kMessageRegistersInCpu; i < reply.length; ++i) buffer->mr[i] = reply.mr[i];
  // FailedLookup means the caller is gone (destroyed, or suspended: the
  // kernel emptied the object); either way the object is empty again.
  const os::Status sent = os::send_reply(token, uapi::MessageInfo::make(reply.label, reply.length), reply.mr[0],
                                         reply.mr[1], reply.mr[2], reply.mr[3]);
  m_free[m_free_count++] = token;
  return static_cast<bool>(sent);
}

}  // namespace vfs
