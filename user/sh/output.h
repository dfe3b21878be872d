// The shell's messages go straight to write(2), unbuffered: nothing can sit
// in a stdio buffer when the shell forks, and a prompt needs no flush.
#pragma once

namespace sh {

// printf-style text to fd, in one write when it fits 1 KiB (longer text is
// truncated).
[[gnu::format(printf, 2, 3)]] void say(int fd, const char* format, ...);

// "sh: " + the formatted text + "\n" on stderr.
[[gnu::format(printf, 1, 2)]] void complain(const char* format, ...);

}  // namespace sh
