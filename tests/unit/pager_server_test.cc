// Host tests of the pager's requests (servers/pager/server.h): Load, Fork,
// Release, ReadUser, MemInfo, Sbrk and faults, decoded from messages as the
// server receives them, against the fake kernel of pager_fake_invocations.h
// and a real MemoryPool over its simulated memory. The fake also plays the
// processes: loads and stores go through their page tables and fault into
// the server when the page is missing, as the kernel would deliver them.
//
// Leaks are checked the way the system test will: MemInfo's free bytes are
// exactly what they were after every failure and every release.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/message.h"
#include "elf_builder.h"
#include "pager/server.h"
#include "pager_fake_invocations.h"
#include "posix_matchers.h"
#include "result_matchers.h"

namespace pager {
namespace {

using elf_testing::ElfBuilder;
using kern::kPageSize;
using posix::Errno;
using posix::testing_support::fails_with_errno;
using protocol::Label;
using testing_support::FakeInvocations;

constexpr uint64_t kCNode = 2, kVSpace = 3, kPoolSlot = 6, kMailbox = 7, kFirstSlot = 272;
constexpr uint64_t kPoolBits = 23;  // 8 MiB
constexpr uint64_t kPoolPaddr = 0x8880'0000;
constexpr uint64_t kBlockOffset = 512 * 1024;  // where the tests put the exec block
constexpr uint64_t kPc = 0x10040;

class RecordingSink final : public FaultSink {
 public:
  void report(const FaultReport& r) override { reports.push_back(r); }
  std::vector<FaultReport> reports;
};

uint64_t word(Errno e) { return msg::result_word(-int64_t(e)); }

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const PoolConfig config{.first_pool = kPoolSlot,
                            .pool_count = 1,
                            .cnode = kCNode,
                            .vspace = kVSpace,
                            .first_slot = kFirstSlot,
                            .slot_limit = uint64_t{1} << 13,
                            .direct_map_va = 0x10'0000'0000,
                            .direct_map = kernel.direct_map()};
    ASSERT_TRUE(pool->init(kernel, config));
    server = std::make_unique<Server>(
        kernel, *pool, sink,
        ServerConfig{.cnode = kCNode, .mailbox = kMailbox, .exchange = exchange});
    initial_free = pool->free_bytes();
  }

  void TearDown() override {
    EXPECT_TRUE(pool->check_invariants());
    EXPECT_EQ(pool->bad_frees(), 0u);
    EXPECT_EQ(server->internal_errors(), 0u);
    EXPECT_TRUE(kernel.problems().empty());
  }

  // ---- Messages ----
  Response call(uint64_t badge, Label label, std::vector<uint64_t> words) {
    Request r{.badge = badge, .label = uint64_t(label), .length = words.size(), .mr = {}};
    for (size_t i = 0; i < words.size() && i < 6; ++i) r.mr[i] = words[i];
    return server->handle(r);
  }
  Response procmgr(Label label, std::vector<uint64_t> words) { return call(msg::kProcmgrBadge, label, words); }

  // ---- The exchange area ----
  void put_image(const std::vector<uint8_t>& image) {
    std::memcpy(exchange.data(), image.data(), image.size());
    image_size = image.size();
  }
  // Writes an exec block at kBlockOffset; returns its length.
  uint64_t put_block(uint64_t argc, uint64_t envc, const std::vector<std::string>& strings) {
    std::vector<uint8_t> block(16);
    std::memcpy(block.data(), &argc, 8);
    std::memcpy(block.data() + 8, &envc, 8);
    for (const std::string& s : strings) {
      block.insert(block.end(), s.begin(), s.end());
      block.push_back(0);
    }
    std::memcpy(exchange.data() + kBlockOffset, block.data(), block.size());
    block_length = block.size();
    return block.size();
  }
  // The default program with "prog a bc" and one environment string.
  void put_default() {
    put_image(ElfBuilder().build());
    put_block(3, 1, {"/bin/prog", "prog", "a", "bc", "HOME=/"});
  }
  Response load_request() { return procmgr(Label::Load, {image_size, kBlockOffset, block_length}); }
  uint64_t load() {
    const Response r = load_request();
    EXPECT_TRUE(r.send);
    EXPECT_LT(int64_t(r.mr[0]), 1000) << "Load failed: " << -int64_t(r.mr[0]);
    return r.mr[0];
  }

