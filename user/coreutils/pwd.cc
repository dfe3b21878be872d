// pwd: prints the current directory.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main() {
  char path[1024];
  if (getcwd(path, sizeof path) == nullptr) {
    fprintf(stderr, "pwd: %s\n", strerror(errno));
    return 1;
  }
  printf("%s\n", path);
  if (fflush(stdout) != 0) {
    fprintf(stderr, "pwd: write error: %s\n", strerror(errno));
    return 1;
  }
  return 0;
}
