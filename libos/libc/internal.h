// What the C library's own files share and programs never see.
#pragma once

namespace os::libc {

// Flushes every open stream (exit's last step before _exit). 0 or EOF.
int flush_all_streams();

}  // namespace os::libc