  // ---- The process ----
  uint64_t vspace(uint64_t id) { return server->spaces().find(id)->vspace.handle; }
  bool fault(uint64_t id, uint64_t va, Access access) {
    return call(protocol::kFaultBit | id, Label(uapi::FaultLabel::PageFault), {kPc, va, uint64_t(access)}).send;
  }
  std::optional<uint8_t> load_byte(uint64_t id, uint64_t va) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (auto v = kernel.read(vspace(id), va)) return v;
      if (!fault(id, va, Access::Read)) return std::nullopt;
    }
    ADD_FAILURE() << "read fault at " << va << " never resolved";
    return std::nullopt;
  }
  bool store_byte(uint64_t id, uint64_t va, uint8_t value) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (kernel.write(vspace(id), va, value)) return true;
      if (!fault(id, va, Access::Write)) return false;
    }
    ADD_FAILURE() << "write fault at " << va << " never resolved";
    return false;
  }
  uint64_t load_word(uint64_t id, uint64_t va) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t(*load_byte(id, va + i)) << (8 * i);
    return v;
  }
  std::string load_string(uint64_t id, uint64_t va) {
    std::string s;
    while (auto c = load_byte(id, va++)) {
      if (*c == 0) break;
      s.push_back(char(*c));
    }
    return s;
  }

  FakeInvocations kernel{13, kPoolSlot, kPoolBits, kPoolPaddr, kCNode, kVSpace, kMailbox};
  std::unique_ptr<MemoryPool> pool = std::make_unique<MemoryPool>();
  std::vector<uint8_t> exchange = std::vector<uint8_t>(protocol::kExchangeBytes);
  RecordingSink sink;
  std::unique_ptr<Server> server;
  uint64_t initial_free = 0;
  uint64_t image_size = 0;
  uint64_t block_length = 0;
};

// ---- Load ------------------------------------------------------------------------

TEST_F(ServerTest, LoadBuildsTheAddressSpace) {
  put_default();
  const std::vector<uint8_t> file = ElfBuilder().build();
  const Response r = load_request();
  ASSERT_TRUE(r.send);
  ASSERT_EQ(r.length, 3u);
  EXPECT_EQ(r.mr[0], 1u);
  EXPECT_EQ(r.mr[1], ElfBuilder().entry);
  const uint64_t sp = r.mr[2];
  EXPECT_EQ(sp % 16, 0u);
  EXPECT_LT(sp, protocol::kStackTop);
  EXPECT_GT(sp, protocol::kStackTop - kPageSize);
  const uint64_t vs = vspace(1);

  // Text: the file's bytes, R-X, mapped now; zeros after the segment.
  const auto* text = kernel.find_pte(vs, 0x10000);
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(text->perm, 5u);
  for (uint64_t i = 0; i < 0x190; ++i) ASSERT_EQ(*kernel.read(vs, 0x10000 + i), file[i]) << i;
  EXPECT_EQ(*kernel.read(vs, 0x10000 + 0x190), 0);
  // Data: 4 file bytes at 0x11190, RW-; the rest of its page zero.
  const auto* data = kernel.find_pte(vs, 0x11000);
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->perm, 3u);
  for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ(*kernel.read(vs, 0x11190 + i), file[0x190 + i]);
  EXPECT_EQ(*kernel.read(vs, 0x11194), 0);
  EXPECT_EQ(*kernel.read(vs, 0x11000), 0);

  // The initial stack: argc, argv, envp.
  EXPECT_EQ(load_word(1, sp), 3u);
  EXPECT_EQ(load_string(1, load_word(1, sp + 8)), "prog");
  EXPECT_EQ(load_string(1, load_word(1, sp + 16)), "a");
  EXPECT_EQ(load_string(1, load_word(1, sp + 24)), "bc");
  EXPECT_EQ(load_word(1, sp + 32), 0u);
  EXPECT_EQ(load_string(1, load_word(1, sp + 40)), "HOME=/");
  EXPECT_EQ(load_word(1, sp + 48), 0u);

  // The IPC buffer: RW, zero, and with the VSpace in the mailbox.
  const auto* ipc = kernel.find_pte(vs, protocol::kIpcBufferVa);
  ASSERT_NE(ipc, nullptr);
  EXPECT_EQ(ipc->perm, 3u);
  EXPECT_EQ(*kernel.read(vs, protocol::kIpcBufferVa + 100), 0);
  const AddressSpace* space = server->spaces().find(1);
  EXPECT_EQ(kernel.mailbox_type(protocol::kMailboxVSpace), uapi::ObjectType::VSpace);
  EXPECT_EQ(kernel.mailbox_type(protocol::kMailboxIpcBuffer), uapi::ObjectType::Frame);
  EXPECT_TRUE(kernel.same_object(FakeInvocations::kMailboxCNodeId, protocol::kMailboxVSpace,
                                 FakeInvocations::kSelfCNodeId, space->vspace.handle));
  EXPECT_TRUE(kernel.same_object(FakeInvocations::kMailboxCNodeId, protocol::kMailboxIpcBuffer,
                                 FakeInvocations::kSelfCNodeId, space->ipc_frame.handle));

  // Regions: text, data (its bss shares the page), heap after the image, stack.
  EXPECT_EQ(space->regions.find(VirtAddr(0x10000))->kind, RegionKind::Text);
  EXPECT_EQ(space->regions.find(VirtAddr(0x11000))->kind, RegionKind::Data);
  EXPECT_EQ(space->regions.heap_break(), VirtAddr(0x12000));
  EXPECT_EQ(space->regions.find(VirtAddr(protocol::kStackTop - protocol::kStackMax))->kind, RegionKind::Stack);
  EXPECT_STREQ(space->policy->name(), registered_policies()[0].name);  // Load without a policy index
  EXPECT_TRUE(space->regions.check_invariants());
}

