// The console device: a terminal's line discipline over the UART, in the
// canonical ("cooked") mode a Unix shell expects. Characters typed arrive
// in chunks from vfs's console thread; the discipline edits the current
// line, echoes what it accepts, and hands out finished lines to read(2),
// at most one line per read. Output goes straight to the device; the
// device driver turns "\n" into "\r\n".
//
// Typed characters:
//   printable, tab, bytes >= 0x80   appended to the line and echoed
//   CR or LF                        ends the line, delivered with "\n"; echo "\n"
//   BS or DEL                       erases one character; echo "\b \b"
//   Ctrl-C                          discards the line, echoes "^C\n" and asks for
//                                   SIGINT to the foreground process group
//   Ctrl-D                          at the start of a line: end of file (the next
//                                   read returns 0); otherwise delivers the line
//                                   so far, without "\n", and echoes nothing
//   other control characters        dropped (there is no escape-sequence editing)
// A line holds at most kLineMax characters; finished lines wait in a buffer
// of kInputMax bytes. Characters that do not fit are dropped (echo "\a").
//
// Nothing here blocks: read() answers Again when no line is finished, and
// the server parks the request until read_ready().
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "errno.h"
#include "files.h"

namespace vfs {

// Where the console's bytes go out: the UART on the target, a string in
// the tests.
class ConsoleOutput {
 public:
  virtual void write(std::span<const std::byte> bytes) = 0;

 protected:
  ~ConsoleOutput() = default;
};

inline constexpr size_t kLineMax = 255;   // characters in the line being edited (MAX_CANON)
inline constexpr size_t kInputMax = 4096;  // bytes of finished lines not yet read (MAX_INPUT)
inline constexpr size_t kLinesMax = 64;    // finished lines (and end-of-file marks) not yet read

namespace ascii {
inline constexpr std::byte kInterrupt{0x03};  // Ctrl-C
inline constexpr std::byte kEndOfFile{0x04};  // Ctrl-D
inline constexpr std::byte kBackspace{0x08};
inline constexpr std::byte kTab{0x09};
inline constexpr std::byte kNewline{0x0a};
inline constexpr std::byte kReturn{0x0d};
inline constexpr std::byte kDelete{0x7f};
}  // namespace ascii

class LineDiscipline {
 public:
  explicit LineDiscipline(ConsoleOutput& echo) : m_echo(echo) {}
  LineDiscipline(const LineDiscipline&) = delete;
  LineDiscipline& operator=(const LineDiscipline&) = delete;

  // Edit, echo and finish lines with the characters typed. Returns true if
  // Ctrl-C was among them.
  bool input(std::span<const std::byte> typed);

  // One read(2): up to buf.size() bytes of the first finished line (the rest
  // of it stays for the next read); 0 for an end-of-file mark (consumed);
  // Again when no line is finished. An empty buf gets 0 and consumes nothing.
  Result<size_t> read(std::span<std::byte> buf);
  bool read_ready() const { return m_lines_count > 0; }
  // The two halves of a read when read_ready(): copy out what read would
  // (0 for an end-of-file mark) and keep it, then take the first n of
  // those bytes (an end-of-file mark with n = 0). For the server, which
  // sends a parked reader its line before it takes it.
  size_t peek(std::span<std::byte> buf) const;
  void consume(size_t n);

  // For the tests: characters in the line being edited, bytes and lines
  // finished and not yet read.
  size_t editing() const { return m_edit_length; }
  size_t buffered() const { return m_ready_count; }
  size_t lines() const { return m_lines_count; }

 private:
  struct Line {
    uint16_t remaining;  // bytes of it not yet read
    bool end_of_file;    // a Ctrl-D mark: no bytes, reads as 0
  };
  void echo(const char* text);
  void ring_bell() { echo("\a"); }
  // Move the edited line (plus "\n" if `newline`) to the finished lines, or
  // an end-of-file mark if `end_of_file`. False if there is no room.
  bool finish(bool newline, bool end_of_file);
  void accept(std::byte c);

  ConsoleOutput& m_echo;
  std::byte m_edit[kLineMax] = {};
  size_t m_edit_length = 0;
  // Finished input: a ring of bytes and a ring of line records over it.
  std::byte m_ready[kInputMax] = {};
  size_t m_ready_head = 0;
  size_t m_ready_count = 0;
  Line m_lines[kLinesMax] = {};
  size_t m_lines_head = 0;
  size_t m_lines_count = 0;
};

// The console as a character device for the descriptor layer: reads come
// from the line discipline, writes go to the output. It also keeps the
// foreground process group that Ctrl-C signals (tcsetpgrp/tcgetpgrp).
class Console final : public Device {
 public:
  explicit Console(ConsoleOutput& out) : m_out(out), m_line(out) {}

  Result<size_t> read(std::span<std::byte> buf) override { return m_line.read(buf); }
  Result<size_t> write(std::span<const std::byte> data) override {
    m_out.write(data);
    return data.size();
  }
  bool read_ready() const override { return m_line.read_ready(); }
  size_t peek(std::span<std::byte> buf) const { return m_line.peek(buf); }
  void consume(size_t n) { m_line.consume(n); }

  // Characters typed. Returns the process group to send SIGINT to: the
  // foreground group if Ctrl-C was typed and one is set, else 0.
  uint64_t input(std::span<const std::byte> typed) {
    bool interrupt = m_line.input(typed);
    return interrupt ? m_foreground : 0;
  }

  // 0: no foreground group.
  uint64_t foreground() const { return m_foreground; }
  void set_foreground(uint64_t pgid) { m_foreground = pgid; }

  const LineDiscipline& line() const { return m_line; }

 private:
  ConsoleOutput& m_out;
  LineDiscipline m_line;
  uint64_t m_foreground = 0;
};

}  // namespace vfs
