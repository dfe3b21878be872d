// The shell's parser: one line (or a -c string, or a script's lines) becomes
// a Script, a tree of and-or lists, pipelines, commands, words and
// redirections. Quotes and backslashes are removed here; `$` references are
// not: a word keeps them as Variable parts, and expand_word/expand_argv
// resolve them just before the pipeline runs, so `false; echo $?` sees the
// status of `false`.
//
// The grammar, a subset of POSIX sh:
//
//   script    := [list] (sep list)* [sep]         sep: ';' '&' newline
//   list      := pipeline (('&&' | '||') newline* pipeline)*
//   pipeline  := command ('|' newline* command)*
//   command   := (word | redirect)+
//   redirect  := [digits] ('<' | '>' | '>>' | '>|') word
//              | [digits] ('>&' | '<&') (digits | '-')
//
// A trailing '&' puts the whole list (not just its last pipeline) in the
// background, as in POSIX. Not supported, and reported as such rather than
// misread: subshells `( )`, here-documents `<<`, `<>`, command substitution
// `$(...)` and backquotes. There is no field splitting or globbing: a `$NAME`
// expands to exactly one argument (or none, when the word is nothing but
// unquoted references that expand to "").
//
// Pure code: no libc, no heap. Everything the parser builds lives in an Arena
// the caller supplies, so it compiles for the target and for the host tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string_view>

namespace sh {

// A bump allocator over a caller's buffer. allocate returns nullptr when the
// buffer is full; nothing is freed but by reset().
class Arena {
 public:
  Arena(void* buffer, size_t size) : m_base(static_cast<char*>(buffer)), m_size(size) {}

  void* allocate(size_t size, size_t align);
  template <typename T>
  T* allocate_array(size_t count) {
    return static_cast<T*>(allocate(sizeof(T) * count, alignof(T)));
  }
  void reset() { m_used = 0; }
  size_t used() const { return m_used; }

 private:
  char* m_base;
  size_t m_size;
  size_t m_used = 0;
};

// A piece of a word: literal text (quotes and backslashes already removed)
// or a `$` reference by name: "?", "$", "!", "#", "0".."9" or an environment
// name.
struct WordPart {
  enum class Kind : uint8_t { Literal, Variable };
  Kind kind;
  std::string_view text;  // the literal text, or the variable's name
};

struct Word {
  std::span<const WordPart> parts;
  // Some part of the word was quoted or escaped: it stays an argument even
  // when it expands to "" (`echo "" $UNSET` has one argument).
  bool quoted;
};

enum class RedirectOp : uint8_t {
  Input,   // n<word   (n defaults to 0)
  Output,  // n>word, n>|word (n defaults to 1): create or truncate
  Append,  // n>>word
  Dup,     // n>&m, n<&m: fd n becomes a copy of fd m
  Close,   // n>&-, n<&-
};

struct Redirect {
  int fd;            // the descriptor being redirected
  RedirectOp op;
  Word target;       // the file (Input, Output, Append)
  int source_fd;     // m of n>&m (Dup)
};

struct Command {
  std::span<const Word> words;        // argv before expansion; may be empty
  std::span<const Redirect> redirects;  // applied left to right
};

struct Pipeline {
  std::span<const Command> commands;  // at least one
};

// How a pipeline follows the one before it in a list.
enum class Connector : uint8_t { IfSuccess /* && */, IfFailure /* || */ };

struct List {
  std::span<const Pipeline> pipelines;     // at least one
  std::span<const Connector> connectors;   // connectors[i] joins pipelines[i] and [i+1]
  bool background;                         // ended with '&'
};

struct Script {
  std::span<const List> lists;  // empty for a blank line or a comment
};

enum class ErrorKind : uint8_t {
  UnexpectedToken,    // `| a`, `a >`, `;;`: token says which ("newline" at the end)
  UnexpectedEnd,      // the input stops inside a quote or after `|`, `&&`, `||`:
                      // more input could complete it (a continuation line)
  BadSubstitution,    // `${` without its `}` or with no name
  Unsupported,        // `(`, `)`, `<<`, `<>`, `$(`, a backquote: token says which
  TooLong,            // the arena is full
};

struct ParseError {
  ErrorKind kind;
  std::string_view token;  // the offending text (points into the input, or static)
  size_t offset;           // where in the input
};

using ParseResult = std::expected<Script, ParseError>;

// Parses `input` into the arena. The Script points into the arena (and
// never into the input, which the caller may reuse). Errors are values; no
// input can make it crash or loop.
ParseResult parse(std::string_view input, Arena& arena);

// A one-line description of an error, without the "sh: " prefix, written
// into out (truncated to fit, always NUL-terminated). Returns out.
const char* describe(const ParseError& error, char* out, size_t size);

// What `$` references read. lookup returns the value of an environment
// variable or positional parameter ("0".."9"), or a string_view with a null
// data() when it is unset.
struct Environment {
  int last_status = 0;             // $?
  int shell_pid = 0;               // $$
  int last_background_pid = 0;     // $!, 0 when there is none ("")
  int argument_count = 0;          // $#
  std::string_view (*lookup)(std::string_view name, void* context) = nullptr;
  void* context = nullptr;
};

// The word with its references expanded, NUL-terminated, in the arena.
// nullptr when the arena is full.
const char* expand_word(const Word& word, const Environment& env, Arena& arena);

struct Arguments {
  char** argv;  // NULL-terminated; nullptr when the arena was full
  int argc;
};

// The command's words expanded into an argv in the arena, a word that is
// nothing but unquoted references expanding to "" dropped.
Arguments expand_argv(const Command& command, const Environment& env, Arena& arena);

}  // namespace sh