TEST_F(ServerTest, LoadFillsALargeImageInBatches) {
  ElfBuilder b;
  constexpr uint64_t kTextPages = 70;
  b.headers = {
      {.type = elf_testing::kPtLoad, .flags = elf_testing::kR | elf_testing::kX, .offset = 0, .vaddr = 0x10000,
       .filesz = kTextPages * kPageSize, .memsz = kTextPages * kPageSize},
      {.type = elf_testing::kPtLoad, .flags = elf_testing::kR | elf_testing::kW, .offset = kTextPages * kPageSize,
       .vaddr = 0x10000 + kTextPages * kPageSize, .filesz = 0x100, .memsz = 5 * kPageSize},
  };
  b.entry = 0x10000;
  b.shoff = 0;
  b.shnum = 0;
  b.shstrndx = 0;
  b.file_size = kTextPages * kPageSize + 0x100;
  const std::vector<uint8_t> file = b.build();
  put_image(file);
  put_block(1, 0, {"/big", "big"});
  const uint64_t id = load();
  ASSERT_EQ(id, 1u);
  for (uint64_t i = 0; i < kTextPages * kPageSize; i += 997) ASSERT_EQ(*kernel.read(vspace(id), 0x10000 + i), file[i]);
  // One data page from the file; the bss pages are not mapped until touched.
  EXPECT_EQ(kernel.mapped_pages(vspace(id)), kTextPages + 1 + 1 + 1);  // + data, stack, IPC buffer
  EXPECT_EQ(load_byte(id, 0x10000 + (kTextPages + 3) * kPageSize), 0);
  ASSERT_TRUE(server->release(id));
  EXPECT_EQ(pool->free_bytes(), initial_free);
}

TEST_F(ServerTest, LoadErrorsLeaveNothingBehind) {
  put_default();
  // Not an ELF image.
  std::vector<uint8_t> junk(1000, 0x42);
  put_image(junk);
  EXPECT_EQ(load_request().mr[0], word(Errno::ExecFormat));
  put_default();
  // The image or the block outside the exchange area.
  EXPECT_EQ(procmgr(Label::Load, {protocol::kExchangeBytes + 1, kBlockOffset, block_length}).mr[0],
            word(Errno::Invalid));
  EXPECT_EQ(procmgr(Label::Load, {image_size, protocol::kExchangeBytes - 4, 16}).mr[0], word(Errno::Invalid));
  EXPECT_EQ(procmgr(Label::Load, {image_size, ~uint64_t{0}, 16}).mr[0], word(Errno::Invalid));
  EXPECT_EQ(procmgr(Label::Load, {image_size, 8, ~uint64_t{0}}).mr[0], word(Errno::Invalid));
  // A malformed block, too many strings, too many bytes of arguments.
  put_block(2, 0, {"/bin/prog", "prog"});
  EXPECT_EQ(load_request().mr[0], word(Errno::Invalid));
  put_block(5000, 0, {"/bin/prog"});
  EXPECT_EQ(load_request().mr[0], word(Errno::ArgListTooLong));
  put_default();
  EXPECT_EQ(procmgr(Label::Load, {image_size, kBlockOffset, procmgr::protocol::kExecBlockMax + 1}).mr[0],
            word(Errno::ArgListTooLong));
  EXPECT_EQ(server->spaces().count(), 0u);
  EXPECT_EQ(pool->free_bytes(), initial_free);
  EXPECT_EQ(kernel.mailbox_type(protocol::kMailboxVSpace), uapi::ObjectType::Null);
}

TEST_F(ServerTest, LoadTakesAFullExecBlock) {
  put_image(ElfBuilder().build());
  std::vector<std::string> strings{"/bin/prog"};
  for (int i = 0; i < 3000; ++i) strings.push_back(std::to_string(i) + std::string(16, 'x'));
  put_block(2000, 1000, strings);
  ASSERT_LE(block_length, procmgr::protocol::kExecBlockMax);
  const Response r = load_request();
  ASSERT_EQ(r.mr[0], 1u);
  const uint64_t sp = r.mr[2];
  EXPECT_EQ(load_word(1, sp), 2000u);
  EXPECT_EQ(load_string(1, load_word(1, sp + 8 * 2000)), "1999xxxxxxxxxxxxxxxx");
  EXPECT_EQ(load_word(1, sp + 8 * 2001), 0u);
  EXPECT_EQ(load_string(1, load_word(1, sp + 8 * 2002)), "2000xxxxxxxxxxxxxxxx");
  ASSERT_TRUE(server->release(1));
  EXPECT_EQ(pool->free_bytes(), initial_free);
}

