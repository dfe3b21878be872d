// ps: lists every process, one per line: PID, PPID, STATE (R running or
// runnable, S waiting for a child, Z zombie), its pager POLICY and the
// program's path, from ukos_procinfo and ukos_policy_name.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <ukos.h>

namespace {

// Policy names by index, asked of the pager once each.
constexpr int kCached = 16;
char g_names[kCached][UKOS_POLICY_NAME_MAX];

// The name of policy `index`, or its number when the pager cannot name it.
const char* policy_name(int index, char* fallback, size_t size) {
  if (index >= 0 && index < kCached) {
    if (g_names[index][0] == '\0' && ukos_policy_name(index, g_names[index], sizeof g_names[index]) != 0) {
      g_names[index][0] = '\0';
    }
    if (g_names[index][0] != '\0') return g_names[index];
  } else if (ukos_policy_name(index, fallback, size) == 0) {
    return fallback;
  }
  snprintf(fallback, size, "%d", index);
  return fallback;
}

}  // namespace

int main() {
  printf("%5s %5s %-5s %-8s %s\n", "PID", "PPID", "STATE", "POLICY", "NAME");
  struct ukos_procinfo info;
  pid_t cursor = 1;
  int found;
  while ((found = ukos_procinfo(cursor, &info)) == 1) {
    char number[UKOS_POLICY_NAME_MAX];
    printf("%5d %5d %-5c %-8s %s\n", info.pid, info.ppid, info.state,
           policy_name(info.policy, number, sizeof number), info.name);
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
