#include "expr/lexer.h"

#include <algorithm>

namespace sluice {
namespace {

// Graphite's metric characters: printable ASCII except the syntax characters (){},='"\ ; '.' is
// kept inside the word because a path is one token. Bytes >= 0x80 (UTF-8) are allowed too.
bool IsPathChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x80) return true;
  if (u <= 0x20 || u == 0x7f) return false;
  switch (c) {
    case '(': case ')': case '{': case '}': case ',': case '=': case '\'': case '"': case '\\':
      return false;
    default:
      return true;
  }
}

// A backslash may escape any printable, non-space character.
bool IsEscapable(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7f;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int Column(size_t pos) { return static_cast<int>(pos) + 1; }

bool IsIdentifierStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool IsIdentifierChar(char c) { return IsIdentifierStart(c) || (c >= '0' && c <= '9'); }

}  // namespace

bool IsIdentifier(std::string_view text) {
  if (text.empty()) return false;
  if (!IsIdentifierStart(text[0])) return false;
  return std::all_of(text.begin() + 1, text.end(), IsIdentifierChar);
}

std::string DescribeChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u < 0x20 || u >= 0x7f) return fmt::format("'\\x{:02x}'", u);
  return fmt::format("'{}'", c);
}

std::string DescribeToken(const Token& token) {
  if (token.kind == TokenKind::kEnd) return "end of input";
  constexpr size_t kMaxShown = 24;
  const bool cut = token.text.size() > kMaxShown;
  const std::string_view shown = token.text.substr(0, kMaxShown);
  // A string token already carries its quotes.
  if (token.kind == TokenKind::kString) return fmt::format("{}{}", shown, cut ? "..." : "");
  return fmt::format("'{}{}'", shown, cut ? "..." : "");
}

Status SyntaxError(std::string_view input, int column, std::string_view what) {
  constexpr size_t kWholeInputUpTo = 80;
  constexpr size_t kContext = 30;
  std::string fragment;
  if (input.size() <= kWholeInputUpTo) {
    fragment = input;
  } else {
    const size_t pos = std::min(input.size(), static_cast<size_t>(std::max(column - 1, 0)));
    const size_t begin = pos > kContext ? pos - kContext : 0;
    const size_t end = std::min(input.size(), pos + kContext);
    if (begin > 0) fragment += "...";
    fragment += input.substr(begin, end - begin);
    if (end < input.size()) fragment += "...";
  }
  // Control characters would garble a one-line message; the column still counts them.
  for (char& c : fragment) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return InvalidArgument("{} at column {} in \"{}\"", what, column, fragment);
}

std::string UnquoteString(std::string_view raw) {
  // graphite-web 1.1.8 keeps a string's text exactly as written between its quotes: a backslash
  // only stops the next character from ending the string ('\1' in aliasSub is a group reference).
  if (raw.size() < 2) return {};
  return std::string(raw.substr(1, raw.size() - 2));
}

size_t Lexer::AlternationLength(size_t pos) const {
  size_t depth = 0;
  bool has_bar = false;
  for (size_t i = pos; i < input_.size(); ++i) {
    const char c = input_[i];
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth == 0) return has_bar ? i + 1 - pos : 0;
    } else if (c == '\\') {
      if (i + 1 >= input_.size() || !IsEscapable(input_[i + 1])) return 0;
      ++i;
    } else if (c == '|') {
      has_bar = true;
    } else if (!IsPathChar(c)) {
      return 0;
    }
  }
  return 0;
}

bool Lexer::StartsPipedCall(size_t pos) const {
  size_t i = pos + 1;
  while (i < input_.size() && IsSpace(input_[i])) ++i;
  if (i >= input_.size() || !IsIdentifierStart(input_[i])) return false;
  while (i < input_.size() && IsIdentifierChar(input_[i])) ++i;
  while (i < input_.size() && IsSpace(input_[i])) ++i;
  return i < input_.size() && input_[i] == '(';
}

bool Lexer::IsPipe(size_t pos) const {
  if (StartsPipedCall(pos)) return true;
  // A '|' that nothing of the path follows is a pipe missing its call (an error for the parser),
  // so that `a|`, `f(a|)` and `a||f()` are not read as paths ending in '|'.
  const size_t next = pos + 1;
  if (next >= input_.size()) return true;
  const char c = input_[next];
  if (c == '|') return StartsPipedCall(next);
  return !(IsPathChar(c) || c == '\\' || c == '{' || c == '(');
}

