// Process start-up: what crt1.S calls with the initial sp. Finds argc, argv
// and envp where the System V ABI puts them (procmgr's exec builds the stack
// that way, servers/procmgr/loader.h), binds the IPC buffer, runs the
// constructors and main, and exits with main's result.
#include <cstdint>

#include "os/kernel.h"
#include "pager/protocol.h"

extern "C" {
char** environ;
int main(int argc, char** argv, char** envp);
[[noreturn]] void exit(int status);
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();

[[noreturn]] void __libc_start(uint64_t* sp) {
  os::set_ipc_buffer(reinterpret_cast<uapi::IpcBuffer*>(pager::protocol::kIpcBufferVa));
  const int argc = static_cast<int>(sp[0]);
  char** argv = reinterpret_cast<char**>(sp + 1);
  char** envp = argv + argc + 1;
  environ = envp;
  for (auto* ctor = __init_array_start; ctor != __init_array_end; ++ctor) (*ctor)();
  exit(main(argc, argv, envp));
}
}
