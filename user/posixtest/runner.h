// What the runner (main.cc) offers the framework and the tests, and the
// helper mode that exec tests run (helper.cc).
#pragma once

namespace pt {

// Records the running test's failure (the first one is reported).
void record_failure(const char* message);

// `posixtest --child-exec MODE ARGS...`: a program the exec tests start
// with execve. Each mode checks what exec should have delivered and exits
// with kHelperOk when it did, another status saying what was wrong when
// not.
inline constexpr int kHelperOk = 42;
int helper_main(int argc, char** argv, char** envp);  // the whole argv: argv[1] is "--child-exec"
// Mode "forkstats" (forkmem.cc): one fork in a fresh image, counted.
int fork_stats_helper();

// What an exec must reset: a data word (initially kExecMarkerInitial) and
// bss bytes (initially zero) that the exec tests change before exec and
// the helper's "fresh" mode checks.
inline constexpr int kExecMarkerInitial = 0x600d;
extern int g_exec_marker;
extern unsigned char g_exec_bss[4096];

}  // namespace pt
