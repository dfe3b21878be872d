// The shell's parser and `$` expansion (user/sh/parse.cc). Most tests parse
// a line and compare a canonical rendering of the tree: words in [brackets]
// with references as ${name}, redirections as fd, operator and target,
// pipelines joined by |, lists by && and ||, a background list ending in &,
// and lists separated by "; ".
#include "parse.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace {

using sh::ErrorKind;

std::string render_word(const sh::Word& word) {
  std::string out = "[";
  for (const auto& part : word.parts) {
    if (part.kind == sh::WordPart::Kind::Literal) {
      out += part.text;
    } else {
      out += "${" + std::string(part.text) + "}";
    }
  }
  return out + "]";
}

std::string render_command(const sh::Command& command) {
  std::string out;
  for (const auto& word : command.words) {
    if (!out.empty()) out += " ";
    out += render_word(word);
  }
  for (const auto& r : command.redirects) {
    if (!out.empty()) out += " ";
    out += std::to_string(r.fd);
    switch (r.op) {
      case sh::RedirectOp::Input: out += "<" + render_word(r.target); break;
      case sh::RedirectOp::Output: out += ">" + render_word(r.target); break;
      case sh::RedirectOp::Append: out += ">>" + render_word(r.target); break;
      case sh::RedirectOp::Dup: out += ">&" + std::to_string(r.source_fd); break;
      case sh::RedirectOp::Close: out += ">&-"; break;
    }
  }
  return out;
}

std::string render(const sh::Script& script) {
  std::string out;
  for (const auto& list : script.lists) {
    if (!out.empty()) out += "; ";
    for (size_t i = 0; i < list.pipelines.size(); ++i) {
      if (i > 0) out += list.connectors[i - 1] == sh::Connector::IfSuccess ? " && " : " || ";
      const auto& commands = list.pipelines[i].commands;
      for (size_t j = 0; j < commands.size(); ++j) {
        if (j > 0) out += " | ";
        out += render_command(commands[j]);
      }
    }
    if (list.background) out += " &";
  }
  return out;
}

class ShParse : public ::testing::Test {
 protected:
  sh::ParseResult parse(std::string_view line) {
    m_arena.reset();
    return sh::parse(line, m_arena);
  }
  // The rendering of a line that must parse.
  std::string tree(std::string_view line) {
    auto result = parse(line);
    EXPECT_TRUE(result.has_value()) << "input: " << line;
    return result ? render(*result) : "<error>";
  }
  // The error of a line that must not parse.
  sh::ParseError error(std::string_view line) {
    auto result = parse(line);
    EXPECT_FALSE(result.has_value()) << "input: " << line << " gave " << (result ? render(*result) : "");
    return result ? sh::ParseError{} : result.error();
  }
  std::string message(std::string_view line) {
    char buffer[128];
    return sh::describe(error(line), buffer, sizeof buffer);
  }

  alignas(16) char m_buffer[64 * 1024];
  sh::Arena m_arena{m_buffer, sizeof m_buffer};
};

TEST_F(ShParse, EmptyBlankAndCommentLinesHaveNoLists) {
  EXPECT_EQ(tree(""), "");
  EXPECT_EQ(tree("   \t "), "");
  EXPECT_EQ(tree("# just a comment"), "");
  EXPECT_EQ(tree("\n\n"), "");
}

TEST_F(ShParse, SimpleCommandsSplitOnBlanks) {
  EXPECT_EQ(tree("ls"), "[ls]");
  EXPECT_EQ(tree("  echo   hello\tworld  "), "[echo] [hello] [world]");
  EXPECT_EQ(tree("echo a # a comment"), "[echo] [a]");
  EXPECT_EQ(tree("echo a#b"), "[echo] [a#b]");
}

TEST_F(ShParse, SingleQuotesKeepEverythingLiteral) {
  EXPECT_EQ(tree("echo 'a  b' 'c|d;e&f' '$? \\n \"'"), "[echo] [a  b] [c|d;e&f] [$? \\n \"]");
  EXPECT_EQ(tree("echo a'b c'd"), "[echo] [ab cd]");
}

