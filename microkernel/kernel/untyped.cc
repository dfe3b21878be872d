// UntypedRetype: carve objects out of an Untyped into empty slots of a CNode.
//   mr0 type, mr1 size_bits (Untyped: log2 bytes; CNode: radix), mr2 count,
//   mr3 first destination index; extra cap 0: the destination CNode.
#include "kernel/invoke.h"

namespace kern {
namespace {
// Bounds the work of one system call (each object is zeroed).
constexpr uint64_t kMaxRetypeCount = 256;  // the slot list below lives on the kernel stack
}

Status invoke_untyped(Invocation& inv) {
  TRY(require_rights(inv, Rights::Write));
  const uint64_t type = TRY(inv.mr(0));
  const uint64_t size_bits = TRY(inv.mr(1));
  const uint64_t count = TRY(inv.mr(2));
  const uint64_t first = TRY(inv.mr(3));
  Slot* dest_cnode = TRY(inv.extra_cap(0));
  if (dest_cnode->cap.type() != ObjectType::CNode) return fail(Error::InvalidCapability);
  if (!uapi::has(dest_cnode->cap.rights(), Rights::Write)) return fail(Error::IllegalOperation);
  if (count == 0 || count > kMaxRetypeCount || type > 0xff || size_bits > 63) return fail(Error::InvalidArgument);

  const uint64_t slots = uint64_t{1} << dest_cnode->cap.cnode_radix();
  if (first == 0 || first >= slots || count > slots - first) return fail(Error::RangeError);
  Slot* dests[kMaxRetypeCount];
  for (uint64_t i = 0; i < count; ++i) dests[i] = TRY(cnode_lookup(dest_cnode->cap, first + i));

  const RetypeRequest request{static_cast<ObjectType>(type), static_cast<unsigned>(size_bits), count};
  return untyped_retype(inv.target(), request, std::span<Slot* const>(dests, count), object_hooks());
}

}  // namespace kern
