// Lexer: the first stage of the expression pipeline (lexer -> parser -> binder -> evaluator).
//
// Splits a Graphite target into tokens on demand. The one subtle token is kWord: a run of series
// path characters that may also be a function name, an argument name, a number or a keyword; the
// parser decides which from the tokens around it. A word absorbs, as graphite-web does, backslash
// escapes (`prod\.1`) and `{a,b}` groups (their commas are part of the path), and additionally the
// regex alternations Grafana substitutes for multi-value variables: a balanced `( ... )` containing
// `|`, when it starts a path element or is directly followed by more path characters
// (`app.(a|b\.c).cpu`, `web(1|2).cpu`). A `|` outside such a group is a pipe (kPipe) when a call
// follows it (`a.b|scale(2)`: whitespace, an identifier, whitespace, `(`) or when nothing of the
// path does (`a|` at the end, before `)`, `,`, whitespace or a pipe), so the parser can report it;
// any other `|` is a path character (`a|b`). See docs/expressions.md for the grammar.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice {

enum class TokenKind { kWord, kString, kLParen, kRParen, kComma, kEquals, kPipe, kEnd };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string_view text;  // the raw source slice (a string keeps its quotes); empty for kEnd
  int column = 0;         // 1-based byte column of the first character
};

// Not thread-safe; borrows `input`, which must outlive the lexer and its tokens.
class Lexer {
 public:
  explicit Lexer(std::string_view input) : input_(input) {}

  // Returns the next token (kEnd, repeatedly, at the end of input), or InvalidArgument for an
  // unterminated string or `{` group, a dangling backslash, or a character that cannot start any
  // token. Runs in time linear in the token's length.
  Result<Token> Next();

 private:
  Result<Token> LexString();
  Result<Token> LexWord();
  // Length of a Grafana alternation group starting at `pos` (a '('), or 0 if there is none.
  size_t AlternationLength(size_t pos) const;
  // Whether the '|' at `pos` is followed by [ws] identifier [ws] '('. Looks ahead over one
  // identifier only, so lexing stays linear.
  bool StartsPipedCall(size_t pos) const;
  // Whether the '|' at `pos` is a pipe token rather than a path character (see above).
  bool IsPipe(size_t pos) const;
  // Whether the word goes on at `pos` after an absorbed part (a path character that is not a
  // pipe, a backslash, '{' or '(').
  bool ContinuesWord(size_t pos) const;

  std::string_view input_;
  size_t pos_ = 0;
  TokenKind prev_kind_ = TokenKind::kEnd;  // kind of the last token returned
  bool call_follows_ = false;              // the last token was a pipe that StartsPipedCall
};

// The value of a string token's raw text (quotes included): the text between the quotes exactly as
// written, backslashes kept, as graphite-web 1.1.8 does ('\d' is a regex digit class, '\1' a
// group reference in aliasSub).
std::string UnquoteString(std::string_view raw);

// True for [A-Za-z_][A-Za-z0-9_]*, the form of function and argument names.
bool IsIdentifier(std::string_view text);

// InvalidArgument("<what> at column <column> in \"<fragment>\""), where the fragment is the input
// (or, for long inputs, about 60 bytes around the column, marked with "...").
Status SyntaxError(std::string_view input, int column, std::string_view what);

// A token or character quoted for an error message: 'x', end of input, '\x01'. Long text is cut.
std::string DescribeToken(const Token& token);
std::string DescribeChar(char c);

}  // namespace sluice
