// The kernel's shared state for user address spaces: the frame table
// (mapping count of every RAM frame), the ASID allocator, the TLB flusher
// and the kernel's own root table, whose upper half every VSpace copies.
#pragma once

#include "lib/platform.h"
#include "lib/result.h"
#include "lib/vspace.h"
#include "kernel/objects.h"

namespace kern {

// Called by memory_init once the allocator and the kernel table exist.
Status vm_init(const PlatformInfo& platform, PhysAddr kernel_root);

FrameTable& frame_table();
AsidAllocator& asid_allocator();
TlbFlusher& tlb_flusher();
const uint64_t* kernel_root_table();
PhysAddr kernel_root_phys();

// The user half of a VSpace object as a UserSpace.
UserSpace user_space(const Capability& vspace);
VSpaceMeta& vspace_meta(const Capability& vspace);
// The satp value that loads this VSpace (root table and ASID).
uint64_t vspace_satp(const Capability& vspace);

// Table pools. The memory of a pool holds live page tables for as long as
// the pool is attached, but its Untyped (in VSpaceMeta::pool_slot) can be
// deleted from outside, by revoking an ancestor, after which that memory
// would be handed out again. So attached pools are listed, and:
//  - pool_attach: the VSpace's meta.pool is set up; list it.
//  - pool_untyped_deleted: an Untyped cap was deleted; if it was a pool,
//    the VSpace loses every mapping and table (they were made from that
//    memory, as "revoking an Untyped destroys everything made from it"
//    says) and has no pool until the next VSpaceSetTablePool.
//  - pool_detach: the VSpace is being destroyed.
void pool_attach(PhysAddr vspace);
void pool_untyped_deleted(const Capability& untyped);
void pool_detach(PhysAddr vspace);

}  // namespace kern
