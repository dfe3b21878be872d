#include "procmgr/stats.h"

namespace procmgr {

std::optional<uint64_t> user_instructions(std::span<const uint64_t> counters) {
  if (counters.size() <= kKernelInstructionsWord) return std::nullopt;
  const uint64_t all = counters[kInstructionsWord];
  const uint64_t kernel = counters[kKernelInstructionsWord];
  if (kernel > all) return std::nullopt;
  return all - kernel;
}

std::optional<SystemCounters> system_counters(std::span<const uint64_t> reply) {
  if (reply.size() < 2) return std::nullopt;
  return SystemCounters{reply[0], reply[1]};
}

std::optional<protocol::StatsGroup> stats_group(uint64_t word) {
  if (word >= protocol::kStatsGroups) return std::nullopt;
  return static_cast<protocol::StatsGroup>(word);
}

}  // namespace procmgr
