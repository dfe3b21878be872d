// sleep SECONDS: waits that many whole seconds.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char** argv) {
  char* end = nullptr;
  errno = 0;
  const long seconds = argc == 2 ? strtol(argv[1], &end, 10) : -1;
  if (argc != 2 || end == argv[1] || *end != '\0' || errno != 0 || seconds < 0) {
    fprintf(stderr, "sleep: usage: sleep SECONDS\n");
    return 1;
  }
  sleep(static_cast<unsigned>(seconds));
  return 0;
}