TEST_F(ShParse, DoubleQuotesExpandReferencesAndFewEscapes) {
  EXPECT_EQ(tree("echo \"a  b\" \"x|y\""), "[echo] [a  b] [x|y]");
  EXPECT_EQ(tree("echo \"s=$? p=$$\""), "[echo] [s=${?} p=${$}]");
  EXPECT_EQ(tree("echo \"\\$ \\\" \\\\ \\n '\""), "[echo] [$ \" \\ \\n ']");
  EXPECT_EQ(tree("echo \"a\\\nb\""), "[echo] [ab]");
}

TEST_F(ShParse, BackslashEscapesOneCharacter) {
  EXPECT_EQ(tree("echo a\\ b \\| \\$x \\'"), "[echo] [a b] [|] [$x] [']");
  EXPECT_EQ(tree("echo a\\\nb"), "[echo] [ab]");
  EXPECT_EQ(tree("echo \\\n b"), "[echo] [b]");
  EXPECT_EQ(tree("echo a\\"), "[echo] [a\\]");
}

TEST_F(ShParse, QuotedEmptyWordsAreWords) {
  auto result = parse("echo '' \"\" x");
  ASSERT_TRUE(result);
  const auto& words = result->lists[0].pipelines[0].commands[0].words;
  ASSERT_EQ(words.size(), 4u);
  EXPECT_TRUE(words[1].quoted);
  EXPECT_TRUE(words[1].parts.empty());
  EXPECT_TRUE(words[2].quoted);
  EXPECT_FALSE(words[3].quoted);
}

TEST_F(ShParse, DollarReferences) {
  EXPECT_EQ(tree("echo $? $$ $! $# $0 $12 $HOME x$PATH/y ${A}b ${10} ${?}"),
            "[echo] [${?}] [${$}] [${!}] [${#}] [${0}] [${1}2] [${HOME}] [x${PATH}/y] [${A}b] [${10}] [${?}]");
  EXPECT_EQ(tree("echo $ a$ $/ \"$\" $-"), "[echo] [$] [a$] [$/] [$] [$-]");
}

TEST_F(ShParse, Pipelines) {
  EXPECT_EQ(tree("a | b"), "[a] | [b]");
  EXPECT_EQ(tree("a|b|c -x"), "[a] | [b] | [c] [-x]");
  EXPECT_EQ(tree("a |\n b"), "[a] | [b]");
}

TEST_F(ShParse, Redirections) {
  EXPECT_EQ(tree("cat < in > out"), "[cat] 0<[in] 1>[out]");
  EXPECT_EQ(tree("cat<in>out"), "[cat] 0<[in] 1>[out]");
  EXPECT_EQ(tree("echo a >> log"), "[echo] [a] 1>>[log]");
  EXPECT_EQ(tree("echo a >| f"), "[echo] [a] 1>[f]");
  EXPECT_EQ(tree("cmd 2> err"), "[cmd] 2>[err]");
  EXPECT_EQ(tree("cmd 2>&1 >&2 3<&0 2>&-"), "[cmd] 2>&1 1>&2 3>&0 2>&-");
  EXPECT_EQ(tree("cmd 2>& 1"), "[cmd] 2>&1");
  EXPECT_EQ(tree("> f"), "1>[f]");
  EXPECT_EQ(tree("echo a2>f 2 > g"), "[echo] [a2] [2] 1>[f] 1>[g]");
  EXPECT_EQ(tree("cat > 'my file' < \"$IN\""), "[cat] 1>[my file] 0<[${IN}]");
  EXPECT_EQ(tree("a > f | b"), "[a] 1>[f] | [b]");
}

TEST_F(ShParse, RedirectionOperatorsKeepTheirKinds) {
  auto result = parse("c 2>&1 <x");
  ASSERT_TRUE(result);
  const auto& r = result->lists[0].pipelines[0].commands[0].redirects;
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].op, sh::RedirectOp::Dup);
  EXPECT_EQ(r[0].fd, 2);
  EXPECT_EQ(r[0].source_fd, 1);
  EXPECT_EQ(r[1].op, sh::RedirectOp::Input);
  EXPECT_EQ(r[1].fd, 0);
}

