// The shell's lexer and recursive-descent parser (grammar in parse.h), and
// the `$` expansion that runs just before a pipeline does.
//
// The lexer hands out one token of lookahead. Word text, with quotes and
// backslashes removed, goes into one buffer of the input's size taken from
// the arena at the start: every byte written consumes at least one byte of
// input, so it cannot overflow. Lists of unknown length (the words of a
// command, the commands of a pipeline, ...) are built as linked nodes in the
// arena and flattened into arrays when they are complete.
#include "parse.h"

#include <new>
#include <optional>
#include <utility>

namespace sh {

void* Arena::allocate(size_t size, size_t align) {
  const size_t start = (m_used + align - 1) & ~(align - 1);
  if (start > m_size || size > m_size - start) return nullptr;
  m_used = start + size;
  return m_base + start;
}

namespace {

template <typename T>
using Parsed = std::expected<T, ParseError>;

#define SH_TRY(var, expr)                                   \
  auto var##_result = (expr);                               \
  if (!var##_result) return std::unexpected(var##_result.error()); \
  auto var = std::move(*var##_result)

constexpr std::string_view kNewline = "newline";

// A list under construction: nodes in the arena, flattened by finish().
template <typename T>
class Builder {
 public:
  bool push(Arena& arena, const T& value) {
    auto* node = static_cast<Node*>(arena.allocate(sizeof(Node), alignof(Node)));
    if (node == nullptr) return false;
    new (node) Node{value, nullptr};
    (m_tail ? m_tail->next : m_head) = node;
    m_tail = node;
    ++m_count;
    return true;
  }
  size_t size() const { return m_count; }
  // The elements as one array in the arena; nullopt when it is full.
  std::optional<std::span<const T>> finish(Arena& arena) const {
    if (m_count == 0) return std::span<const T>{};
    T* array = arena.allocate_array<T>(m_count);
    if (array == nullptr) return std::nullopt;
    size_t i = 0;
    for (const Node* node = m_head; node != nullptr; node = node->next) new (&array[i++]) T(node->value);
    return std::span<const T>(array, m_count);
  }

 private:
  struct Node {
    T value;
    Node* next;
  };
  Node* m_head = nullptr;
  Node* m_tail = nullptr;
  size_t m_count = 0;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }
bool is_blank(char c) { return c == ' ' || c == '\t'; }
// Characters that end an unquoted word.
bool is_meta(char c) {
  return is_blank(c) || c == '\n' || c == '|' || c == '&' || c == ';' || c == '<' || c == '>' ||
         c == '(' || c == ')';
}
// Names of one character after `$`: $? $$ $! $# and $0..$9.
bool is_special_name(char c) { return c == '?' || c == '$' || c == '!' || c == '#' || is_digit(c); }

enum class TokenKind : uint8_t { Word, Pipe, AndIf, OrIf, Amp, Semi, Newline, Redirect, End };

struct Token {
  TokenKind kind;
  size_t offset;
  std::string_view text;  // source text, for error messages
  Word word;              // Word
  int fd;                 // Redirect: the descriptor redirected
  RedirectOp op;          // Redirect (Dup stands for both >& and <&, target still to read)
};

class Lexer {
 public:
  Lexer(std::string_view input, Arena& arena, char* text) : m_in(input), m_arena(arena), m_text(text) {}

  Parsed<Token> peek() {
    if (!m_peeked) {
      SH_TRY(token, lex());
      m_token = token;
      m_peeked = true;
    }
    return m_token;
  }
  void consume() { m_peeked = false; }

 private:
  ParseError error(ErrorKind kind, size_t offset, size_t length) const {
    return ParseError{kind, m_in.substr(offset, length), offset};
  }
  ParseError too_long() const { return ParseError{ErrorKind::TooLong, {}, m_pos}; }

  bool at(size_t i, char c) const { return i < m_in.size() && m_in[i] == c; }

  Token simple(TokenKind kind, size_t length) {
    Token token{};
    token.kind = kind;
    token.offset = m_pos;
    token.text = m_in.substr(m_pos, length);
    m_pos += length;
    return token;
  }

  Parsed<Token> lex() {
    // Blanks, line continuations and a comment up to (not including) the newline.
    for (;;) {
      if (m_pos < m_in.size() && is_blank(m_in[m_pos])) {
        ++m_pos;
      } else if (at(m_pos, '\\') && at(m_pos + 1, '\n')) {
        m_pos += 2;
      } else if (at(m_pos, '#')) {
        while (m_pos < m_in.size() && m_in[m_pos] != '\n') ++m_pos;
      } else {
        break;
      }
    }
    if (m_pos >= m_in.size()) {
      Token token{};
      token.kind = TokenKind::End;
      token.offset = m_pos;
      token.text = kNewline;
      return token;
    }
    const char c = m_in[m_pos];
    switch (c) {
      case '\n': {
        Token token = simple(TokenKind::Newline, 1);
        token.text = kNewline;
        return token;
      }
      case '|':
        return at(m_pos + 1, '|') ? simple(TokenKind::OrIf, 2) : simple(TokenKind::Pipe, 1);
      case '&':
        return at(m_pos + 1, '&') ? simple(TokenKind::AndIf, 2) : simple(TokenKind::Amp, 1);
      case ';':
        if (at(m_pos + 1, ';')) return std::unexpected(error(ErrorKind::UnexpectedToken, m_pos, 2));
        return simple(TokenKind::Semi, 1);
      case '(':
      case ')':
        return std::unexpected(error(ErrorKind::Unsupported, m_pos, 1));
      case '<':
      case '>':
        return lex_redirect(m_pos, -1);
      default:
        break;
    }
    // An IO number: digits directly followed by < or >.
    size_t end = m_pos;
    while (end < m_in.size() && is_digit(m_in[end])) ++end;
    if (end > m_pos && end - m_pos <= 4 && (at(end, '<') || at(end, '>'))) {
      int fd = 0;
      for (size_t i = m_pos; i < end; ++i) fd = fd * 10 + (m_in[i] - '0');
      return lex_redirect(end, fd);
    }
    return lex_word();
  }

  // A redirection operator at `op_pos`, with an explicit descriptor number
  // before it (fd >= 0) or not (-1).
  Parsed<Token> lex_redirect(size_t op_pos, int fd) {
    const size_t start = m_pos;
    const bool input = m_in[op_pos] == '<';
    size_t length = 1;
    RedirectOp op = input ? RedirectOp::Input : RedirectOp::Output;
    if (input && at(op_pos + 1, '<')) return std::unexpected(error(ErrorKind::Unsupported, op_pos, 2));
    if (input && at(op_pos + 1, '>')) return std::unexpected(error(ErrorKind::Unsupported, op_pos, 2));
    if (at(op_pos + 1, '&')) {
      op = RedirectOp::Dup;
      length = 2;
    } else if (!input && at(op_pos + 1, '>')) {
      op = RedirectOp::Append;
      length = 2;
    } else if (!input && at(op_pos + 1, '|')) {
      length = 2;
    }
    Token token{};
    token.kind = TokenKind::Redirect;
    token.offset = start;
    token.text = m_in.substr(start, op_pos + length - start);
    token.fd = fd >= 0 ? fd : (input ? 0 : 1);
    token.op = op;
    m_pos = op_pos + length;
    return token;
  }

  void append(char c) { m_text[m_text_used++] = c; }

  // Ends the literal text since `m_literal_start` as a part, if there is any.
  bool flush_literal(Builder<WordPart>& parts) {
    if (m_text_used == m_literal_start) return true;
    const std::string_view text(m_text + m_literal_start, m_text_used - m_literal_start);
    m_literal_start = m_text_used;
    return parts.push(m_arena, WordPart{WordPart::Kind::Literal, text});
  }

  // A `$` at m_pos: a reference, or a literal '$' when no name follows.
  Parsed<bool> lex_dollar(Builder<WordPart>& parts) {
    const size_t start = m_pos;
    size_t name_start = m_pos + 1;
    size_t name_end = name_start;
    size_t next = name_start;
    if (at(name_start, '{')) {
      ++name_start;
      name_end = name_start;
      while (name_end < m_in.size() && m_in[name_end] != '}' && m_in[name_end] != '\n') ++name_end;
      if (!at(name_end, '}')) return std::unexpected(error(ErrorKind::BadSubstitution, start, name_end - start));
      const std::string_view name = m_in.substr(name_start, name_end - name_start);
      bool valid = !name.empty();
      if (valid && !(name.size() == 1 && is_special_name(name[0]))) {
        bool all_digits = true;
        for (char ch : name) all_digits = all_digits && is_digit(ch);
        valid = all_digits || is_name_start(name[0]);
        for (char ch : name) valid = valid && (all_digits || is_name_char(ch));
      }
      if (!valid) return std::unexpected(error(ErrorKind::BadSubstitution, start, name_end + 1 - start));
      next = name_end + 1;
    } else if (at(name_start, '(')) {
      return std::unexpected(error(ErrorKind::Unsupported, start, 2));
    } else if (name_start < m_in.size() && is_special_name(m_in[name_start])) {
      name_end = name_start + 1;
      next = name_end;
    } else if (name_start < m_in.size() && is_name_start(m_in[name_start])) {
      while (name_end < m_in.size() && is_name_char(m_in[name_end])) ++name_end;
      next = name_end;
    } else {
      append('$');
      ++m_pos;
      return true;
    }
    if (!flush_literal(parts)) return std::unexpected(too_long());
    for (size_t i = name_start; i < name_end; ++i) append(m_in[i]);
    const std::string_view name(m_text + m_literal_start, name_end - name_start);
    m_literal_start = m_text_used;
    if (!parts.push(m_arena, WordPart{WordPart::Kind::Variable, name})) return std::unexpected(too_long());
    m_pos = next;
    return true;
  }

  // "...": `$` references expand, a backslash escapes only $ ` " \ and newline.
  Parsed<bool> lex_double_quoted(Builder<WordPart>& parts) {
    const size_t open = m_pos++;
    for (;;) {
      if (m_pos >= m_in.size()) return std::unexpected(error(ErrorKind::UnexpectedEnd, open, 1));
      const char c = m_in[m_pos];
      if (c == '"') {
        ++m_pos;
        return true;
      }
      if (c == '\\' && m_pos + 1 < m_in.size()) {
        const char next = m_in[m_pos + 1];
        if (next == '\n') {
          m_pos += 2;
          continue;
        }
        if (next == '$' || next == '`' || next == '"' || next == '\\') {
          append(next);
          m_pos += 2;
          continue;
        }
      }
      if (c == '$') {
        SH_TRY(ok, lex_dollar(parts));
        (void)ok;
        continue;
      }
      if (c == '`') return std::unexpected(error(ErrorKind::Unsupported, m_pos, 1));
      append(c);
      ++m_pos;
    }
  }

  Parsed<Token> lex_word() {
    Token token{};
    token.kind = TokenKind::Word;
    token.offset = m_pos;
    Builder<WordPart> parts;
    bool quoted = false;
    m_literal_start = m_text_used;
    while (m_pos < m_in.size() && !is_meta(m_in[m_pos])) {
      const char c = m_in[m_pos];
      if (c == '\\') {
        if (at(m_pos + 1, '\n')) {
          m_pos += 2;
        } else if (m_pos + 1 < m_in.size()) {
          append(m_in[m_pos + 1]);
          quoted = true;
          m_pos += 2;
        } else {
          append('\\');  // a backslash at the very end stands for itself
          ++m_pos;
        }
      } else if (c == '\'') {
        const size_t open = m_pos++;
        while (m_pos < m_in.size() && m_in[m_pos] != '\'') append(m_in[m_pos++]);
        if (m_pos >= m_in.size()) return std::unexpected(error(ErrorKind::UnexpectedEnd, open, 1));
        ++m_pos;
        quoted = true;
      } else if (c == '"') {
        SH_TRY(ok, lex_double_quoted(parts));
        (void)ok;
        quoted = true;
      } else if (c == '$') {
        SH_TRY(ok, lex_dollar(parts));
        (void)ok;
      } else if (c == '`') {
        return std::unexpected(error(ErrorKind::Unsupported, m_pos, 1));
      } else {
        append(c);
        ++m_pos;
      }
    }
    if (!flush_literal(parts)) return std::unexpected(too_long());
    auto array = parts.finish(m_arena);
    if (!array) return std::unexpected(too_long());
    token.word = Word{*array, quoted};
    token.text = m_in.substr(token.offset, m_pos - token.offset);
    return token;
  }

  std::string_view m_in;
  Arena& m_arena;
  char* m_text;              // word text, input.size() bytes
  size_t m_text_used = 0;
  size_t m_literal_start = 0;  // where the literal being built starts in m_text
  size_t m_pos = 0;
  bool m_peeked = false;
  Token m_token{};
};

class Parser {
 public:
  Parser(Lexer& lexer, Arena& arena) : m_lex(lexer), m_arena(arena) {}

  Parsed<Script> script() {
    Builder<List> lists;
    for (;;) {
      SH_TRY(token, m_lex.peek());
      if (token.kind == TokenKind::End) break;
      if (token.kind == TokenKind::Newline) {
        m_lex.consume();
        continue;
      }
      SH_TRY(list, and_or());
      SH_TRY(sep, m_lex.peek());
      if (sep.kind == TokenKind::Amp) list.background = true;
      if (sep.kind == TokenKind::Amp || sep.kind == TokenKind::Semi || sep.kind == TokenKind::Newline) {
        m_lex.consume();
      } else if (sep.kind != TokenKind::End) {
        return std::unexpected(unexpected(sep));
      }
      if (!lists.push(m_arena, list)) return std::unexpected(too_long());
    }
    auto array = lists.finish(m_arena);
    if (!array) return std::unexpected(too_long());
    return Script{*array};
  }

 private:
  static ParseError unexpected(const Token& token) {
    return ParseError{ErrorKind::UnexpectedToken, token.text, token.offset};
  }
  ParseError too_long() const { return ParseError{ErrorKind::TooLong, {}, 0}; }

  // After `|`, `&&` or `||`: newlines may follow, the end of input may not.
  Parsed<bool> continuation(const Token& op) {
    for (;;) {
      SH_TRY(token, m_lex.peek());
      if (token.kind == TokenKind::Newline) {
        m_lex.consume();
        continue;
      }
      if (token.kind == TokenKind::End) return std::unexpected(ParseError{ErrorKind::UnexpectedEnd, op.text, op.offset});
      return true;
    }
  }

  Parsed<List> and_or() {
    Builder<Pipeline> pipelines;
    Builder<Connector> connectors;
    for (;;) {
      SH_TRY(pipe, pipeline());
      if (!pipelines.push(m_arena, pipe)) return std::unexpected(too_long());
      SH_TRY(token, m_lex.peek());
      if (token.kind != TokenKind::AndIf && token.kind != TokenKind::OrIf) break;
      m_lex.consume();
      const Connector connector = token.kind == TokenKind::AndIf ? Connector::IfSuccess : Connector::IfFailure;
      if (!connectors.push(m_arena, connector)) return std::unexpected(too_long());
      SH_TRY(ok, continuation(token));
      (void)ok;
    }
    auto pipe_array = pipelines.finish(m_arena);
    auto connector_array = connectors.finish(m_arena);
    if (!pipe_array || !connector_array) return std::unexpected(too_long());
    return List{*pipe_array, *connector_array, false};
  }

  Parsed<Pipeline> pipeline() {
    Builder<Command> commands;
    for (;;) {
      SH_TRY(cmd, command());
      if (!commands.push(m_arena, cmd)) return std::unexpected(too_long());
      SH_TRY(token, m_lex.peek());
      if (token.kind != TokenKind::Pipe) break;
      m_lex.consume();
      SH_TRY(ok, continuation(token));
      (void)ok;
    }
    auto array = commands.finish(m_arena);
    if (!array) return std::unexpected(too_long());
    return Pipeline{*array};
  }

  // The target of a Dup redirection: a descriptor number, or "-" to close.
  static std::optional<Redirect> dup_target(const Token& op, const Token& target) {
    const auto& parts = target.word.parts;
    if (parts.size() != 1 || parts[0].kind != WordPart::Kind::Literal) return std::nullopt;
    const std::string_view text = parts[0].text;
    if (text == "-") return Redirect{op.fd, RedirectOp::Close, Word{}, -1};
    if (text.empty() || text.size() > 4) return std::nullopt;
    int fd = 0;
    for (char c : text) {
      if (!is_digit(c)) return std::nullopt;
      fd = fd * 10 + (c - '0');
    }
    return Redirect{op.fd, RedirectOp::Dup, Word{}, fd};
  }

  Parsed<Command> command() {
    Builder<Word> words;
    Builder<Redirect> redirects;
    for (;;) {
      SH_TRY(token, m_lex.peek());
      if (token.kind == TokenKind::Word) {
        m_lex.consume();
        if (!words.push(m_arena, token.word)) return std::unexpected(too_long());
        continue;
      }
      if (token.kind != TokenKind::Redirect) {
        if (words.size() == 0 && redirects.size() == 0) return std::unexpected(unexpected(token));
        break;
      }
      m_lex.consume();
      SH_TRY(target, m_lex.peek());
      if (target.kind != TokenKind::Word) return std::unexpected(unexpected(target));
      m_lex.consume();
      Redirect redirect{token.fd, token.op, target.word, -1};
      if (token.op == RedirectOp::Dup) {
        auto dup = dup_target(token, target);
        if (!dup) return std::unexpected(unexpected(target));
        redirect = *dup;
      }
      if (!redirects.push(m_arena, redirect)) return std::unexpected(too_long());
    }
    auto word_array = words.finish(m_arena);
    auto redirect_array = redirects.finish(m_arena);
    if (!word_array || !redirect_array) return std::unexpected(too_long());
    return Command{*word_array, *redirect_array};
  }

  Lexer& m_lex;
  Arena& m_arena;
};

// Appends to a fixed buffer, truncating, always NUL-terminated.
class Writer {
 public:
  Writer(char* out, size_t size) : m_out(out), m_size(size) {
    if (m_size > 0) m_out[0] = '\0';
  }
  Writer& operator<<(std::string_view text) {
    for (char c : text) {
      if (m_used + 1 >= m_size) break;
      m_out[m_used++] = c;
    }
    if (m_size > 0) m_out[m_used] = '\0';
    return *this;
  }

 private:
  char* m_out;
  size_t m_size;
  size_t m_used = 0;
};

// Decimal text of `value` in `buffer` (at least 12 bytes).
std::string_view decimal(int value, char* buffer) {
  char* end = buffer + 12;
  char* p = end;
  unsigned magnitude = value < 0 ? 0u - static_cast<unsigned>(value) : static_cast<unsigned>(value);
  do {
    *--p = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0);
  if (value < 0) *--p = '-';
  return std::string_view(p, static_cast<size_t>(end - p));
}

// The value of one reference; `scratch` (12 bytes) holds numbers.
std::string_view value_of(std::string_view name, const Environment& env, char* scratch) {
  if (name == "?") return decimal(env.last_status, scratch);
  if (name == "$") return decimal(env.shell_pid, scratch);
  if (name == "#") return decimal(env.argument_count, scratch);
  if (name == "!") return env.last_background_pid > 0 ? decimal(env.last_background_pid, scratch) : "";
  if (env.lookup == nullptr) return "";
  const std::string_view value = env.lookup(name, env.context);
  return value.data() == nullptr ? std::string_view{} : value;
}

}  // namespace

ParseResult parse(std::string_view input, Arena& arena) {
  char* text = arena.allocate_array<char>(input.size() + 1);
  if (text == nullptr) return std::unexpected(ParseError{ErrorKind::TooLong, {}, 0});
  Lexer lexer(input, arena, text);
  Parser parser(lexer, arena);
  return parser.script();
}

const char* describe(const ParseError& error, char* out, size_t size) {
  Writer w(out, size);
  switch (error.kind) {
    case ErrorKind::UnexpectedToken:
      w << "syntax error near unexpected token `" << error.token << "'";
      break;
    case ErrorKind::UnexpectedEnd:
      if (error.token == "'" || error.token == "\"") {
        w << "syntax error: unterminated quote " << error.token;
      } else {
        w << "syntax error: unexpected end of input after `" << error.token << "'";
      }
      break;
    case ErrorKind::BadSubstitution:
      w << error.token << ": bad substitution";
      break;
    case ErrorKind::Unsupported:
      w << "`" << error.token << "' is not supported";
      break;
    case ErrorKind::TooLong:
      w << "input too long";
      break;
  }
  return out;
}

const char* expand_word(const Word& word, const Environment& env, Arena& arena) {
  char scratch[12];
  size_t length = 0;
  for (const WordPart& part : word.parts) {
    length += part.kind == WordPart::Kind::Literal ? part.text.size() : value_of(part.text, env, scratch).size();
  }
  char* out = arena.allocate_array<char>(length + 1);
  if (out == nullptr) return nullptr;
  size_t used = 0;
  for (const WordPart& part : word.parts) {
    const std::string_view text = part.kind == WordPart::Kind::Literal ? part.text : value_of(part.text, env, scratch);
    for (char c : text) out[used++] = c;
  }
  out[used] = '\0';
  return out;
}

Arguments expand_argv(const Command& command, const Environment& env, Arena& arena) {
  char** argv = arena.allocate_array<char*>(command.words.size() + 1);
  if (argv == nullptr) return Arguments{nullptr, 0};
  int argc = 0;
  for (const Word& word : command.words) {
    const char* arg = expand_word(word, env, arena);
    if (arg == nullptr) return Arguments{nullptr, 0};
    if (arg[0] == '\0' && !word.quoted) continue;
    argv[argc++] = const_cast<char*>(arg);
  }
  argv[argc] = nullptr;
  return Arguments{argv, argc};
}

}  // namespace sh
