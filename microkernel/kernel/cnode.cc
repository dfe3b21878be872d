// CNode invocations. The invoked CNode is the destination (or the place of
// the slot to delete/revoke); the source of Copy, Mint and Move is given as
// extra cap 0 (a CNode: Read to copy or mint from it, Write to move out of
// it) and an index. The invoked CNode needs Write.
//   Copy:   mr0 dest index, mr1 src index, mr2 rights mask; cap0 src CNode
//   Mint:   as Copy, mr3 badge
//   Move:   mr0 dest index, mr1 src index; cap0 src CNode
//   Delete: mr0 index
//   Revoke: mr0 index
#include "kernel/invoke.h"

namespace kern {
namespace {

Result<Slot*> source_slot(Invocation& inv) {
  Slot* src_cnode = TRY(inv.extra_cap(0));
  if (src_cnode->cap.type() != ObjectType::CNode) return fail(Error::InvalidCapability);
  // Reading a cap out of a CNode needs Read on it; moving it out changes
  // the CNode, which needs Write.
  const Rights needed = inv.label() == uapi::Label::CNodeMove ? Rights::Write : Rights::Read;
  if (!uapi::has(src_cnode->cap.rights(), needed)) return fail(Error::IllegalOperation);
  return cnode_lookup(src_cnode->cap, TRY(inv.mr(1)));
}

Result<Rights> rights_mask(uint64_t value) {
  if (value > static_cast<uint64_t>(Rights::All)) return fail(Error::InvalidArgument);
  return static_cast<Rights>(value);
}

}  // namespace

Status invoke_cnode(Invocation& inv) {
  TRY(require_rights(inv, Rights::Write));
  Slot* slot = TRY(cnode_lookup(inv.cap(), TRY(inv.mr(0))));
  switch (inv.label()) {
    case uapi::Label::CNodeCopy: {
      Slot* src = TRY(source_slot(inv));
      return cap_copy(*src, *slot, TRY(rights_mask(TRY(inv.mr(2)))));
    }
    case uapi::Label::CNodeMint: {
      Slot* src = TRY(source_slot(inv));
      const Rights mask = TRY(rights_mask(TRY(inv.mr(2))));
      return cap_mint(*src, *slot, mask, TRY(inv.mr(3)));
    }
    case uapi::Label::CNodeMove: {
      Slot* src = TRY(source_slot(inv));
      return cap_move(*src, *slot);
    }
    case uapi::Label::CNodeDelete:
      cap_delete(*slot, object_hooks());
      return {};
    case uapi::Label::CNodeRevoke:
      cap_revoke(*slot, object_hooks());
      return {};
    default:
      return fail(Error::IllegalOperation);
  }
}

}  // namespace kern