TEST_F(ServerTest, LoadRollsBackAtEveryStep) {
  put_default();
  for (uint64_t n = 1;; ++n) {
    kernel.fail_in(n);
    auto r = server->load(image_size, kBlockOffset, block_length);
    if (r) {
      kernel.fail_in(0);
      EXPECT_GT(n, 5u);
      ASSERT_TRUE(server->release(r->id));
      break;
    }
    EXPECT_EQ(r.error(), Errno::NoMemory) << "failing invocation " << n;
    ASSERT_EQ(server->spaces().count(), 0u) << n;
    ASSERT_EQ(pool->free_bytes(), initial_free) << "failing invocation " << n;
    ASSERT_TRUE(pool->check_invariants()) << n;
  }
  EXPECT_EQ(pool->free_bytes(), initial_free);
  EXPECT_EQ(kernel.live_objects(uapi::ObjectType::VSpace), 1u);  // the pager's own
}

TEST_F(ServerTest, LoadRunsOutOfMemoryCleanly) {
  put_default();
  std::vector<uint64_t> ids;
  for (;;) {
    const Response r = load_request();
    if (msg::result_of(r.mr[0]) < 0) {
      EXPECT_EQ(r.mr[0], word(Errno::NoMemory));
      break;
    }
    ids.push_back(r.mr[0]);
  }
  EXPECT_GT(ids.size(), 20u);
  const uint64_t free_when_full = pool->free_bytes();
  EXPECT_EQ(load_request().mr[0], word(Errno::NoMemory));
  EXPECT_EQ(pool->free_bytes(), free_when_full);
  for (uint64_t id : ids) EXPECT_EQ(procmgr(Label::Release, {id}).mr[0], 0u);
  EXPECT_EQ(pool->free_bytes(), initial_free);
  EXPECT_EQ(load(), 1u);
}

// ---- Fork ------------------------------------------------------------------------

class ForkTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    put_default();
    parent = load();
    // These tests count eager's copies; the policies themselves are tested
    // in pager_policy_test.cc.
    ASSERT_TRUE(server->set_policy(parent, policy_index("eager")));
    ASSERT_EQ(call(parent, Label::Sbrk, {3 * kPageSize}).mr[0], 0x12000u);
    for (uint64_t va : written()) ASSERT_TRUE(store_byte(parent, va, pattern(va)));
  }
  static std::vector<uint64_t> written() {
    return {0x11190, 0x12000, 0x13000 + 5, 0x14000 + 77, protocol::kStackTop - 3 * kPageSize};
  }
  static uint8_t pattern(uint64_t va) { return uint8_t(va >> 12) ^ 0x5a; }
  static uint64_t policy_index(const char* name) {
    const auto all = registered_policies();
    for (size_t i = 0; i < all.size(); ++i) {
      if (std::string(all[i].name) == name) return i;
    }
    ADD_FAILURE() << "no policy " << name;
    return 0;
  }

  uint64_t parent = 0;
};

TEST_F(ForkTest, ChildGetsPrivateCopiesAndSharesText) {
  const uint64_t free_before = pool->free_bytes();
  const Response r = procmgr(Label::Fork, {parent});
  ASSERT_EQ(r.length, 3u);
  const uint64_t child = r.mr[0];
  ASSERT_EQ(child, 2u);
  // Writable pages mapped in the parent: data, 3 heap pages, 2 stack pages
  // (the initial stack and the one written), and text shared.
  EXPECT_EQ(r.mr[1], 6u);
  EXPECT_EQ(r.mr[2], 1u);
  for (uint64_t va : written()) EXPECT_EQ(load_byte(child, va), pattern(va)) << va;
  EXPECT_EQ(load_word(child, protocol::kStackTop - 8), load_word(parent, protocol::kStackTop - 8));

  // Independent after the fork.
  ASSERT_TRUE(store_byte(child, 0x12000, 1));
  ASSERT_TRUE(store_byte(parent, 0x13005, 2));
  EXPECT_EQ(load_byte(parent, 0x12000), pattern(0x12000));
  EXPECT_EQ(load_byte(child, 0x13005), pattern(0x13005));
  EXPECT_EQ(kernel.find_pte(vspace(child), 0x10000)->paddr, kernel.find_pte(vspace(parent), 0x10000)->paddr);
  EXPECT_NE(kernel.find_pte(vspace(child), 0x12000)->paddr, kernel.find_pte(vspace(parent), 0x12000)->paddr);

  // Its own IPC buffer, never shared, in the mailbox with its VSpace.
  const AddressSpace* c = server->spaces().find(child);
  EXPECT_NE(kernel.find_pte(vspace(child), protocol::kIpcBufferVa)->paddr,
            kernel.find_pte(vspace(parent), protocol::kIpcBufferVa)->paddr);
  EXPECT_TRUE(kernel.same_object(FakeInvocations::kMailboxCNodeId, protocol::kMailboxVSpace,
                                 FakeInvocations::kSelfCNodeId, c->vspace.handle));
  EXPECT_TRUE(kernel.same_object(FakeInvocations::kMailboxCNodeId, protocol::kMailboxIpcBuffer,
                                 FakeInvocations::kSelfCNodeId, c->ipc_frame.handle));
  EXPECT_EQ(c->regions.heap_break(), VirtAddr(0x15000));

  EXPECT_EQ(procmgr(Label::Release, {child}).mr[0], 0u);
  EXPECT_EQ(pool->free_bytes(), free_before);
  EXPECT_EQ(load_byte(parent, 0x10000), ElfBuilder().build()[0]) << "text survives the child";
  EXPECT_EQ(procmgr(Label::Release, {parent}).mr[0], 0u);
  EXPECT_EQ(pool->free_bytes(), initial_free);
}

