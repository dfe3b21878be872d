/* A third-party program as the SDK builds it (sdk/examples/meson.build runs
 * build/sdk/bin/ukos-cc on it): bin/hello in the boot image. Greets its
 * arguments or $USER, and shows that stdio, the environment and the heap
 * work in a process of its own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  const char* who = argc > 1 ? argv[1] : getenv("USER");
  if (who == NULL) who = "world";
  char* greeting = malloc(strlen(who) + 16);
  if (greeting == NULL) {
    perror("hello");
    return EXIT_FAILURE;
  }
  snprintf(greeting, strlen(who) + 16, "Hello, %s!", who);
  printf("%s (pid %d, %d argument%s)\n", greeting, getpid(), argc - 1, argc == 2 ? "" : "s");
  free(greeting);
  return EXIT_SUCCESS;
}
