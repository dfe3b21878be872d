// Choosing the pager policy at boot. The pager numbers its policies from 0
// in registration order and names one per PolicyName request
// (pager/protocol.h); nothing lists them in one answer. procmgr turns the
// bootarg pager.policy=NAME into an index by asking 0, 1, ... until a name
// matches or the pager answers that no policy has that index, and keeps
// every name it heard for the boot log (or for the message saying NAME is
// not one of them).
//
// Pure logic: the question to the pager is a parameter (PolicyNames), so
// the host tests hand it a fake pager.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/posix_errno.h"
#include "pager/protocol.h"

namespace procmgr {

// Policy indices travel in 8 bits (ProcInfo's mr2): at most 256 policies
// are asked for.
inline constexpr uint64_t kMaxPolicies = 256;

// One policy's name, at most pager::protocol::kPolicyNameMax bytes.
struct PolicyName {
  char bytes[pager::protocol::kPolicyNameMax] = {};
  size_t length = 0;

  std::string_view view() const { return {bytes, length}; }
  // Too long names and names holding a NUL are no names: nullopt.
  static std::optional<PolicyName> from(std::string_view text);
};

// Who answers for the pager: the name of the policy under `index`, or
// NoEntry past the last one, or another errno when the pager cannot be
// asked (a pager without PolicyName answers NoSys).
class PolicyNames {
 public:
  virtual posix::Result<PolicyName> name(uint64_t index) = 0;

 protected:
  ~PolicyNames() = default;
};

// What choose_policy found.
struct PolicyChoice {
  // The policy to use: the one called `wanted`, else 0 (the pager's default).
  uint32_t index = 0;
  // Its name; empty when the pager named none.
  PolicyName name;
  // False when a name was wanted and no policy has it (index 0 kept).
  bool matched = true;
  // Set when the pager could not be asked (its errno): index 0 kept.
  std::optional<posix::Errno> error;
  // Every name the pager gave, in index order, separated by spaces (cut
  // at kListMax bytes).
  static constexpr size_t kListMax = 160;
  char registered[kListMax + 1] = {};
  size_t registered_length = 0;
  uint32_t count = 0;  // how many policies the pager named

  std::string_view registered_list() const { return {registered, registered_length}; }
};

// The policy called `wanted` (empty: the default, index 0), asking `pager`
// for every name from index 0 until NoEntry or kMaxPolicies.
PolicyChoice choose_policy(PolicyNames& pager, std::string_view wanted);

}  // namespace procmgr
