// The kernel's ObjectHooks: what the capability core calls when an object
// is created from Untyped or loses its last capability.
#include "arch/riscv/cpu.h"
#include "kernel/hart.h"
#include "kernel/invoke.h"
#include "kernel/ipc.h"
#include "kernel/irq.h"
#include "kernel/reply.h"
#include "kernel/sched.h"
#include "kernel/vm.h"

namespace kern {
namespace {

struct DyingState {
  uint64_t* dying = nullptr;
  Capability* next = nullptr;
};

DyingState dying_state(const Capability& cap) {
  switch (cap.type()) {
    case ObjectType::CNode: {
      CNodeHeader& h = cnode_header(cap);
      return {&h.dying, &h.dying_next};
    }
    case ObjectType::Tcb: {
      Tcb& t = object_of<Tcb>(cap);
      return {&t.dying, &t.dying_next};
    }
    case ObjectType::VSpace: {
      VSpaceMeta& m = vspace_meta(cap);
      return {&m.dying, &m.dying_next};
    }
    case ObjectType::IrqHandler: {
      IrqEntry& e = irq_entry_of(cap);
      return {&e.dying, &e.dying_next};
    }
    default:
      return {};
  }
}

void destroy_tcb(Tcb& tcb) {
  cancel_ipc(tcb);
  make_blocked(tcb, ThreadState::Inactive);
  if (this_hart().current == &tcb) this_hart().current = nullptr;
}

void destroy_vspace(const Capability& cap) {
  VSpaceMeta& meta = vspace_meta(cap);
  user_space(cap).destroy();
  pool_detach(cap.object());
  if (meta.asid != 0) {
    arch::sfence_vma_asid(meta.asid);
    asid_allocator().free(meta.asid);
  }
  // The hart may still run on this table (the thread that deleted the last
  // binding): go back to the kernel's own.
  Hart& hart = this_hart();
  if (hart.current_satp == sv39::make_satp(cap.object(), meta.asid)) {
    hart.current_satp = sv39::make_satp(kernel_root_phys(), 0);
    arch::write_satp(hart.current_satp);
    arch::sfence_vma_all();
  }
}

class KernelObjectHooks final : public ObjectHooks {
 public:
  std::span<Slot> contained_slots(const Capability& cap) override {
    switch (cap.type()) {
      case ObjectType::CNode: return cnode_slots(cap);
      case ObjectType::Tcb: return std::span<Slot>(object_of<Tcb>(cap).slots);
      case ObjectType::VSpace: return std::span<Slot>(&vspace_meta(cap).pool_slot, 1);
      case ObjectType::IrqHandler: return std::span<Slot>(&irq_entry_of(cap).binding, 1);
      default: return {};
    }
  }

  bool is_dying(const Capability& cap) override {
    DyingState s = dying_state(cap);
    return s.dying != nullptr && *s.dying != 0;
  }

  void push_dying(const Capability& cap, const Capability& next) override {
    DyingState s = dying_state(cap);
    if (s.dying == nullptr) return;
    *s.dying = 1;
    *s.next = next;
  }

  Capability dying_next(const Capability& cap) override {
    DyingState s = dying_state(cap);
    return s.next != nullptr ? *s.next : Capability();
  }

  void destroy(const Capability& cap) override {
    switch (cap.type()) {
      case ObjectType::Tcb: return destroy_tcb(object_of<Tcb>(cap));
      case ObjectType::Endpoint: return endpoint_destroyed(object_of<Endpoint>(cap));
      case ObjectType::Notification: return notification_destroyed(object_of<Notification>(cap));
      case ObjectType::Reply: return reply_destroyed(object_of<Reply>(cap));
      case ObjectType::VSpace: return destroy_vspace(cap);
      case ObjectType::IrqHandler: {
        IrqEntry& entry = irq_entry_of(cap);
        irq_set_enabled(cap.irq(), false);
        irq_ack(cap.irq());
        entry.issued = false;
        entry.dying = 0;
        return;
      }
      case ObjectType::Untyped: return pool_untyped_deleted(cap);  // a VSpace's table pool?
      default: return;  // CNode (already emptied), Frame: nothing to release
    }
  }

  void init_object(ObjectType type, PhysAddr object, unsigned) override {
    switch (type) {
      case ObjectType::Tcb: {
        Tcb& t = *phys_to_ptr<Tcb>(object);
        t.state = ThreadState::Inactive;
        t.context.hart = &this_hart();
        return;
      }
      case ObjectType::VSpace: {
        UserSpace::init_root(phys_to_ptr<uint64_t>(object), kernel_root_table());
        auto asid = asid_allocator().alloc();
        // Out of ASIDs (65535 live address spaces): run with ASID 0, which
        // switch_to treats as "flush on every switch".
        phys_to_ptr<VSpaceMeta>(object + kVSpaceMetaOffset)->asid = asid ? *asid : 0;
        if (asid) arch::sfence_vma_asid(*asid);
        return;
      }
      default:
        return;
    }
  }

  bool can_reset_untyped(PhysAddr base, uint64_t size) override { return !frame_table().any_mapped(base, size); }
};

KernelObjectHooks g_hooks;

}  // namespace

ObjectHooks& object_hooks() { return g_hooks; }

}  // namespace kern