TEST_F(ShParse, Background) {
  EXPECT_EQ(tree("sleep 1 &"), "[sleep] [1] &");
  EXPECT_EQ(tree("a & b"), "[a] &; [b]");
  EXPECT_EQ(tree("a | b & c &"), "[a] | [b] &; [c] &");
  EXPECT_EQ(tree("a && b &"), "[a] && [b] &");
  EXPECT_EQ(tree("a&b"), "[a] &; [b]");
}

TEST_F(ShParse, Sequences) {
  EXPECT_EQ(tree("a; b ;c"), "[a]; [b]; [c]");
  EXPECT_EQ(tree("a;"), "[a]");
  EXPECT_EQ(tree("a\nb\n"), "[a]; [b]");
}

TEST_F(ShParse, AndOrLists) {
  EXPECT_EQ(tree("a && b || c"), "[a] && [b] || [c]");
  EXPECT_EQ(tree("a&&b||c;d"), "[a] && [b] || [c]; [d]");
  EXPECT_EQ(tree("a | b && c | d"), "[a] | [b] && [c] | [d]");
  EXPECT_EQ(tree("a &&\n\n b"), "[a] && [b]");
}

TEST_F(ShParse, TheScriptDoesNotPointIntoTheInput) {
  std::string line = "echo hello";
  auto result = parse(line);
  ASSERT_TRUE(result);
  line.assign(line.size(), 'x');
  EXPECT_EQ(render(*result), "[echo] [hello]");
}

struct ErrorCase {
  const char* input;
  ErrorKind kind;
  const char* token;
};

class ShParseErrors : public ShParse, public ::testing::WithParamInterface<ErrorCase> {};

TEST_P(ShParseErrors, AreReportedWithTheirToken) {
  const ErrorCase& c = GetParam();
  const sh::ParseError e = error(c.input);
  EXPECT_EQ(e.kind, c.kind) << c.input;
  EXPECT_EQ(e.token, c.token) << c.input;
}

INSTANTIATE_TEST_SUITE_P(
    All, ShParseErrors,
    ::testing::Values(
        ErrorCase{"| a", ErrorKind::UnexpectedToken, "|"},
        ErrorCase{"a | | b", ErrorKind::UnexpectedToken, "|"},
        ErrorCase{"a >", ErrorKind::UnexpectedToken, "newline"},
        ErrorCase{"a >\nb", ErrorKind::UnexpectedToken, "newline"},
        ErrorCase{"a < ", ErrorKind::UnexpectedToken, "newline"},
        ErrorCase{"a >> ;", ErrorKind::UnexpectedToken, ";"},
        ErrorCase{"a > | b", ErrorKind::UnexpectedToken, "|"},
        ErrorCase{"a 2>&x", ErrorKind::UnexpectedToken, "x"},
        ErrorCase{"a 2>&$X", ErrorKind::UnexpectedToken, "$X"},
        ErrorCase{"a 2>&", ErrorKind::UnexpectedToken, "newline"},
        ErrorCase{"; a", ErrorKind::UnexpectedToken, ";"},
        ErrorCase{"a ; ; b", ErrorKind::UnexpectedToken, ";"},
        ErrorCase{"a ;; b", ErrorKind::UnexpectedToken, ";;"},
        ErrorCase{"& a", ErrorKind::UnexpectedToken, "&"},
        ErrorCase{"a & & b", ErrorKind::UnexpectedToken, "&"},
        ErrorCase{"a & ;", ErrorKind::UnexpectedToken, ";"},
        ErrorCase{"&& a", ErrorKind::UnexpectedToken, "&&"},
        ErrorCase{"|| a", ErrorKind::UnexpectedToken, "||"},
        ErrorCase{"a && || b", ErrorKind::UnexpectedToken, "||"},
        ErrorCase{"a && ; b", ErrorKind::UnexpectedToken, ";"},
        ErrorCase{"a | ; b", ErrorKind::UnexpectedToken, ";"},
        ErrorCase{"a |", ErrorKind::UnexpectedEnd, "|"},
        ErrorCase{"a | \n", ErrorKind::UnexpectedEnd, "|"},
        ErrorCase{"a &&", ErrorKind::UnexpectedEnd, "&&"},
        ErrorCase{"a ||\n", ErrorKind::UnexpectedEnd, "||"},
        ErrorCase{"echo 'abc", ErrorKind::UnexpectedEnd, "'"},
        ErrorCase{"echo \"abc", ErrorKind::UnexpectedEnd, "\""},
        ErrorCase{"echo \"a\\\"", ErrorKind::UnexpectedEnd, "\""},
        ErrorCase{"echo ${A", ErrorKind::BadSubstitution, "${A"},
        ErrorCase{"echo ${}", ErrorKind::BadSubstitution, "${}"},
        ErrorCase{"echo ${A-b}", ErrorKind::BadSubstitution, "${A-b}"},
        ErrorCase{"echo ${1a}", ErrorKind::BadSubstitution, "${1a}"},
        ErrorCase{"(a)", ErrorKind::Unsupported, "("},
        ErrorCase{"a )", ErrorKind::Unsupported, ")"},
        ErrorCase{"cat << EOF", ErrorKind::Unsupported, "<<"},
        ErrorCase{"cat <> f", ErrorKind::Unsupported, "<>"},
        ErrorCase{"echo $(ls)", ErrorKind::Unsupported, "$("},
        ErrorCase{"echo \"$(ls)\"", ErrorKind::Unsupported, "$("},
        ErrorCase{"echo `ls`", ErrorKind::Unsupported, "`"},
        ErrorCase{"echo \"`ls`\"", ErrorKind::Unsupported, "`"}));

