// The shell's input: a growable text buffer and a reader that splits a
// descriptor's bytes into lines. The console hands out one line per read;
// a pipe or a file may hand out several, or part of one.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace sh {

// Bytes in a buffer from malloc, grown by doubling.
class Text {
 public:
  Text() = default;
  ~Text();
  Text(const Text&) = delete;
  Text& operator=(const Text&) = delete;

  // False when memory runs out (the text is then unchanged).
  bool append(std::string_view more);
  void clear() { m_size = 0; }
  std::string_view view() const { return {m_data, m_size}; }

 private:
  char* m_data = nullptr;
  size_t m_size = 0;
  size_t m_capacity = 0;
};

class LineReader {
 public:
  explicit LineReader(int fd) : m_fd(fd) {}

  // The next line without its '\n' (the last one may have none), valid
  // until the next call; nullopt at the end of input, on a read error or
  // when memory runs out.
  std::optional<std::string_view> next();

 private:
  // Reads once more into the buffer; false at the end of input.
  bool fill();

  int m_fd;
  Text m_buffer;
  size_t m_start = 0;  // the first byte not handed out yet
  bool m_end = false;
};

}  // namespace sh
