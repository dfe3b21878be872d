// The ABI shared by the kernel and libos (microkernel/include/abi): message
// marshalling (the message-info word), the generated tables, and the
// layouts docs/kernel.md documents. A change here is a change to every
// program built against the kernel, so the tests pin it.
#include "abi/abi.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <set>
#include <string>

#include "result.h"

namespace {

using uapi::Label;
using uapi::MessageInfo;
using uapi::ObjectType;

TEST(MessageInfo, FieldsRoundTripAndDoNotOverlap) {
  const MessageInfo info = MessageInfo::make(0x1234'5678'9abc, 64, 3);
  EXPECT_EQ(info.label(), 0x1234'5678'9abcu);
  EXPECT_EQ(info.length(), 64u);
  EXPECT_EQ(info.extra_caps(), 3u);
  EXPECT_EQ(info.unwrapped(), 0u);
  EXPECT_FALSE(info.is_error());
  // Each field alone sets only its own bits.
  EXPECT_EQ(MessageInfo::make(0, 127).raw, 0x7fu);
  EXPECT_EQ(MessageInfo::make(0, 0, 3).raw, 0x3u << 7);
  EXPECT_EQ(MessageInfo::make(1, 0).raw, uint64_t{1} << 13);
  EXPECT_EQ(MessageInfo::make((uint64_t{1} << 51) - 1, 0).label(), (uint64_t{1} << 51) - 1);
  // Out-of-range values are cut to their field, never spill into another.
  EXPECT_EQ(MessageInfo::make(0, 128).length(), 0u);
  EXPECT_EQ(MessageInfo::make(0, 128).label(), 0u);
  EXPECT_EQ(MessageInfo::make(0, 0, 4).extra_caps(), 0u);
  EXPECT_EQ(MessageInfo::make(0, 0, 4).length(), 0u);
}

TEST(MessageInfo, KernelErrors) {
  const MessageInfo e = MessageInfo::error(uapi::Error::NotEnoughMemory);
  EXPECT_TRUE(e.is_error());
  EXPECT_EQ(e.label(), static_cast<uint64_t>(uapi::Error::NotEnoughMemory));
  EXPECT_EQ(e.length(), 0u);
  EXPECT_EQ(e.raw, (uint64_t{1} << 12) | (uint64_t{9} << 13));
  // A message from a thread with the same label is not an error.
  EXPECT_FALSE(MessageInfo::make(9, 0).is_error());
}

TEST(Tables, NumbersAreUniqueAndLabelsBelongToObjects) {
  std::set<uint64_t> syscalls;
#define X(name, number) EXPECT_TRUE(syscalls.insert(number).second) << #name;
#include "abi/syscalls.def"
#undef X
  std::set<uint64_t> types;
#define X(name, number, size_bits) EXPECT_TRUE(types.insert(number).second) << #name;
#include "abi/object_types.def"
#undef X
  std::set<uint64_t> labels;
#define X(name, number, type)                                                   \
  EXPECT_TRUE(labels.insert(number).second) << #name;                           \
  EXPECT_EQ(uapi::label_object(Label::name), ObjectType::type) << #name;        \
  EXPECT_NE(uapi::label_object(Label::name), ObjectType::Null) << #name;
#include "abi/invocations.def"
#undef X
  EXPECT_EQ(uapi::label_object(static_cast<Label>(9999)), ObjectType::Null);
  EXPECT_EQ(labels.count(0), 0u);  // label 0 is "success" in replies
}

TEST(Tables, ErrorsAgreeBetweenKernelAndUserSpace) {
  std::set<uint64_t> numbers;
#define X(name, number, text)                                                               \
  EXPECT_TRUE(numbers.insert(number).second) << #name;                                      \
  EXPECT_EQ(static_cast<uint64_t>(uapi::Error::name), static_cast<uint64_t>(kern::Error::name)); \
  EXPECT_EQ(std::string(kern::error_name(kern::Error::name)), #name);
#include "abi/errors.def"
#undef X
  EXPECT_EQ(numbers.count(0), 0u);  // 0 is Ok
  EXPECT_EQ(static_cast<uint64_t>(uapi::Error::Ok), 0u);
}

TEST(Tables, ObjectSizes) {
  EXPECT_EQ(uapi::object_size_bits(ObjectType::Tcb), 10u);
  EXPECT_EQ(uapi::object_size_bits(ObjectType::Endpoint), 5u);
  EXPECT_EQ(uapi::object_size_bits(ObjectType::Notification), 5u);
  EXPECT_EQ(uapi::object_size_bits(ObjectType::VSpace), 13u);  // root table + metadata page
  EXPECT_EQ(uapi::object_size_bits(ObjectType::Frame), 12u);
  EXPECT_EQ(uapi::object_size_bits(ObjectType::Reply), 5u);
  EXPECT_EQ(uapi::object_size_bits(ObjectType::Untyped), 0u);  // chosen at retype
  EXPECT_EQ(uapi::object_size_bits(ObjectType::CNode), 0u);
}

// The numbers docs/kernel.md gives for system calls and object types: a
// program built against an older list must keep working.
TEST(Tables, PinnedNumbers) {
  using uapi::Syscall;
  EXPECT_EQ(static_cast<uint64_t>(Syscall::Call), 1u);
  EXPECT_EQ(static_cast<uint64_t>(Syscall::ReplyRecv), 2u);
  EXPECT_EQ(static_cast<uint64_t>(Syscall::Send), 3u);
  EXPECT_EQ(static_cast<uint64_t>(Syscall::NBSend), 4u);
  EXPECT_EQ(static_cast<uint64_t>(Syscall::Recv), 5u);
  EXPECT_EQ(static_cast<uint64_t>(Syscall::NBRecv), 6u);
  EXPECT_EQ(static_cast<uint64_t>(Syscall::Reply), 7u);
  EXPECT_EQ(static_cast<uint64_t>(Syscall::Yield), 8u);
  EXPECT_EQ(static_cast<uint64_t>(Syscall::DebugPutChar), 9u);
  EXPECT_EQ(static_cast<uint64_t>(Syscall::DebugCheckInvariants), 10u);
  EXPECT_EQ(static_cast<uint64_t>(Syscall::Null), 11u);
  EXPECT_EQ(static_cast<uint64_t>(Syscall::SaveReply), 12u);
  EXPECT_EQ(static_cast<uint64_t>(ObjectType::Untyped), 1u);
  EXPECT_EQ(static_cast<uint64_t>(ObjectType::CNode), 2u);
  EXPECT_EQ(static_cast<uint64_t>(ObjectType::Tcb), 3u);
  EXPECT_EQ(static_cast<uint64_t>(ObjectType::Endpoint), 4u);
  EXPECT_EQ(static_cast<uint64_t>(ObjectType::Notification), 5u);
  EXPECT_EQ(static_cast<uint64_t>(ObjectType::VSpace), 6u);
  EXPECT_EQ(static_cast<uint64_t>(ObjectType::Frame), 7u);
  EXPECT_EQ(static_cast<uint64_t>(ObjectType::IrqControl), 8u);
  EXPECT_EQ(static_cast<uint64_t>(ObjectType::IrqHandler), 9u);
  EXPECT_EQ(static_cast<uint64_t>(ObjectType::SystemControl), 10u);
  EXPECT_EQ(static_cast<uint64_t>(ObjectType::Reply), 11u);
}

// VSpaceScan's label, flags and reply size, as the pager was written against.
TEST(Tables, PinnedScan) {
  EXPECT_EQ(static_cast<uint64_t>(Label::VSpaceScan), 38u);
  EXPECT_EQ(static_cast<uint64_t>(uapi::ScanFlag::Unmap), 1u);
  EXPECT_EQ(static_cast<uint64_t>(uapi::ScanFlag::ReportAddresses), 2u);
  EXPECT_EQ(uapi::kScanMaxReport, 60u);
}

// The counters' words and SystemReadCounters' label, as procmgr's Stats reads them.
TEST(Tables, PinnedCounters) {
  EXPECT_EQ(static_cast<uint64_t>(Label::SystemReadCounters), 51u);
  EXPECT_EQ(static_cast<size_t>(uapi::Counter::Instructions), 5u);
  EXPECT_EQ(static_cast<size_t>(uapi::Counter::KernelInstructions), 7u);
  EXPECT_EQ(static_cast<size_t>(uapi::Counter::Count), 8u);
}

TEST(Layouts, IpcBufferAndBootInfoAsDocumented) {
  EXPECT_EQ(offsetof(uapi::IpcBuffer, mr), 0u);
  EXPECT_EQ(offsetof(uapi::IpcBuffer, caps), 8u * uapi::kMaxMessageLength);
  EXPECT_EQ(offsetof(uapi::IpcBuffer, receive_slot), offsetof(uapi::IpcBuffer, caps) + 8 * uapi::kMaxExtraCaps);
  EXPECT_EQ(offsetof(uapi::IpcBuffer, user_data), offsetof(uapi::IpcBuffer, receive_slot) + 8);
  EXPECT_LE(sizeof(uapi::BootInfo), 4096u);
  EXPECT_EQ(offsetof(uapi::BootInfo, magic), 0u);
  EXPECT_EQ(offsetof(uapi::BootInfo, irq_sources), 1664u);
  EXPECT_EQ(offsetof(uapi::BootInfo, bootargs), 1688u);
  EXPECT_EQ(sizeof(uapi::UntypedDesc), 16u);
  EXPECT_EQ(uapi::kBootInfoMagic, 0x6f666e69746f6f62u);  // "bootinfo", little endian
}

TEST(Rights, SetOperations) {
  using uapi::Rights;
  EXPECT_TRUE(uapi::has(Rights::All, Rights::Read | Rights::Write));
  EXPECT_FALSE(uapi::has(Rights::Read, Rights::Write));
  EXPECT_TRUE(uapi::has(Rights::Read, Rights::None));
  EXPECT_EQ(static_cast<uint8_t>(Rights::All), 7u);
}

}  // namespace
