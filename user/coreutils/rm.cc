// rm [-f] [-r] PATH...: removes each file; with -r, directories and all
// they hold. -f: a missing PATH is no error. Failures are reported and the
// status is 1.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

struct Flags {
  bool force = false;
  bool recursive = false;
};

bool remove_path(const char* path, const Flags& flags);

// Empties the directory, then removes it.
bool remove_tree(const char* path, const Flags& flags) {
  DIR* dir = opendir(path);
  if (dir == nullptr) {
    fprintf(stderr, "rm: %s: %s\n", path, strerror(errno));
    return false;
  }
  bool ok = true;
  // Removing entries while reading would shift the directory's positions
  // under readdir: collect one name at a time and start over.
  for (;;) {
    char child[1024] = "";
    while (const struct dirent* entry = readdir(dir)) {
      if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
      snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
      break;
    }
    closedir(dir);
    if (child[0] == '\0') break;
    if (!remove_path(child, flags)) return false;
    dir = opendir(path);
    if (dir == nullptr) {
      fprintf(stderr, "rm: %s: %s\n", path, strerror(errno));
      return false;
    }
  }
  if (rmdir(path) < 0) {
    fprintf(stderr, "rm: %s: %s\n", path, strerror(errno));
    ok = false;
  }
  return ok;
}

bool remove_path(const char* path, const Flags& flags) {
  struct stat st;
  if (stat(path, &st) < 0) {
    if (errno == ENOENT && flags.force) return true;
    fprintf(stderr, "rm: %s: %s\n", path, strerror(errno));
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    if (flags.recursive) return remove_tree(path, flags);
    fprintf(stderr, "rm: %s: %s\n", path, strerror(EISDIR));
    return false;
  }
  if (unlink(path) < 0) {
    fprintf(stderr, "rm: %s: %s\n", path, strerror(errno));
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  int first = 1;
  for (; first < argc && argv[first][0] == '-' && argv[first][1] != '\0'; ++first) {
    if (strcmp(argv[first], "--") == 0) {
      ++first;
      break;
    }
    for (const char* c = argv[first] + 1; *c != '\0'; ++c) {
      if (*c == 'f') {
        flags.force = true;
      } else if (*c == 'r' || *c == 'R') {
        flags.recursive = true;
      } else {
        fprintf(stderr, "rm: -%c: unknown option (usage: rm [-fr] PATH...)\n", *c);
        return 1;
      }
    }
  }
  if (first >= argc && !flags.force) {
    fprintf(stderr, "rm: usage: rm [-fr] PATH...\n");
    return 1;
  }
  int status = 0;
  for (int i = first; i < argc; ++i) {
    if (!remove_path(argv[i], flags)) status = 1;
  }
  return status;
}
