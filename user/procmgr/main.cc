// procmgr, the process manager, run as the root task. It boots the system
// (issue 4, item 1): grows its own CSpace, starts the pager and vfs from the
// boot archive, each in its own CSpace and VSpace with only the capabilities
// servers/common/boot_caps.h lists, pings each, starts init as pid 1
// (bootargs init=PATH chooses another program, init.args=a,b its extra
// arguments, pager.policy=NAME the pager policy it and so every process
// starts with), and then serves the process protocol of
// servers/procmgr/protocol.h (processes.cc). With bootargs "procmgr.exit" it
// powers off once the servers are up (a system test of the boot alone).
//
// Every object comes from procmgr's own RAM Untyped (resources.cc) or, for
// those that grow with memory, from the RAM Untypeds it then gives the
// pager (servers.cc), carved in procmgr's own CNode and then copied, minted or moved into a server's or a
// process's CNode: the kernel looks up a cptr only in the caller's CSpace.
#include <cstdint>
#include <optional>
#include <span>

#include "lib/bootargs.h"
#include "lib/cpio.h"
#include "os/boot_info.h"
#include "os/kernel.h"
#include "os/print.h"
#include "processes.h"
#include "resources.h"
#include "servers.h"

namespace {

using uapi::BootSlot;
using uapi::ObjectType;

// The value of bootarg `name` as a NUL-terminated string in `out`, or
// `fallback` when it is absent.
const char* bootarg_string(const char* bootargs, const char* name, char* out, size_t size, const char* fallback) {
  const auto value = kern::bootarg(bootargs, name);
  if (!value || value->empty()) return fallback;
  if (value->size() >= size) {
    os::print("procmgr: bootarg {} is longer than {} characters: ignored\n", name, size - 1);
    return fallback;
  }
  for (size_t i = 0; i < value->size(); ++i) out[i] = (*value)[i];
  out[value->size()] = '\0';
  return out;
}

// procmgr's own memory holds its 2 MiB CSpace, the exchange area (1 MiB),
// the servers' images, stacks and threads, its heap and each process's
// 2 KiB chunk and Reply object: about 5 MiB at boot, whatever the memory
// size (what grows with memory is carved elsewhere, servers.cc), and what is
// left is room for processes. 8 MiB Untypeds exist at every size the tests use.
constexpr unsigned kOwnBits = 23;

std::optional<os::UntypedChoice> own_untyped(const uapi::BootInfo& info) {
  std::optional<os::UntypedChoice> best;
  for (uint64_t i = 0; i < info.untyped.count; ++i) {
    const uapi::UntypedDesc& u = info.untyped_list[i];
    if (u.device || u.size_bits < kOwnBits) continue;
    if (!best || u.size_bits < best->size_bits) best = os::UntypedChoice{info.untyped.first + i, u.size_bits};
  }
  return best ? best : os::largest_ram_untyped(info);
}

}  // namespace

int main(uint64_t boot_info_address) {
  const auto& info = *reinterpret_cast<const uapi::BootInfo*>(boot_info_address);
  os::set_ipc_buffer(reinterpret_cast<uapi::IpcBuffer*>(info.ipc_buffer));
  if (info.magic != uapi::kBootInfoMagic) {
    os::print("procmgr: bad boot info magic\n");
    return 1;
  }
  os::print("procmgr: starting, archive {} bytes\n", info.archive_size);
  const uint64_t system_control = static_cast<uint64_t>(BootSlot::SystemControl);
  const bool exit_when_up = kern::bootarg(info.bootargs, "procmgr.exit").has_value();
  auto fail = [&]() {
    os::print("procmgr: boot failed\n");
    (void)os::system_shutdown(system_control, 1);
    return 1;
  };

  // procmgr keeps one RAM Untyped for its own objects (servers.cc gives
  // the pager all the others): the smallest of at least kOwnBits, or the
  // largest if none is that big.
  const auto own = own_untyped(info);
  if (!own) {
    os::print("procmgr: no RAM Untyped\n");
    return fail();
  }
  if (const auto grown = procmgr::grow_cspace(info, own->slot); !grown) {
    os::print("procmgr: growing the CSpace failed: {}\n", kern::error_name(grown.error()));
    return fail();
  }
  auto archive = kern::cpio::Archive::parse(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(info.archive_va), info.archive_size));
  if (!archive) {
    os::print("procmgr: malformed boot archive\n");
    return fail();
  }
  // Processes, the servers' helpers and the servers' faults all come here,
  // told apart by badge.
  const uint64_t endpoint = procmgr::make(ObjectType::Endpoint, 0, 1, "procmgr endpoint");
  if (endpoint == 0) return fail();

  static procmgr::BootServers servers;
  if (!procmgr::start_servers(info, *archive, endpoint, servers)) return fail();
  os::print("procmgr: servers up\n");
  if (exit_when_up) {
    os::print("procmgr: powering off\n");
    (void)os::system_shutdown(system_control, 0);
  }

  // As long as the boot info's bootargs (255 characters) can hold.
  static char init_path[sizeof info.bootargs];
  static char init_args[sizeof info.bootargs];
  static char pager_policy[sizeof info.bootargs];
  const procmgr::Config config{
      .init_path = bootarg_string(info.bootargs, "init", init_path, sizeof init_path, "/bin/init"),
      .init_args = bootarg_string(info.bootargs, "init.args", init_args, sizeof init_args, nullptr),
      .pager_policy = bootarg_string(info.bootargs, "pager.policy", pager_policy, sizeof pager_policy, nullptr),
      .power_off_with_init = true,
      .system_control = system_control,
  };
  procmgr::run(servers, endpoint, config);
}
