#include "expr/parser.h"

#include <algorithm>
#include <charconv>
#include <system_error>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "expr/lexer.h"

namespace sluice {
namespace {

// -?(digits[.digits*] | .digits)([eE][+-]?digits)?, the whole word.
bool LooksLikeNumber(std::string_view s, bool* is_integer) {
  size_t i = 0;
  const auto digits = [&] {
    const size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - from;
  };
  if (i < s.size() && s[i] == '-') ++i;
  size_t mantissa = digits();
  *is_integer = true;
  if (i < s.size() && s[i] == '.') {
    ++i;
    mantissa += digits();
    *is_integer = false;
  }
  if (mantissa == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
    *is_integer = false;
  }
  return i == s.size();
}

using ExprPtr = std::unique_ptr<Expr>;

class Parser {
 public:
  Parser(std::string_view input, const ParseLimits& limits)
      : input_(input),
        lexer_(input),
        max_depth_(std::clamp(limits.max_depth, 0, kMaxParseDepthCeiling)),
        max_nodes_(limits.max_nodes) {}

  Result<ExprPtr> Run() {
    SLUICE_RETURN_IF_ERROR(Advance());
    if (tok_.kind == TokenKind::kEnd) return InvalidArgument("empty expression");
    ExprPtr root;
    if (tok_.kind == TokenKind::kWord) {
      SLUICE_ASSIGN_OR_RETURN(root, ParseWord(/*in_args=*/false, /*depth=*/0));
    } else if (tok_.kind == TokenKind::kString) {
      return Error(tok_.column, "expected a series path or function call");
    } else {
      return Error(tok_.column, fmt::format("unexpected {}", DescribeToken(tok_)));
    }
    if (tok_.kind != TokenKind::kEnd) {
      return Error(tok_.column,
                   fmt::format("unexpected {} after end of expression", DescribeToken(tok_)));
    }
    return root;
  }

 private:
  Status Error(int column, std::string_view what) const {
    return SyntaxError(input_, column, what);
  }

  Status Advance() {
    if (has_peeked_) {
      tok_ = peeked_;
      has_peeked_ = false;
      return Status::OK();
    }
    SLUICE_ASSIGN_OR_RETURN(tok_, lexer_.Next());
    return Status::OK();
  }

  Result<Token> Peek() {
    if (!has_peeked_) {
      SLUICE_ASSIGN_OR_RETURN(peeked_, lexer_.Next());
      has_peeked_ = true;
    }
    return peeked_;
  }

  Result<ExprPtr> NewNode(ExprKind kind, int column) {
    if (++nodes_ > max_nodes_) {
      return Error(column, fmt::format("expression has more than {} nodes", max_nodes_));
    }
    auto node = std::make_unique<Expr>();
    node->kind = kind;
    node->column = column;
    return node;
  }

  // tok_ is a word: a call if '(' follows, else a path (or, in arguments, a literal).
  Result<ExprPtr> ParseWord(bool in_args, int depth) {
    const Token word = tok_;
    SLUICE_ASSIGN_OR_RETURN(const Token next, Peek());
    if (next.kind == TokenKind::kLParen) {
      if (!IsIdentifier(word.text)) {
        return Error(word.column, fmt::format("invalid function name {}", DescribeToken(word)));
      }
      SLUICE_RETURN_IF_ERROR(Advance());
      return ParseCall(word, depth + 1);
    }
    SLUICE_RETURN_IF_ERROR(Advance());
    ExprPtr node;
    bool is_integer = false;
    if (in_args && LooksLikeNumber(word.text, &is_integer)) {
      SLUICE_ASSIGN_OR_RETURN(node, NewNode(ExprKind::kNumber, word.column));
      const char* end = word.text.data() + word.text.size();
      const auto [ptr, ec] = std::from_chars(word.text.data(), end, node->number);
      if (ec != std::errc() || ptr != end) {
        return Error(word.column, fmt::format("number {} is out of range", DescribeToken(word)));
      }
      node->is_integer = is_integer;
    } else if (in_args && (EqualsIgnoreCase(word.text, "true") ||
                           EqualsIgnoreCase(word.text, "false"))) {
      SLUICE_ASSIGN_OR_RETURN(node, NewNode(ExprKind::kBool, word.column));
      node->boolean = EqualsIgnoreCase(word.text, "true");
    } else if (in_args && EqualsIgnoreCase(word.text, "none")) {
      SLUICE_ASSIGN_OR_RETURN(node, NewNode(ExprKind::kNone, word.column));
    } else {
      SLUICE_ASSIGN_OR_RETURN(node, NewNode(ExprKind::kPath, word.column));
      node->text = word.text;
    }
    return node;
  }