TEST_F(ForkTest, RollsBackAtEveryStep) {
  const uint64_t free_before = pool->free_bytes();
  for (uint64_t n = 1;; ++n) {
    kernel.fail_in(n);
    auto r = server->fork(parent);
    if (r) {
      kernel.fail_in(0);
      EXPECT_GT(n, 10u);
      ASSERT_TRUE(server->release(r->id));
      break;
    }
    EXPECT_EQ(r.error(), Errno::NoMemory) << "failing invocation " << n;
    ASSERT_EQ(server->spaces().count(), 1u) << n;
    ASSERT_EQ(pool->free_bytes(), free_before) << "failing invocation " << n;
    for (uint64_t va : written()) ASSERT_EQ(load_byte(parent, va), pattern(va)) << n;
  }
  EXPECT_EQ(pool->free_bytes(), free_before);
}

TEST_F(ForkTest, ForkExitCyclesLeakNothing) {
  const uint64_t free_before = pool->free_bytes();
  for (int i = 0; i < 1000; ++i) {
    const Response r = procmgr(Label::Fork, {parent});
    ASSERT_EQ(r.mr[0], 2u) << i;
    kernel.take_mailbox();  // procmgr binds the caps to the child's thread
    ASSERT_TRUE(store_byte(2, 0x14000 + i, uint8_t(i)));
    ASSERT_TRUE(store_byte(2, 0x11200 + i, 1)) << "data";
    ASSERT_EQ(procmgr(Label::Release, {2}).mr[0], 0u);
    ASSERT_EQ(pool->free_bytes(), free_before) << i;
  }
  EXPECT_EQ(kernel.procmgr_caps(), 0u) << "release revokes procmgr's copies";
}

TEST_F(ForkTest, UnknownParent) {
  EXPECT_EQ(procmgr(Label::Fork, {7}).mr[0], word(Errno::Invalid));
  EXPECT_EQ(procmgr(Label::Fork, {0}).mr[0], word(Errno::Invalid));
}

// ---- Release -------------------------------------------------------------------------

TEST_F(ServerTest, ReleaseFreesTheIdAndEverything) {
  put_default();
  EXPECT_EQ(load(), 1u);
  EXPECT_EQ(load(), 2u);
  kernel.take_mailbox();
  ASSERT_TRUE(store_byte(1, protocol::kStackTop - 5 * kPageSize, 9));
  EXPECT_EQ(procmgr(Label::Release, {1}).mr[0], 0u);
  EXPECT_EQ(procmgr(Label::Release, {1}).mr[0], word(Errno::Invalid));
  EXPECT_EQ(procmgr(Label::Release, {0}).mr[0], word(Errno::Invalid));
  EXPECT_EQ(procmgr(Label::Release, {~uint64_t{0}}).mr[0], word(Errno::Invalid));
  EXPECT_EQ(load(), 1u) << "ids are reused";
  EXPECT_EQ(procmgr(Label::Release, {1}).mr[0], 0u);
  EXPECT_EQ(procmgr(Label::Release, {2}).mr[0], 0u);
  EXPECT_EQ(pool->free_bytes(), initial_free);
  EXPECT_EQ(kernel.live_objects(uapi::ObjectType::VSpace), 1u);
  EXPECT_EQ(kernel.procmgr_caps(), 0u);
}

// ---- ReadUser ---------------------------------------------------------------------------

TEST_F(ServerTest, ReadUserCopiesMemoryAndZerosForUntouchedPages) {
  put_default();
  const uint64_t id = load();
  const std::vector<uint8_t> file = ElfBuilder().build();
  // Across the text page and into the data page, in the exchange area at 100.
  ASSERT_EQ(procmgr(Label::ReadUser, {id, 0x10100, 0x1000 + 0x194 - 0x100, 100}).mr[0], 0u);
  for (uint64_t i = 0; i < 0x90; ++i) ASSERT_EQ(exchange[100 + i], file[0x100 + i]);
  for (uint64_t i = 0x90; i < 0x1000 - 0x100 + 0x190; ++i) ASSERT_EQ(exchange[100 + i], 0) << i;
  for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ(exchange[100 + 0xf00 + 0x190 + i], file[0x190 + i]);
  // Heap pages never touched read as zeros.
  ASSERT_EQ(call(id, Label::Sbrk, {2 * kPageSize}).mr[0], 0x12000u);
  ASSERT_TRUE(store_byte(id, 0x13001, 0xab));
  std::memset(exchange.data(), 0xee, 2 * kPageSize);
  ASSERT_EQ(procmgr(Label::ReadUser, {id, 0x12000, 2 * kPageSize, 0}).mr[0], 0u);
  EXPECT_EQ(exchange[0], 0);
  EXPECT_EQ(exchange[kPageSize + 1], 0xab);
  EXPECT_EQ(kernel.mapped_pages(vspace(id)), 5u) << "reading maps nothing";
  // The argument strings at the top of the stack.
  ASSERT_EQ(procmgr(Label::ReadUser, {id, protocol::kStackTop - 7, 7, 0}).mr[0], 0u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(exchange.data()), 6), "HOME=/");
  // Nothing at all.
  EXPECT_EQ(procmgr(Label::ReadUser, {id, 0, 0, 0}).mr[0], 0u);
}

