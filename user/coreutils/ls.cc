// ls [-a] [-l] [PATH...]: lists each directory's entries sorted by name, one
// per line ("." and ".." only with -a), or names a file given as such. With
// -l each line is the type (d directory, - file, c device, p pipe), the size
// in bytes and the name. PATH defaults to "."; with several, each directory
// gets a "PATH:" heading. An operand that cannot be listed is reported and
// the status is 1.
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

namespace {

struct Flags {
  bool all = false;
  bool long_format = false;
};

char type_letter(mode_t mode) {
  if (S_ISDIR(mode)) return 'd';
  if (S_ISREG(mode)) return '-';
  if (S_ISCHR(mode)) return 'c';
  if (S_ISFIFO(mode)) return 'p';
  return '?';
}

void print_entry(const char* name, const struct stat& st, const Flags& flags) {
  if (flags.long_format) {
    printf("%c %8ld %s\n", type_letter(st.st_mode), static_cast<long>(st.st_size), name);
  } else {
    printf("%s\n", name);
  }
}

// A directory's names, copied out of readdir's buffer.
class Names {
 public:
  ~Names() {
    for (size_t i = 0; i < m_count; ++i) free(m_names[i]);
    free(m_names);
  }
  bool add(const char* name) {
    if (m_count == m_capacity) {
      const size_t capacity = m_capacity == 0 ? 32 : 2 * m_capacity;
      auto** names = static_cast<char**>(malloc(capacity * sizeof(char*)));
      if (names == nullptr) return false;
      for (size_t i = 0; i < m_count; ++i) names[i] = m_names[i];
      free(m_names);
      m_names = names;
      m_capacity = capacity;
    }
    const size_t length = strlen(name);
    char* copy = static_cast<char*>(malloc(length + 1));
    if (copy == nullptr) return false;
    memcpy(copy, name, length + 1);
    m_names[m_count++] = copy;
    return true;
  }
  // Insertion sort: directories here hold tens of entries.
  void sort() {
    for (size_t i = 1; i < m_count; ++i) {
      char* name = m_names[i];
      size_t j = i;
      for (; j > 0 && strcmp(m_names[j - 1], name) > 0; --j) m_names[j] = m_names[j - 1];
      m_names[j] = name;
    }
  }
  size_t size() const { return m_count; }
  const char* operator[](size_t i) const { return m_names[i]; }

 private:
  char** m_names = nullptr;
  size_t m_count = 0;
  size_t m_capacity = 0;
};

// Lists one directory; false (after a message) on an error.
bool list_directory(const char* path, const Flags& flags) {
  DIR* dir = opendir(path);
  if (dir == nullptr) {
    fprintf(stderr, "ls: %s: %s\n", path, strerror(errno));
    return false;
  }
  Names names;
  bool ok = true;
  while (const struct dirent* entry = readdir(dir)) {
    const bool dot = strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0;
    if (dot && !flags.all) continue;
    if (!names.add(entry->d_name)) {
      fprintf(stderr, "ls: %s: %s\n", path, strerror(ENOMEM));
      ok = false;
      break;
    }
  }
  closedir(dir);
  names.sort();
  for (size_t i = 0; i < names.size(); ++i) {
    if (!flags.long_format) {
      printf("%s\n", names[i]);
      continue;
    }
    char full[1024];
    snprintf(full, sizeof full, "%s/%s", path, names[i]);
    struct stat st;
    if (stat(full, &st) < 0) {
      fprintf(stderr, "ls: %s: %s\n", full, strerror(errno));
      ok = false;
      continue;
    }
    print_entry(names[i], st, flags);
  }
  return ok;
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
      if (*c == 'a') {
        flags.all = true;
      } else if (*c == 'l') {
        flags.long_format = true;
      } else {
        fprintf(stderr, "ls: -%c: unknown option (usage: ls [-al] [PATH...])\n", *c);
        return 2;
      }
    }
  }
  const char* dot[] = {"."};
  const char* const* paths = first < argc ? argv + first : dot;
  const int count = first < argc ? argc - first : 1;
  int status = 0;
  for (int i = 0; i < count; ++i) {
    struct stat st;
    if (stat(paths[i], &st) < 0) {
      fprintf(stderr, "ls: %s: %s\n", paths[i], strerror(errno));
      status = 1;
      continue;
    }
    if (!S_ISDIR(st.st_mode)) {
      print_entry(paths[i], st, flags);
      continue;
    }
    if (count > 1) printf("%s%s:\n", i > 0 ? "\n" : "", paths[i]);
    if (!list_directory(paths[i], flags)) status = 1;
  }
  if (fflush(stdout) != 0) {
    fprintf(stderr, "ls: write error: %s\n", strerror(errno));
    return 1;
  }
  return status;
}
