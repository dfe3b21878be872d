// cat [FILE...]: copies each FILE (stdin for none or "-") to stdout. A file
// that cannot be read is reported and skipped; the status is then 1. A
// write error stops at once.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

namespace {

enum class Copy { Ok, ReadError, WriteError };

bool write_all(const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = write(STDOUT_FILENO, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

Copy copy(int fd) {
  static char buffer[4096];
  for (;;) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n == 0) return Copy::Ok;
    if (n < 0) {
      if (errno == EINTR) continue;
      return Copy::ReadError;
    }
    if (!write_all(buffer, static_cast<size_t>(n))) return Copy::WriteError;
  }
}

enum class Outcome { Ok, Failed, Stop };

// Copies one operand. Stop: a write error, after which nothing can be written.
Outcome cat(const char* name) {
  const bool is_stdin = strcmp(name, "-") == 0;
  const int fd = is_stdin ? STDIN_FILENO : open(name, O_RDONLY);
  if (fd < 0) {
    fprintf(stderr, "cat: %s: %s\n", name, strerror(errno));
    return Outcome::Failed;
  }
  const Copy result = copy(fd);
  const int error = errno;
  if (!is_stdin) close(fd);
  switch (result) {
    case Copy::Ok:
      return Outcome::Ok;
    case Copy::ReadError:
      fprintf(stderr, "cat: %s: %s\n", name, strerror(error));
      return Outcome::Failed;
    case Copy::WriteError:
      fprintf(stderr, "cat: write error: %s\n", strerror(error));
      return Outcome::Stop;
  }
  return Outcome::Failed;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return cat("-") == Outcome::Ok ? 0 : 1;
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    const Outcome outcome = cat(argv[i]);
    if (outcome != Outcome::Ok) status = 1;
    if (outcome == Outcome::Stop) break;
  }
  return status;
}