TEST_F(ServerTest, ReadUserRangeChecks) {
  put_default();
  const uint64_t id = load();
  const auto read = [&](uint64_t va, uint64_t length, uint64_t offset = 0) {
    return procmgr(Label::ReadUser, {id, va, length, offset}).mr[0];
  };
  EXPECT_EQ(read(0x0, 1), word(Errno::Fault));
  EXPECT_EQ(read(0xffff, 2), word(Errno::Fault));          // starts before the text
  EXPECT_EQ(read(0x11ff0, 0x20), word(Errno::Fault));      // runs past the data into the empty heap
  EXPECT_EQ(read(0x12000, 1), word(Errno::Fault));         // the heap above the break
  const uint64_t guard = protocol::kStackTop - protocol::kStackMax - kPageSize;
  EXPECT_EQ(read(guard + kPageSize - 1, 2), word(Errno::Fault));
  EXPECT_EQ(read(protocol::kStackTop - 1, 2), word(Errno::Fault));
  EXPECT_EQ(read(protocol::kIpcBufferVa, 8), word(Errno::Fault)) << "the IPC buffer is in no region";
  EXPECT_EQ(read(~uint64_t{0} - 4, 10), word(Errno::Fault));  // wraps
  EXPECT_EQ(read(0x10000, 1, protocol::kExchangeBytes), word(Errno::Invalid));
  EXPECT_EQ(read(0x10000, 2, protocol::kExchangeBytes - 1), word(Errno::Invalid));
  EXPECT_EQ(read(0x10000, protocol::kExchangeBytes + 1), word(Errno::Invalid));
  EXPECT_EQ(read(0x10000, 1, ~uint64_t{0}), word(Errno::Invalid));
  EXPECT_EQ(read(0x10000, 1, protocol::kExchangeBytes - 1), 0u);
  // A whole exchange area of stack, untouched pages as zeros.
  EXPECT_EQ(read(protocol::kStackTop - protocol::kExchangeBytes, protocol::kExchangeBytes), 0u);
  EXPECT_EQ(exchange[0], 0);
  EXPECT_EQ(procmgr(Label::ReadUser, {9, 0x10000, 1, 0}).mr[0], word(Errno::Invalid));
}

// ---- Sbrk ------------------------------------------------------------------------------

TEST_F(ServerTest, SbrkGrowsAndShrinksTheHeap) {
  put_default();
  const uint64_t id = load();
  EXPECT_EQ(call(id, Label::Sbrk, {0}).mr[0], 0x12000u);
  EXPECT_EQ(call(id, Label::Sbrk, {100}).mr[0], 0x12000u);
  EXPECT_EQ(call(id, Label::Sbrk, {3 * kPageSize}).mr[0], 0x12064u);
  for (uint64_t va = 0x12000; va < 0x15064; va += kPageSize) ASSERT_TRUE(store_byte(id, va, 7));
  const uint64_t free_full = pool->free_bytes();
  // Shrink by two pages and a bit: the pages above the new break go.
  EXPECT_EQ(call(id, Label::Sbrk, {uint64_t(-int64_t(2 * kPageSize + 0x70))}).mr[0], 0x15064u);
  EXPECT_EQ(pool->free_bytes(), free_full + 3 * kPageSize);
  EXPECT_FALSE(store_byte(id, 0x14000, 1)) << "above the break";
  EXPECT_EQ(sink.reports.back().signal, uint64_t(procmgr::protocol::kSigSegv));
  EXPECT_EQ(load_byte(id, 0x12000), 7);
  // Below the heap's start, beyond its maximum.
  EXPECT_EQ(call(id, Label::Sbrk, {uint64_t(-int64_t(0x10000))}).mr[0], word(Errno::NoMemory));
  EXPECT_EQ(call(id, Label::Sbrk, {protocol::kHeapMax}).mr[0], word(Errno::NoMemory));
  EXPECT_EQ(call(id, Label::Sbrk, {uint64_t(INT64_MIN)}).mr[0], word(Errno::NoMemory));
  EXPECT_EQ(call(id, Label::Sbrk, {0}).mr[0], 0x12ff4u);
  ASSERT_TRUE(server->release(id));
  EXPECT_EQ(pool->free_bytes(), initial_free);
}

