// kill [-SIGNAL | -s SIGNAL] PID...: sends SIGNAL (default TERM) to each
// PID (a negative PID names a process group; put "--" before it). SIGNAL is
// a number or a name with or without "SIG" (9, KILL, SIGKILL). kill -l lists
// the names. Any failure is reported and the status is 1.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <optional>

namespace {

struct SignalName {
  const char* name;
  int number;
};

constexpr SignalName kSignals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ILL", SIGILL},  {"ABRT", SIGABRT},
    {"KILL", SIGKILL}, {"SEGV", SIGSEGV}, {"PIPE", SIGPIPE}, {"TERM", SIGTERM}, {"CHLD", SIGCHLD},
};

// A whole-string decimal number.
std::optional<long> parse_number(const char* text) {
  char* end = nullptr;
  errno = 0;
  const long value = strtol(text, &end, 10);
  if (end == text || *end != '\0' || errno != 0) return std::nullopt;
  return value;
}

std::optional<int> parse_signal(const char* text) {
  if (const auto number = parse_number(text)) {
    if (*number < 0 || *number >= NSIG) return std::nullopt;
    return static_cast<int>(*number);
  }
  if (strncmp(text, "SIG", 3) == 0) text += 3;
  for (const SignalName& s : kSignals) {
    if (strcmp(s.name, text) == 0) return s.number;
  }
  return std::nullopt;
}

int usage() {
  fprintf(stderr, "kill: usage: kill [-SIGNAL | -s SIGNAL] PID...  or  kill -l\n");
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int sig = SIGTERM;
  int first = 1;
  if (first < argc && strcmp(argv[first], "-l") == 0) {
    for (const SignalName& s : kSignals) printf("%2d %s\n", s.number, s.name);
    return 0;
  }
  if (first < argc && strcmp(argv[first], "-s") == 0) {
    if (first + 1 >= argc) return usage();
    const auto parsed = parse_signal(argv[first + 1]);
    if (!parsed) {
      fprintf(stderr, "kill: %s: invalid signal\n", argv[first + 1]);
      return 1;
    }
    sig = *parsed;
    first += 2;
  } else if (first < argc && strcmp(argv[first], "--") == 0) {
    ++first;
  } else if (first < argc && argv[first][0] == '-' && argv[first][1] != '\0') {
    const auto parsed = parse_signal(argv[first] + 1);
    if (!parsed) {
      fprintf(stderr, "kill: %s: invalid signal\n", argv[first] + 1);
      return 1;
    }
    sig = *parsed;
    ++first;
  }
  if (first < argc && strcmp(argv[first], "--") == 0) ++first;
  if (first >= argc) return usage();
  int status = 0;
  for (int i = first; i < argc; ++i) {
    const auto pid = parse_number(argv[i]);
    if (!pid || *pid == 0 || *pid > 0x7fffffffL || *pid < -0x7fffffffL) {
      fprintf(stderr, "kill: %s: not a process id\n", argv[i]);
      status = 1;
      continue;
    }
    if (kill(static_cast<pid_t>(*pid), sig) < 0) {
      fprintf(stderr, "kill: %s: %s\n", argv[i], strerror(errno));
      status = 1;
    }
  }
  return status;
}
