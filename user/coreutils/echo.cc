// echo [-n] [ARG...]: writes the arguments separated by spaces, then a
// newline unless -n is given. No escape sequences (as POSIX's echo without
// XSI, and as -E in other echos).
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char** argv) {
  int first = 1;
  bool newline = true;
  if (argc > 1 && strcmp(argv[1], "-n") == 0) {
    newline = false;
    first = 2;
  }
  for (int i = first; i < argc; ++i) {
    if (i > first) putchar(' ');
    fputs(argv[i], stdout);
  }
  if (newline) putchar('\n');
  if (fflush(stdout) != 0) {
    fprintf(stderr, "echo: write error: %s\n", strerror(errno));
    return 1;
  }
  return 0;
}
