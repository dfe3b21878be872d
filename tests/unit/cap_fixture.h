// The test bed shared by cap_test.cc and cap_delete_test.cc: simulated
// physical memory, a fake of the rest of the kernel, and helpers.
//
// The memory is an 8 MiB buffer at the fake physical address 0x80000000. Its
// first 4 MiB are the root Untyped and the next 64 KiB a device Untyped.
// FakeHooks treats CNodes and TCBs as the objects that hold slots, and it
// checks every call it gets: an object is destroyed only while live, only
// once, and only with its slots empty, and a new object overlaps no live
// object except the Untyped it was carved from.
#pragma once

#include <gtest/gtest.h>

#include "result_matchers.h"
#include <pthread.h>

#include <array>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <ostream>
#include <vector>

#include "cap.h"
#include "kmem.h"

namespace kern {

// Readable names in failure messages instead of raw bytes.
inline void PrintTo(Error error, std::ostream* os) { *os << error_name(error); }
template <typename Tag>
void PrintTo(Address<Tag> address, std::ostream* os) { *os << "0x" << std::hex << address.value() << std::dec; }

namespace cap_testing {

inline constexpr PhysAddr kBase{0x8000'0000};
inline constexpr unsigned kRootBits = 22;  // 4 MiB of RAM
inline constexpr PhysAddr kDeviceBase = kBase + (uint64_t{1} << kRootBits);
inline constexpr unsigned kDeviceBits = 16;  // 64 KiB of "MMIO"
inline constexpr size_t kArenaSize = size_t{8} << 20;
inline constexpr uint8_t kGarbage = 0xA5;

using testing_support::fails_with;

using testing_support::ok;

// An object as the fake tracks it. Untyped are also told apart by size,
// because a child Untyped can start at its parent's address.
struct Key {
  ObjectType type;
  uint64_t addr;
  unsigned bits;
  auto operator<=>(const Key&) const = default;
};
inline Key key_of(const Capability& cap) {
  return {cap.type(), cap.object().value(), cap.type() == ObjectType::Untyped ? cap.untyped_size_bits() : 0};
}
inline uint64_t size_of(const Capability& cap) {
  unsigned bits = cap.type() == ObjectType::Untyped ? cap.untyped_size_bits() : cap.cnode_radix();
  return retype_object_size({cap.type(), bits, 1});
}

// The fake kernel's TCB: the dying header, then two binding slots.
struct FakeTcb {
  CNodeHeader header;
  Slot slots[2];
};

class FakeHooks final : public ObjectHooks {
 public:
  std::span<Slot> contained_slots(const Capability& cap) override {
    if (cap.type() == ObjectType::CNode) return cnode_slots(cap);
    if (cap.type() == ObjectType::Tcb) return phys_to_ptr<FakeTcb>(cap.object())->slots;
    return {};
  }
  bool is_dying(const Capability& cap) override { return header(cap).dying != 0; }
  void push_dying(const Capability& cap, const Capability& next) override {
    EXPECT_FALSE(contained_slots(cap).empty());
    EXPECT_EQ(header(cap).dying, 0u) << "pushed twice";
    header(cap) = CNodeHeader{1, next};
    ++pushes;
  }
  Capability dying_next(const Capability& cap) override { return header(cap).dying_next; }
  void destroy(const Capability& cap) override {
    EXPECT_EQ(live.erase(key_of(cap)), 1u) << "destroyed an object that is not live (or twice)";
    for (const Slot& slot : contained_slots(cap)) EXPECT_TRUE(slot.empty()) << "destroyed with a full slot";
    if (!contained_slots(cap).empty()) {
      EXPECT_NE(header(cap).dying, 0u) << "destroyed without being pushed";
    }
    destroyed.push_back(key_of(cap));
  }
  void init_object(ObjectType type, PhysAddr object, unsigned size_bits) override {
    uint64_t word1 = type == ObjectType::CNode ? Capability::CNodeRadix::set(0, size_bits - kSlotSizeBits)
                     : type == ObjectType::Untyped ? Capability::untyped(object, size_bits, false).word1()
                                                   : 0;
    Capability cap = Capability::make(type, object, Rights::All, word1);
    EXPECT_EQ(size_of(cap), uint64_t{1} << size_bits);
    // Memory safety: a new object overlaps no live object but the Untyped it
    // was carved from and that Untyped's ancestors (which contain it).
    EXPECT_TRUE(contains(parent, cap));
    for (const auto& [key, other] : live) {
      bool overlaps = object < other.object() + size_of(other) && other.object() < object + size_of(cap);
      bool is_ancestor = other.type() == ObjectType::Untyped && contains(other, parent);
      EXPECT_TRUE(!overlaps || is_ancestor) << "new object overlaps a live one at 0x" << std::hex << key.addr;
    }
    EXPECT_TRUE(live.emplace(key_of(cap), cap).second);
    inits.push_back(key_of(cap));
  }
  bool can_reset_untyped(PhysAddr base, uint64_t size) override {
    reset_queries.push_back({ObjectType::Untyped, base.value(), unsigned(std::countr_zero(size))});
    return allow_reset;
  }

  Capability parent;               // the Untyped being retyped (CapTest::retype sets it)
  std::map<Key, Capability> live;  // objects made (or registered) and not destroyed
  std::vector<Key> destroyed, inits, reset_queries;
  size_t pushes = 0;
  bool allow_reset = true;

 private:
  static bool contains(const Capability& outer, const Capability& inner) {
    return outer.object() <= inner.object() && inner.object() + size_of(inner) <= outer.object() + size_of(outer);
  }
  CNodeHeader& header(const Capability& cap) {
    if (cap.type() == ObjectType::Tcb) return phys_to_ptr<FakeTcb>(cap.object())->header;
    return cnode_header(cap);
  }
};

// Runs `fn` on a thread with a 64 KiB stack, which recursion over thousands
// of objects would overflow.
inline void run_on_small_stack(std::function<void()> fn) {
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, 64 * 1024), 0);
  pthread_t thread;
  auto trampoline = +[](void* arg) -> void* {
    (*static_cast<std::function<void()>*>(arg))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, trampoline, &fn), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
}

// What a list looks like, to show a failed operation changed nothing.
struct SlotState {
  const Slot* slot;
  ObjectType type;
  uint64_t object, word1;
  Rights rights;
  unsigned depth;
  bool operator==(const SlotState&) const = default;
};
inline std::vector<SlotState> list_state(const Slot* first) {
  std::vector<SlotState> out;
  for (const Slot* s = first; s != nullptr; s = s->next) {
    out.push_back({s, s->cap.type(), s->cap.object().value(), s->cap.word1(), s->cap.rights(), s->depth()});
  }
  return out;
}

class CapTest : public testing::Test {
 protected:
  CapTest() {
    m_arena = static_cast<uint8_t*>(std::aligned_alloc(size_t{4} << 20, kArenaSize));
    std::memset(m_arena, kGarbage, kArenaSize);
    set_phys_to_virt_offset(reinterpret_cast<uint64_t>(m_arena) - kBase.value());
    cdt_insert_root(m_root, Capability::untyped(kBase, kRootBits, false));
    cdt_insert_root(m_device, Capability::untyped(kDeviceBase, kDeviceBits, true));
    m_hooks.live.emplace(key_of(m_root.cap), m_root.cap);
    m_hooks.live.emplace(key_of(m_device.cap), m_device.cap);
  }
  ~CapTest() override { std::free(m_arena); }

  Status retype(Slot& ut, ObjectType type, unsigned size_bits, std::vector<Slot*> dests) {
    m_hooks.parent = ut.cap;
    return untyped_retype(ut, {type, size_bits, dests.size()}, dests, m_hooks);
  }
  Slot& host() { return m_host.at(m_next_host++); }
  // One object from the root Untyped, its cap in a fresh host slot.
  Slot& make(ObjectType type, unsigned size_bits = 0) {
    Slot& slot = host();
    EXPECT_TRUE(ok(retype(m_root, type, size_bits, {&slot})));
    return slot;
  }
  static Slot& at(const Slot& cnode, uint64_t index) { return **cnode_lookup(cnode.cap, index); }
  uint8_t* mem(PhysAddr pa) { return m_arena + (pa - kBase); }
  bool destroyed(const Slot& slot) const { return !m_hooks.live.contains(key_of(slot.cap)); }

  uint8_t* m_arena;
  FakeHooks m_hooks;
  Slot m_root, m_device;
  std::array<Slot, 64> m_host{};
  size_t m_next_host = 0;
};

}  // namespace cap_testing
}  // namespace kern
