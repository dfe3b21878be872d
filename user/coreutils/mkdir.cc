// mkdir [-p] DIR...: makes each directory. With -p, missing parents are
// made too and an existing directory is no error. Failures are reported
// and the status is 1.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

namespace {

bool is_directory(const char* path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

// mkdir -p: each prefix of the path that ends before a '/', then the path.
int make_parents(const char* path) {
  char prefix[1024];
  const size_t length = strlen(path);
  if (length >= sizeof prefix) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(prefix, path, length + 1);
  for (size_t i = 1; i <= length; ++i) {
    if (prefix[i] != '/' && prefix[i] != '\0') continue;
    const char saved = prefix[i];
    prefix[i] = '\0';
    if (mkdir(prefix, 0777) < 0 && !(errno == EEXIST && is_directory(prefix))) return -1;
    prefix[i] = saved;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  bool parents = false;
  int first = 1;
  if (first < argc && strcmp(argv[first], "-p") == 0) {
    parents = true;
    ++first;
  }
  if (first >= argc) {
    fprintf(stderr, "mkdir: usage: mkdir [-p] DIR...\n");
    return 1;
  }
  int status = 0;
  for (int i = first; i < argc; ++i) {
    if ((parents ? make_parents(argv[i]) : mkdir(argv[i], 0777)) < 0) {
      fprintf(stderr, "mkdir: %s: %s\n", argv[i], strerror(errno));
      status = 1;
    }
  }
  return status;
}