TEST_F(ServerTest, SbrkOnlyFromAProcess) {
  put_default();
  load();
  EXPECT_EQ(call(msg::kProcmgrBadge, Label::Sbrk, {0}).mr[0], word(Errno::NotPermitted));
  EXPECT_EQ(call(2, Label::Sbrk, {0}).mr[0], word(Errno::NotPermitted));
  EXPECT_EQ(call(0, Label::Sbrk, {0}).mr[0], word(Errno::NotPermitted));
  EXPECT_EQ(call(1, Label::Sbrk, {}).mr[0], word(Errno::Invalid));
}

TEST_F(ServerTest, SixteenMegabytesOfHeapFitTheTablePoolMoreIsKilled) {
  put_default();
  const uint64_t id = load();
  ASSERT_EQ(call(id, Label::Sbrk, {24 << 20}).mr[0], 0x12000u);
  // One page in every 2 MiB of the first 16 MiB of heap: a page table each.
  uint64_t va = 0x12000;
  for (; va < 0x12000 + (16 << 20); va += 2 << 20) ASSERT_TRUE(store_byte(id, va, 1)) << va;
  // Beyond: the table pool is spent (16 tables), the fault cannot be
  // resolved and the process is killed.
  bool killed = false;
  for (; va < 0x12000 + (24 << 20) && !killed; va += 2 << 20) killed = !store_byte(id, va, 1);
  ASSERT_TRUE(killed);
  EXPECT_EQ(sink.reports.back().signal, uint64_t(procmgr::protocol::kSigKill));
  ASSERT_TRUE(server->release(id));
  EXPECT_EQ(pool->free_bytes(), initial_free);
}

// ---- Faults ------------------------------------------------------------------------------

TEST_F(ServerTest, FaultsOutsideRegionsAreReportedNotAnswered) {
  put_default();
  const uint64_t id = load();
  EXPECT_FALSE(fault(id, 0x5000, Access::Read));
  ASSERT_EQ(sink.reports.size(), 1u);
  EXPECT_EQ(sink.reports[0], (FaultReport{id, uint64_t(procmgr::protocol::kSigSegv), kPc, 0x5000}));
  EXPECT_FALSE(fault(id, 0x10000, Access::Write)) << "text is not writable";
  EXPECT_FALSE(fault(id, protocol::kStackTop - protocol::kStackMax - 8, Access::Write)) << "guard page";
  EXPECT_FALSE(fault(id, uint64_t{1} << 45, Access::Read)) << "beyond the user half";
  EXPECT_FALSE(fault(id, 0x11000, Access(9))) << "a malformed access";
  EXPECT_EQ(sink.reports.size(), 5u);
  EXPECT_TRUE(fault(id, 0x11000, Access::Read)) << "a spurious fault resumes";
  EXPECT_EQ(sink.reports.size(), 5u);
}

TEST_F(ServerTest, ABadPageTouchedByTheBufferProbeResumesAtItsEfaultExit) {
  put_default();
  const uint64_t id = load();
  const auto page_fault = [&](uint64_t pc, uint64_t va, Access access) {
    return call(protocol::kFaultBit | id, Label(uapi::FaultLabel::PageFault), {pc, va, uint64_t(access)});
  };
  // Inside the probe: answered with the new pc, no report, no signal.
  for (uint64_t pc : {protocol::kProbeVa, protocol::kProbeVa + protocol::kProbeRecover - 2}) {
    const Response r = page_fault(pc, 0x5000, Access::Write);
    EXPECT_TRUE(r.send);
    ASSERT_EQ(r.length, 1u);
    EXPECT_EQ(r.mr[0], protocol::kProbeVa + protocol::kProbeRecover);
  }
  EXPECT_TRUE(sink.reports.empty());
  EXPECT_EQ(server->probe_faults(), 2u);
  // The same bad access from anywhere else (the recovery code itself
  // included) is a segfault.
  EXPECT_FALSE(page_fault(protocol::kProbeVa + protocol::kProbeRecover, 0x5000, Access::Write).send);
  EXPECT_FALSE(page_fault(kPc, 0x5000, Access::Write).send);
  EXPECT_EQ(sink.reports.size(), 2u);
  // A probe of a good page is an ordinary fault: zero filled and resumed
  // where it was.
  const Response ok = page_fault(protocol::kProbeVa + 4, protocol::kStackTop - kPageSize, Access::Write);
  EXPECT_TRUE(ok.send);
  EXPECT_EQ(ok.length, 0u);
}

