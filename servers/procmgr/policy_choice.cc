#include "procmgr/policy_choice.h"

namespace procmgr {

std::optional<PolicyName> PolicyName::from(std::string_view text) {
  if (text.size() > sizeof(bytes) || text.find('\0') != std::string_view::npos) return std::nullopt;
  PolicyName n;
  for (size_t i = 0; i < text.size(); ++i) n.bytes[i] = text[i];
  n.length = text.size();
  return n;
}

PolicyChoice choose_policy(PolicyNames& pager, std::string_view wanted) {
  PolicyChoice choice;
  auto append = [&](std::string_view name) {
    if (choice.registered_length != 0 && choice.registered_length < PolicyChoice::kListMax) {
      choice.registered[choice.registered_length++] = ' ';
    }
    for (char c : name) {
      if (choice.registered_length == PolicyChoice::kListMax) break;
      choice.registered[choice.registered_length++] = c;
    }
  };
  std::optional<uint32_t> found;
  PolicyName found_name, first;
  for (uint64_t index = 0; index < kMaxPolicies; ++index) {
    const posix::Result<PolicyName> name = pager.name(index);
    if (!name) {
      if (name.error() != posix::Errno::NoEntry) choice.error = name.error();
      break;
    }
    ++choice.count;
    append(name->view());
    if (index == 0) first = *name;
    if (!found && !wanted.empty() && name->view() == wanted) {
      found = static_cast<uint32_t>(index);
      found_name = *name;
    }
  }
  // A pager that cannot be asked keeps its default, and so does a name
  // that is not registered.
  if (choice.error) {
    choice.matched = wanted.empty();
    return choice;
  }
  choice.matched = wanted.empty() || found.has_value();
  choice.index = found.value_or(0);
  choice.name = found ? found_name : first;
  return choice;
}

}  // namespace procmgr
