// The root task: the first user program. Today it reports what the kernel
// handed it and either powers off (bootargs "roottask.exit") or waits on a
// notification forever. With the servers it becomes the process manager.
#include <string_view>

#include "lib/bootargs.h"
#include "os/kernel.h"
#include "os/print.h"
#include "os/syscall.h"

namespace {

using uapi::BootSlot;

constexpr uint64_t slot(BootSlot s) { return static_cast<uint64_t>(s); }


}  // namespace

int main(uint64_t boot_info_address) {
  const auto& info = *reinterpret_cast<const uapi::BootInfo*>(boot_info_address);
  os::set_ipc_buffer(reinterpret_cast<uapi::IpcBuffer*>(info.ipc_buffer));
  if (info.magic != uapi::kBootInfoMagic) {
    os::print("roottask: bad boot info magic\n");
    return 1;
  }
  uint64_t ram = 0;
  for (uint64_t i = 0; i < info.untyped.count; ++i) {
    if (!info.untyped_list[i].device) ram += uint64_t{1} << info.untyped_list[i].size_bits;
  }
  os::print("roottask: hello from user space: {} untyped caps ({} MiB of RAM), {} image frames, archive {} bytes\n",
            info.untyped.count, ram >> 20, info.image_frames.count, info.archive_size);

  const std::string_view bootargs(info.bootargs);
  if (kern::bootarg(bootargs, "roottask.exit").has_value()) {
    os::print("roottask: powering off\n");
    (void)os::system_shutdown(slot(BootSlot::SystemControl), 0);
  }

  // Nothing else to do yet: wait on a fresh notification, which idles the hart.
  const uint64_t notification = info.first_free_slot;
  uint64_t ram_untyped = info.untyped.first;
  while (info.untyped_list[ram_untyped - info.untyped.first].device) ++ram_untyped;
  if (auto made = os::retype(ram_untyped, uapi::ObjectType::Notification, 0, 1, slot(BootSlot::RootCNode),
                             notification);
      !made) {
    os::print("roottask: retype failed: error {}\n", static_cast<uint64_t>(made.error()));
    return 1;
  }
  os::print("roottask: idle\n");
  for (;;) os::syscall(uapi::Syscall::Recv, notification, uapi::MessageInfo{});
}