bool Lexer::ContinuesWord(size_t pos) const {
  if (pos >= input_.size()) return false;
  const char c = input_[pos];
  if (c == '|') return !IsPipe(pos);
  return IsPathChar(c) || c == '\\' || c == '{' || c == '(';
}

Result<Token> Lexer::LexString() {
  const size_t start = pos_;
  const char quote = input_[pos_];
  for (size_t i = pos_ + 1; i < input_.size(); ++i) {
    if (input_[i] == '\\') {
      ++i;
    } else if (input_[i] == quote) {
      pos_ = i + 1;
      return Token{TokenKind::kString, input_.substr(start, pos_ - start), Column(start)};
    }
  }
  return SyntaxError(input_, Column(start), "unterminated string starting");
}

Result<Token> Lexer::LexWord() {
  const size_t start = pos_;
  while (pos_ < input_.size()) {
    const char c = input_[pos_];
    if (c == '|' && IsPipe(pos_)) {
      break;
    } else if (IsPathChar(c)) {
      ++pos_;
    } else if (c == '\\') {
      if (pos_ + 1 >= input_.size() || !IsEscapable(input_[pos_ + 1])) {
        return SyntaxError(input_, Column(pos_), "dangling '\\'");
      }
      pos_ += 2;
    } else if (c == '{') {
      const size_t open = pos_++;
      while (true) {
        if (pos_ >= input_.size()) {
          return SyntaxError(input_, Column(open), "unterminated '{' starting");
        }
        const char d = input_[pos_];
        if (d == '}') {
          ++pos_;
          break;
        }
        if (IsPathChar(d) || d == ',') {
          ++pos_;
        } else if (d == '\\' && pos_ + 1 < input_.size() && IsEscapable(input_[pos_ + 1])) {
          pos_ += 2;
        } else {
          return SyntaxError(input_, Column(pos_),
                             fmt::format("unexpected {} inside '{{...}}'", DescribeChar(d)));
        }
      }
    } else if (c == '(') {
      // A '(' right after an identifier normally opens a call; it belongs to the path only when
      // it cannot be a call: the word is not a function name, or the path goes on after ')'.
      const size_t length = AlternationLength(pos_);
      if (length == 0) break;
      const std::string_view so_far = input_.substr(start, pos_ - start);
      const size_t after = pos_ + length;
      if (IsIdentifier(so_far) && !ContinuesWord(after)) break;
      pos_ = after;
    } else {
      break;
    }
  }
  return Token{TokenKind::kWord, input_.substr(start, pos_ - start), Column(start)};
}

Result<Token> Lexer::Next() {
  while (pos_ < input_.size() && IsSpace(input_[pos_])) ++pos_;
  Result<Token> token = Token{TokenKind::kEnd, {}, Column(input_.size())};
  if (pos_ >= input_.size()) return token;
  const char c = input_[pos_];
  const auto single = [&](TokenKind kind) {
    ++pos_;
    return Token{kind, input_.substr(pos_ - 1, 1), Column(pos_ - 1)};
  };
  if (call_follows_) {
    // The name after a pipe: StartsPipedCall saw an identifier and then '(' here, and that '('
    // opens the call even where LexWord would take it for an alternation (`a|web(1|2).cpu`).
    call_follows_ = false;
    const size_t start = pos_;
    while (pos_ < input_.size() && IsIdentifierChar(input_[pos_])) ++pos_;
    prev_kind_ = TokenKind::kWord;
    return Token{TokenKind::kWord, input_.substr(start, pos_ - start), Column(start)};
  }
  if (c == '|' && IsPipe(pos_)) {
    call_follows_ = StartsPipedCall(pos_);
    prev_kind_ = TokenKind::kPipe;
    return single(TokenKind::kPipe);
  }
  switch (c) {
    case '(':
      // After a word, '(' opens a call (LexWord already declined to absorb it).
      if (prev_kind_ != TokenKind::kWord && AlternationLength(pos_) > 0) {
        token = LexWord();
      } else {
        token = single(TokenKind::kLParen);
      }
      break;
    case ')': token = single(TokenKind::kRParen); break;
    case ',': token = single(TokenKind::kComma); break;
    case '=': token = single(TokenKind::kEquals); break;
    case '\'': case '"': token = LexString(); break;
    default:
      if (IsPathChar(c) || c == '\\' || c == '{') {
        token = LexWord();
      } else {
        return SyntaxError(input_, Column(pos_), fmt::format("unexpected {}", DescribeChar(c)));
      }
  }
  if (token.ok()) prev_kind_ = token->kind;
  return token;
}

}  // namespace sluice
