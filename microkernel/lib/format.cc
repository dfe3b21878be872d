// Implementation of the formatter declared in format.h. Numbers are rendered
// into a small stack buffer right to left, then padded and handed to the sink.
#include "format.h"

namespace kern {
namespace {

struct Spec {
  bool zero_pad = false;
  bool alternate = false;  // '#': 0x prefix
  size_t width = 0;
  char type = 0;           // 0, 'x', 'X', 'd', 'c', 's', 'p'
};

// Parses the text between ':' and '}' of a replacement field.
Spec parse_spec(std::string_view text) {
  Spec spec;
  size_t i = 0;
  if (i < text.size() && text[i] == '#') {
    spec.alternate = true;
    ++i;
  }
  if (i < text.size() && text[i] == '0') {
    spec.zero_pad = true;
    ++i;
  }
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    spec.width = spec.width * 10 + static_cast<size_t>(text[i] - '0');
    if (spec.width > 64) spec.width = 64;
    ++i;
  }
  if (i < text.size()) spec.type = text[i];
  return spec;
}

void pad(FormatSink& sink, size_t count, char fill) {
  char buffer[16];
  for (char& c : buffer) c = fill;
  while (count > 0) {
    size_t n = count < sizeof buffer ? count : sizeof buffer;
    sink.put({buffer, n});
    count -= n;
  }
}

void put_number(FormatSink& sink, uint64_t value, bool negative, const Spec& spec) {
  const bool hex = spec.type == 'x' || spec.type == 'X' || spec.type == 'p';
  const char* digits = spec.type == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
  const uint64_t base = hex ? 16 : 10;
  char buffer[24];
  size_t pos = sizeof buffer;
  do {
    buffer[--pos] = digits[value % base];
    value /= base;
  } while (value != 0);

  std::string_view prefix;
  if (negative) prefix = "-";
  else if (hex && (spec.alternate || spec.type == 'p')) prefix = "0x";
  const size_t length = prefix.size() + (sizeof buffer - pos);
  const size_t fill = spec.width > length ? spec.width - length : 0;
  if (spec.zero_pad) {
    sink.put(prefix);
    pad(sink, fill, '0');
  } else {
    pad(sink, fill, ' ');
    sink.put(prefix);
  }
  sink.put({buffer + pos, sizeof buffer - pos});
}

void put_arg(FormatSink& sink, const FormatArg& arg, Spec spec) {
  switch (arg.kind) {
    case FormatArg::Kind::Unsigned:
      if (spec.type == 'c') {
        char c = static_cast<char>(arg.u);
        sink.put({&c, 1});
        return;
      }
      put_number(sink, arg.u, false, spec);
      return;
    case FormatArg::Kind::Signed: {
      const bool negative = arg.s < 0 && spec.type != 'x' && spec.type != 'X';
      const uint64_t magnitude = negative ? uint64_t{0} - static_cast<uint64_t>(arg.s) : static_cast<uint64_t>(arg.s);
      put_number(sink, magnitude, negative, spec);
      return;
    }
    case FormatArg::Kind::Pointer:
      if (spec.type == 0) {
        spec.type = 'p';
        if (spec.width == 0) {
          spec.width = 18;
          spec.zero_pad = true;
        }
      }
      put_number(sink, arg.u, false, spec);
      return;
    case FormatArg::Kind::Char: {
      char c = static_cast<char>(arg.u);
      if (spec.width > 1) pad(sink, spec.width - 1, ' ');
      sink.put({&c, 1});
      return;
    }
    case FormatArg::Kind::String:
      if (spec.width > arg.str.size()) pad(sink, spec.width - arg.str.size(), ' ');
      sink.put(arg.str);
      return;
  }
}

}  // namespace

void vformat(FormatSink& sink, std::string_view fmt, std::span<const FormatArg> args) {
  size_t next_arg = 0;
  size_t i = 0;
  while (i < fmt.size()) {
    size_t literal_end = i;
    while (literal_end < fmt.size() && fmt[literal_end] != '{' && fmt[literal_end] != '}') ++literal_end;
    if (literal_end > i) sink.put(fmt.substr(i, literal_end - i));
    i = literal_end;
    if (i >= fmt.size()) break;

    const char c = fmt[i];
    if (i + 1 < fmt.size() && fmt[i + 1] == c) {  // "{{" or "}}"
      sink.put(fmt.substr(i, 1));
      i += 2;
      continue;
    }
    if (c == '}') {  // stray '}': print it
      sink.put("}");
      ++i;
      continue;
    }
    const size_t close = fmt.find('}', i);
    if (close == std::string_view::npos) {  // unterminated field: print the rest
      sink.put(fmt.substr(i));
      break;
    }
    std::string_view field = fmt.substr(i + 1, close - i - 1);
    Spec spec;
    if (!field.empty() && field[0] == ':') spec = parse_spec(field.substr(1));
    if (next_arg < args.size()) put_arg(sink, args[next_arg++], spec);
    else sink.put("{?}");
    i = close + 1;
  }
}

void BufferSink::put(std::string_view text) {
  if (m_buffer.empty()) {
    m_truncated = m_truncated || !text.empty();
    return;
  }
  const size_t room = m_buffer.size() - 1 - m_length;
  size_t n = text.size();
  if (n > room) {
    n = room;
    m_truncated = true;
  }
  for (size_t i = 0; i < n; ++i) m_buffer[m_length + i] = text[i];
  m_length += n;
  terminate();
}

void BufferSink::terminate() {
  if (!m_buffer.empty()) m_buffer[m_length] = '\0';
}

}  // namespace kern
