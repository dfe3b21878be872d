// ps: lists every process, one per line: PID, PPID, STATE (R running or
// runnable, S waiting for a child, Z zombie) and the program's path, from
// ukos_procinfo.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <ukos.h>

int main() {
  printf("%5s %5s %-5s %s\n", "PID", "PPID", "STATE", "NAME");
  struct ukos_procinfo info;
  pid_t cursor = 1;
  int found;
  while ((found = ukos_procinfo(cursor, &info)) == 1) {
    printf("%5d %5d %-5c %s\n", info.pid, info.ppid, info.state, info.name);
    cursor = info.pid + 1;
  }
  int status = 0;
  if (found < 0) {
    fprintf(stderr, "ps: %s\n", strerror(errno));
    status = 1;
  }
  if (fflush(stdout) != 0) {
    fprintf(stderr, "ps: write error: %s\n", strerror(errno));
    return 1;
  }
  return status;
}