TEST_F(ServerTest, OtherFaultsGetTheirSignals) {
  put_default();
  const uint64_t id = load();
  using uapi::FaultLabel;
  const auto fault_of = [&](FaultLabel label, std::vector<uint64_t> words) {
    return call(protocol::kFaultBit | id, Label(label), words).send;
  };
  EXPECT_FALSE(fault_of(FaultLabel::Exception, {0x10010, 2, 0x13}));
  EXPECT_FALSE(fault_of(FaultLabel::Exception, {0x10014, 4, 0x11003}));
  EXPECT_FALSE(fault_of(FaultLabel::UnknownSyscall, {0x10018, 999, 0, 0, 0, 0}));
  EXPECT_FALSE(fault_of(FaultLabel::PageFault, {0x10018}));  // short: malformed
  EXPECT_FALSE(fault_of(FaultLabel(77), {0x1001c, 0, 0}));
  using procmgr::protocol::kSigIll, procmgr::protocol::kSigSegv;
  ASSERT_EQ(sink.reports.size(), 5u);
  EXPECT_EQ(sink.reports[0], (FaultReport{id, uint64_t(kSigIll), 0x10010, 0x13}));
  EXPECT_EQ(sink.reports[1], (FaultReport{id, uint64_t(kSigSegv), 0x10014, 0x11003}));
  EXPECT_EQ(sink.reports[2], (FaultReport{id, uint64_t(kSigIll), 0x10018, 0}));
  EXPECT_EQ(sink.reports[3].signal, uint64_t(kSigSegv));
  EXPECT_EQ(sink.reports[4].signal, uint64_t(kSigSegv));
}

TEST_F(ServerTest, AFaultWithoutMemoryKills) {
  put_default();
  const uint64_t id = load();
  std::vector<FrameRef> hog;
  while (auto f = pool->alloc_frame()) hog.push_back(*f);
  EXPECT_FALSE(store_byte(id, protocol::kStackTop - 2 * kPageSize, 1));
  ASSERT_FALSE(sink.reports.empty());
  EXPECT_EQ(sink.reports.back().signal, uint64_t(procmgr::protocol::kSigKill));
  for (FrameRef f : hog) pool->free_frame(f);
  EXPECT_TRUE(store_byte(id, protocol::kStackTop - 2 * kPageSize, 1));
}

TEST_F(ServerTest, FaultsOfUnknownSpacesAreDropped) {
  EXPECT_FALSE(fault(3, 0x10000, Access::Read));
  EXPECT_FALSE(fault(0, 0x10000, Access::Read));
  EXPECT_TRUE(sink.reports.empty());
}

// ---- Dispatch -----------------------------------------------------------------------------

TEST_F(ServerTest, OnlyProcmgrManagesAddressSpaces) {
  put_default();
  for (Label l : {Label::Load, Label::Fork, Label::Release, Label::ReadUser}) {
    EXPECT_EQ(call(1, l, {0, 0, 0, 0}).mr[0], word(Errno::NotPermitted));
    EXPECT_EQ(call(msg::kPagerBadge, l, {0, 0, 0, 0}).mr[0], word(Errno::NotPermitted));
  }
  EXPECT_EQ(server->spaces().count(), 0u);
}

TEST_F(ServerTest, ShortAndUnknownMessages) {
  put_default();
  EXPECT_EQ(procmgr(Label::Load, {image_size, kBlockOffset}).mr[0], word(Errno::Invalid));
  EXPECT_EQ(procmgr(Label::Fork, {}).mr[0], word(Errno::Invalid));
  EXPECT_EQ(procmgr(Label::Release, {}).mr[0], word(Errno::Invalid));
  EXPECT_EQ(procmgr(Label::ReadUser, {1, 2, 3}).mr[0], word(Errno::Invalid));
  EXPECT_EQ(procmgr(Label::Ping, {}).mr[0], word(Errno::Invalid));
  EXPECT_EQ(procmgr(Label(0), {}).mr[0], word(Errno::NoSys));
  EXPECT_EQ(procmgr(Label(99), {1, 2}).mr[0], word(Errno::NoSys));
  EXPECT_EQ(call(5, Label(11), {}).mr[0], word(Errno::NoSys));
  EXPECT_EQ(call(5, Label::SetPolicy, {1, 0}).mr[0], word(Errno::NotPermitted));
  const Response ping = call(12345, Label::Ping, {0x70696e67});
  EXPECT_TRUE(ping.send);
  EXPECT_EQ(ping.length, 1u);
  EXPECT_EQ(ping.mr[0], 0x70696e67u);
}

TEST_F(ServerTest, MemInfoIsExactForAnyone) {
  const Response r = call(42, Label::MemInfo, {});
  ASSERT_EQ(r.length, 2u);
  EXPECT_EQ(r.mr[0], initial_free);
  EXPECT_EQ(r.mr[1], uint64_t{1} << kPoolBits);
  put_default();
  const uint64_t id = load();
  // A chunk for the VSpace, frames for the IPC buffer, the region set, two
  // image pages and the stack page.
  EXPECT_EQ(call(id, Label::MemInfo, {}).mr[0], initial_free - MemoryPool::kChunkSize - 5 * kPageSize);
}

}  // namespace
}  // namespace pager