TEST_F(ShParse, ErrorMessagesNameTheToken) {
  EXPECT_EQ(message("| a"), "syntax error near unexpected token `|'");
  EXPECT_EQ(message("a >"), "syntax error near unexpected token `newline'");
  EXPECT_EQ(message("a |"), "syntax error: unexpected end of input after `|'");
  EXPECT_EQ(message("echo 'x"), "syntax error: unterminated quote '");
  EXPECT_EQ(message("echo ${A"), "${A: bad substitution");
  EXPECT_EQ(message("(a)"), "`(' is not supported");
}

TEST_F(ShParse, ErrorOffsetsPointAtTheToken) {
  EXPECT_EQ(error("a | | b").offset, 4u);
  EXPECT_EQ(error("echo 'x").offset, 5u);
}

TEST_F(ShParse, DescribeTruncatesToTheBuffer) {
  char small[8];
  sh::describe(error("| a"), small, sizeof small);
  EXPECT_EQ(std::string(small), "syntax ");
}

TEST(ShParseArena, AFullArenaIsAnErrorNotACrash) {
  const std::string line = "echo a b c d e f g | cat > x && echo 'quoted' \"$HOME\" &";
  for (size_t size = 0; size < 4096; size += 7) {
    std::vector<char> buffer(size + 1);
    sh::Arena arena(buffer.data(), size);
    auto result = sh::parse(line, arena);
    if (!result) {
      EXPECT_EQ(result.error().kind, ErrorKind::TooLong) << size;
    }
    EXPECT_LE(arena.used(), size);
  }
}

TEST(ShParseFuzz, NoInputCrashesTheParser) {
  // Every string of up to 4 characters over an alphabet of the special
  // characters: each either parses or gives an error.
  const std::string alphabet = "a |&;<>'\"\\$`(){}#2-\n";
  alignas(16) static char buffer[16 * 1024];
  std::string s;
  size_t parsed = 0;
  size_t errors = 0;
  for (size_t n = 1; n <= 4; ++n) {
    std::vector<size_t> index(n, 0);
    for (;;) {
      s.clear();
      for (size_t i : index) s += alphabet[i];
      sh::Arena arena(buffer, sizeof buffer);
      auto result = sh::parse(s, arena);
      (result ? parsed : errors)++;
      size_t k = 0;
      while (k < n && ++index[k] == alphabet.size()) index[k++] = 0;
      if (k == n) break;
    }
  }
  EXPECT_GT(parsed, 0u);
  EXPECT_GT(errors, 0u);
}

