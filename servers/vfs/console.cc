// The console's line discipline; the rules are in console.h.
#include "console.h"

namespace vfs {

namespace {

bool is_printable(std::byte c) {
  auto v = std::to_integer<uint8_t>(c);
  return (v >= 0x20 && v < 0x7f) || v >= 0x80 || c == ascii::kTab;
}

size_t strlen_of(const char* s) {
  size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

}  // namespace

void LineDiscipline::echo(const char* text) {
  m_echo.write(std::as_bytes(std::span(text, strlen_of(text))));
}

bool LineDiscipline::finish(bool newline, bool end_of_file) {
  size_t bytes = m_edit_length + (newline ? 1 : 0);
  if (m_lines_count == kLinesMax || bytes > kInputMax - m_ready_count) return false;
  size_t tail = (m_ready_head + m_ready_count) % kInputMax;
  for (size_t i = 0; i < m_edit_length; ++i) m_ready[(tail + i) % kInputMax] = m_edit[i];
  if (newline) m_ready[(tail + m_edit_length) % kInputMax] = ascii::kNewline;
  m_ready_count += bytes;
  m_lines[(m_lines_head + m_lines_count) % kLinesMax] = Line{static_cast<uint16_t>(bytes), end_of_file};
  ++m_lines_count;
  m_edit_length = 0;
  return true;
}

void LineDiscipline::accept(std::byte c) {
  if (c == ascii::kReturn || c == ascii::kNewline) {
    if (finish(true, false)) echo("\n");
    else ring_bell();  // no room: the line stays for the user to shorten
    return;
  }
  if (c == ascii::kBackspace || c == ascii::kDelete) {
    if (m_edit_length == 0) return;
    --m_edit_length;
    echo("\b \b");
    return;
  }
  if (c == ascii::kInterrupt) {
    m_edit_length = 0;
    echo("^C\n");
    return;
  }
  if (c == ascii::kEndOfFile) {
    // At the start of a line an end-of-file mark; otherwise the line so far.
    if (!finish(false, m_edit_length == 0)) ring_bell();
    return;
  }
  if (!is_printable(c)) return;
  // Room for the character and, later, its line's newline.
  if (m_edit_length == kLineMax || m_edit_length + 2 > kInputMax - m_ready_count) {
    ring_bell();
    return;
  }
  m_edit[m_edit_length++] = c;
  m_echo.write(std::span(&c, 1));
}

bool LineDiscipline::input(std::span<const std::byte> typed) {
  bool interrupt = false;
  for (std::byte c : typed) {
    if (c == ascii::kInterrupt) interrupt = true;
    accept(c);
  }
  return interrupt;
}

Result<size_t> LineDiscipline::read(std::span<std::byte> buf) {
  if (buf.empty()) return 0;
  if (m_lines_count == 0) return fail(Errno::Again);
  size_t n = peek(buf);
  consume(n);
  return n;
}

size_t LineDiscipline::peek(std::span<std::byte> buf) const {
  if (m_lines_count == 0) return 0;
  const Line& line = m_lines[m_lines_head];
  size_t n = line.remaining < buf.size() ? line.remaining : buf.size();
  for (size_t i = 0; i < n; ++i) buf[i] = m_ready[(m_ready_head + i) % kInputMax];
  return n;
}

void LineDiscipline::consume(size_t n) {
  if (m_lines_count == 0) return;
  Line& line = m_lines[m_lines_head];
  if (n > line.remaining) n = line.remaining;
  m_ready_head = (m_ready_head + n) % kInputMax;
  m_ready_count -= n;
  line.remaining = static_cast<uint16_t>(line.remaining - n);
  if (line.remaining == 0) {
    // A finished line (or an end-of-file mark, which has no bytes) is gone.
    m_lines_head = (m_lines_head + 1) % kLinesMax;
    --m_lines_count;
  }
}

}  // namespace vfs
