// Faults the pager cannot resolve, and how they reach procmgr. The main
// thread decides (the signal below) but must never call procmgr itself:
// procmgr may at that moment be blocked in a Call to the pager, and the two
// would wait for each other. So it puts a FaultReport into a FaultRing and
// signals a notification; the pager's helper thread takes the reports out
// and Calls procmgr (procmgr::protocol::Label::Fault) with each.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "abi/abi.h"
#include "policy.h"
#include "procmgr/protocol.h"

namespace pager {

// What procmgr is told: the address space, the signal to kill its process
// with, where it happened.
struct FaultReport {
  uint64_t id = 0;
  uint64_t signal = 0;
  uint64_t pc = 0;
  uint64_t address = 0;
  constexpr bool operator==(const FaultReport&) const = default;
};

// scause of an illegal instruction (the RISC-V privileged spec).
inline constexpr uint64_t kScauseIllegalInstruction = 2;

// The signal for a page fault the policy answered with `resolution` (or
// failed on): 0 when the thread can resume, SIGSEGV for an access outside
// the process's regions, SIGKILL when the fault could not be resolved (no
// memory for a page or a page table, or an unexpected kernel error: the
// process cannot continue either way).
constexpr uint64_t page_fault_signal(const Result<FaultResolution>& resolution) {
  if (!resolution) return procmgr::protocol::kSigKill;
  return *resolution == FaultResolution::Segfault ? procmgr::protocol::kSigSegv : 0;
}

// The signal for any other fault: SIGILL for an unknown system call and an
// illegal instruction, SIGSEGV for every other exception (misaligned or
// access faults, breakpoints) and for a label the kernel does not send.
constexpr uint64_t fault_signal(uapi::FaultLabel label, uint64_t scause) {
  switch (label) {
    case uapi::FaultLabel::UnknownSyscall: return procmgr::protocol::kSigIll;
    case uapi::FaultLabel::Exception:
      return scause == kScauseIllegalInstruction ? procmgr::protocol::kSigIll : procmgr::protocol::kSigSegv;
    case uapi::FaultLabel::PageFault: break;
  }
  return procmgr::protocol::kSigSegv;
}

// A single-producer, single-consumer queue of reports between the two
// threads of the pager (no lock: the producer writes only m_head, the
// consumer only m_tail; acquire/release order the slots against them).
// Capacity is a power of two.
template <size_t Capacity>
class FaultRing {
  static_assert(Capacity > 0 && (Capacity & (Capacity - 1)) == 0);

 public:
  // False when full: the report is dropped (the caller logs it).
  bool push(const FaultReport& report) {
    const uint64_t head = __atomic_load_n(&m_head, __ATOMIC_RELAXED);
    const uint64_t tail = __atomic_load_n(&m_tail, __ATOMIC_ACQUIRE);
    if (head - tail == Capacity) return false;
    m_slots[head % Capacity] = report;
    __atomic_store_n(&m_head, head + 1, __ATOMIC_RELEASE);
    return true;
  }

  std::optional<FaultReport> pop() {
    const uint64_t tail = __atomic_load_n(&m_tail, __ATOMIC_RELAXED);
    const uint64_t head = __atomic_load_n(&m_head, __ATOMIC_ACQUIRE);
    if (head == tail) return std::nullopt;
    const FaultReport report = m_slots[tail % Capacity];
    __atomic_store_n(&m_tail, tail + 1, __ATOMIC_RELEASE);
    return report;
  }

  size_t size() const { return __atomic_load_n(&m_head, __ATOMIC_ACQUIRE) - __atomic_load_n(&m_tail, __ATOMIC_ACQUIRE); }

 private:
  FaultReport m_slots[Capacity] = {};
  uint64_t m_head = 0;  // written by the producer
  uint64_t m_tail = 0;  // written by the consumer
};

}  // namespace pager