class ShExpand : public ShParse {
 protected:
  static std::string_view lookup(std::string_view name, void* context) {
    auto* vars = static_cast<std::map<std::string, std::string>*>(context);
    auto it = vars->find(std::string(name));
    return it == vars->end() ? std::string_view{} : std::string_view(it->second);
  }

  // The argv of the line's first command after expansion.
  std::vector<std::string> argv(std::string_view line) {
    auto result = parse(line);
    EXPECT_TRUE(result.has_value()) << line;
    if (!result) return {};
    const sh::Arguments args = sh::expand_argv(result->lists[0].pipelines[0].commands[0], m_env, m_arena);
    EXPECT_NE(args.argv, nullptr);
    std::vector<std::string> out;
    for (int i = 0; i < args.argc; ++i) out.emplace_back(args.argv[i]);
    EXPECT_EQ(args.argv[args.argc], nullptr);
    return out;
  }

  std::map<std::string, std::string> m_vars{{"HOME", "/home/u"}, {"EMPTY", ""}, {"1", "first"}, {"0", "sh"}};
  sh::Environment m_env{.last_status = 0, .shell_pid = 7, .last_background_pid = 0, .argument_count = 1,
                        .lookup = &lookup, .context = &m_vars};
};

using Args = std::vector<std::string>;

TEST_F(ShExpand, StatusAndPid) {
  m_env.last_status = 127;
  EXPECT_EQ(argv("echo $? $$ x$?y"), (Args{"echo", "127", "7", "x127y"}));
  m_env.last_status = 0;
  EXPECT_EQ(argv("echo $?"), (Args{"echo", "0"}));
  m_env.last_status = -3;
  EXPECT_EQ(argv("echo $?"), (Args{"echo", "-3"}));
  m_env.shell_pid = 2147483647;
  EXPECT_EQ(argv("echo $$"), (Args{"echo", "2147483647"}));
}

TEST_F(ShExpand, LastBackgroundPidIsEmptyUntilThereIsOne) {
  EXPECT_EQ(argv("echo $!"), (Args{"echo"}));
  m_env.last_background_pid = 42;
  EXPECT_EQ(argv("echo $!"), (Args{"echo", "42"}));
}

TEST_F(ShExpand, EnvironmentAndPositionalParameters) {
  EXPECT_EQ(argv("echo $HOME ${HOME}/x \"$HOME\" $0 $1 $#"),
            (Args{"echo", "/home/u", "/home/u/x", "/home/u", "sh", "first", "1"}));
}

TEST_F(ShExpand, UnquotedEmptyExpansionsVanishQuotedOnesStay) {
  EXPECT_EQ(argv("echo $UNSET $EMPTY a"), (Args{"echo", "a"}));
  EXPECT_EQ(argv("echo \"$UNSET\" '' \"\" a"), (Args{"echo", "", "", "", "a"}));
  EXPECT_EQ(argv("echo x$UNSET"), (Args{"echo", "x"}));
}

TEST_F(ShExpand, ReferencesInSingleQuotesStayLiteral) {
  EXPECT_EQ(argv("echo '$HOME' \\$HOME"), (Args{"echo", "$HOME", "$HOME"}));
}

TEST_F(ShExpand, NoLookupMeansEverythingIsUnset) {
  m_env.lookup = nullptr;
  EXPECT_EQ(argv("echo $HOME b"), (Args{"echo", "b"}));
}

TEST_F(ShExpand, RedirectionTargetsExpand) {
  auto result = parse("cat > \"$HOME/out$?\"");
  ASSERT_TRUE(result);
  const auto& redirect = result->lists[0].pipelines[0].commands[0].redirects[0];
  EXPECT_STREQ(sh::expand_word(redirect.target, m_env, m_arena), "/home/u/out0");
}

TEST_F(ShExpand, AFullArenaGivesNull) {
  auto result = parse("echo $HOME");
  ASSERT_TRUE(result);
  char tiny[8];
  sh::Arena arena(tiny, sizeof tiny);
  EXPECT_EQ(sh::expand_argv(result->lists[0].pipelines[0].commands[0], m_env, arena).argv, nullptr);
}

}  // namespace