  // tok_ is the '(' after `name`; `depth` counts this call.
  Result<ExprPtr> ParseCall(const Token& name, int depth) {
    if (depth > max_depth_) {
      return Error(name.column, fmt::format("expression nests deeper than {} calls", max_depth_));
    }
    SLUICE_ASSIGN_OR_RETURN(ExprPtr call, NewNode(ExprKind::kCall, name.column));
    call->text = name.text;
    SLUICE_RETURN_IF_ERROR(Advance());
    if (tok_.kind == TokenKind::kRParen) {
      SLUICE_RETURN_IF_ERROR(Advance());
      return call;
    }
    if (tok_.kind == TokenKind::kEnd) return Error(tok_.column, "expected ')'");
    while (true) {
      SLUICE_ASSIGN_OR_RETURN(const Token next, Peek());
      if (tok_.kind == TokenKind::kWord && next.kind == TokenKind::kEquals) {
        const Token key = tok_;
        if (!IsIdentifier(key.text)) {
          return Error(key.column, fmt::format("invalid argument name {}", DescribeToken(key)));
        }
        for (const NamedArg& seen : call->named_args) {
          if (seen.name == key.text) {
            return Error(key.column,
                         fmt::format("duplicate named argument {}", DescribeToken(key)));
          }
        }
        SLUICE_RETURN_IF_ERROR(Advance());
        SLUICE_RETURN_IF_ERROR(Advance());
        SLUICE_ASSIGN_OR_RETURN(ExprPtr value, ParseArg(depth));
        call->named_args.push_back(NamedArg{std::string(key.text), key.column, std::move(value)});
      } else {
        if (!call->named_args.empty() &&
            (tok_.kind == TokenKind::kWord || tok_.kind == TokenKind::kString)) {
          return Error(tok_.column, "positional argument after named argument");
        }
        SLUICE_ASSIGN_OR_RETURN(ExprPtr value, ParseArg(depth));
        call->args.push_back(std::move(value));
      }
      if (tok_.kind == TokenKind::kComma) {
        SLUICE_RETURN_IF_ERROR(Advance());
      } else if (tok_.kind == TokenKind::kRParen) {
        SLUICE_RETURN_IF_ERROR(Advance());
        return call;
      } else if (tok_.kind == TokenKind::kEnd) {
        return Error(tok_.column, "expected ')'");
      } else {
        return Error(tok_.column, fmt::format("unexpected {}", DescribeToken(tok_)));
      }
    }
  }

  Result<ExprPtr> ParseArg(int depth) {
    switch (tok_.kind) {
      case TokenKind::kWord:
        return ParseWord(/*in_args=*/true, depth);
      case TokenKind::kString: {
        SLUICE_ASSIGN_OR_RETURN(ExprPtr node, NewNode(ExprKind::kString, tok_.column));
        node->text = UnquoteString(tok_.text);
        SLUICE_RETURN_IF_ERROR(Advance());
        return node;
      }
      case TokenKind::kEnd:
        return Error(tok_.column, "expected an argument");
      default:
        return Error(tok_.column, fmt::format("unexpected {}", DescribeToken(tok_)));
    }
  }

  std::string_view input_;
  Lexer lexer_;
  int max_depth_;
  size_t max_nodes_;
  size_t nodes_ = 0;
  Token tok_;
  Token peeked_;  // valid when has_peeked_
  bool has_peeked_ = false;
};

}  // namespace

Result<ExprPtr> ParseExpression(std::string_view text, const ParseLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return InvalidArgument("expression is {} bytes long, more than the limit of {} bytes",
                           text.size(), limits.max_bytes);
  }
  return Parser(text, limits).Run();
}

std::string DumpAst(const Expr& expr) {
  // Each item is either a node to dump or literal text to append; pushed in reverse order.
  struct Item {
    const Expr* node;
    std::string text;
  };
  std::string out;
  std::vector<Item> stack;
  stack.push_back({&expr, {}});
  std::vector<Item> pieces;
  while (!stack.empty()) {
    Item item = std::move(stack.back());
    stack.pop_back();
    if (item.node == nullptr) {
      out += item.text;
      continue;
    }
    const Expr& e = *item.node;
    switch (e.kind) {
      case ExprKind::kPath:
        out += fmt::format("path({})", e.text);
        break;
      case ExprKind::kString:
        out += "str('";
        for (char c : e.text) {
          if (c == '\'' || c == '\\') out += '\\';
          out += c;
        }
        out += "')";
        break;
      case ExprKind::kNumber:
        out += fmt::format("num({})", e.number);
        break;
      case ExprKind::kBool:
        out += e.boolean ? "bool(true)" : "bool(false)";
        break;
      case ExprKind::kNone:
        out += "none";
        break;
      case ExprKind::kCall:
        out += fmt::format("call({}", e.text);
        pieces.clear();
        for (const auto& arg : e.args) {
          pieces.push_back({nullptr, ", "});
          pieces.push_back({arg.get(), {}});
        }
        for (const NamedArg& named : e.named_args) {
          pieces.push_back({nullptr, fmt::format(", {}=", named.name)});
          pieces.push_back({named.value.get(), {}});
        }
        pieces.push_back({nullptr, ")"});
        for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) stack.push_back(std::move(*it));
        break;
    }
  }
  return out;
}

}  // namespace sluice
