// procmgr's answer to Stats (protocol.h): the messages it counts as it
// serves, and the instructions retired since boot, split by who retired
// them. The server reads the kernel's counters (SystemReadCounters for the
// kernel's share and the hart's total, TcbReadCounters for each server
// thread) and this file turns what the kernel answered into the group's
// words, so the layout of both the kernel's replies and procmgr's is
// decided, and host-tested, in one place.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "abi/abi.h"
#include "procmgr/protocol.h"

namespace procmgr {

using StatsWords = std::array<uint64_t, protocol::kStatsWords>;

// The Messages group, counted where procmgr receives and calls.
struct MessageCounts {
  uint64_t from_processes = 0;  // requests with a pid badge, any label
  uint64_t calls_to_pager = 0;  // Calls on the pager's endpoint
  uint64_t calls_to_vfs = 0;    // Calls on vfs's endpoint
  uint64_t fault_reports = 0;   // Fault requests from the pager's helper
  uint64_t forks = 0;           // forks that made a child

  StatsWords words() const { return {from_processes, calls_to_pager, calls_to_vfs, fault_reports, forks}; }
};

// Where the instruction counts are in TcbReadCounters' reply (uapi::Counter
// order): all the thread's instructions, and the part retired in S-mode.
inline constexpr size_t kInstructionsWord = static_cast<size_t>(uapi::Counter::Instructions);
inline constexpr size_t kKernelInstructionsWord = static_cast<size_t>(uapi::Counter::KernelInstructions);

// A thread's instructions in user mode, from its TcbReadCounters reply:
// all its instructions less those retired in the kernel on its behalf.
// nullopt when the reply has no KernelInstructions word (a kernel that does
// not count it) or the two disagree (kernel above total).
std::optional<uint64_t> user_instructions(std::span<const uint64_t> counters);

// SystemReadCounters' reply: mr0 = instructions retired in S-mode since
// boot, mr1 = the hart's instret now.
struct SystemCounters {
  uint64_t kernel_instructions;
  uint64_t instret;
};
std::optional<SystemCounters> system_counters(std::span<const uint64_t> reply);

// The Instructions group.
struct InstructionCounts {
  uint64_t kernel = 0;   // S-mode, on behalf of any thread
  uint64_t procmgr = 0;  // user mode, procmgr's threads
  uint64_t pager = 0;    // user mode, the pager's main thread and helper
  uint64_t vfs = 0;      // user mode, vfs's main thread and console thread
  uint64_t total = 0;    // the hart's instret

  StatsWords words() const { return {kernel, procmgr, pager, vfs, total}; }
};

// mr0 of a Stats request as a group; nullopt for an unknown one.
std::optional<protocol::StatsGroup> stats_group(uint64_t word);

}  // namespace procmgr
