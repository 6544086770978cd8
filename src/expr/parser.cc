#include "expr/parser.h"

#include <algorithm>
#include <charconv>
#include <limits>
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

// A parsed subtree and its height in calls (0 for a leaf, 1 + the tallest argument for a call).
struct Parsed {
  ExprPtr node;
  int height = 0;
};

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
    Parsed root;
    if (tok_.kind == TokenKind::kWord) {
      SLUICE_ASSIGN_OR_RETURN(root, ParseExpr(/*in_args=*/false, /*depth=*/0));
    } else if (tok_.kind == TokenKind::kString) {
      return Error(tok_.column, "expected a series path or function call");
    } else {
      return Error(tok_.column, fmt::format("unexpected {}", DescribeToken(tok_)));
    }
    if (tok_.kind != TokenKind::kEnd) {
      return Error(tok_.column,
                   fmt::format("unexpected {} after end of expression", DescribeToken(tok_)));
    }
    return std::move(root.node);
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

  // tok_ is a word: the word, then any piped calls. `depth` counts the calls around it. A chain
  // is a loop, not recursion; its height (each pipe adds a level: `a|f()|g()` is g(f(a))) is
  // checked against the depth limit as it grows.
  Result<Parsed> ParseExpr(bool in_args, int depth) {
    SLUICE_ASSIGN_OR_RETURN(Parsed left, ParseWord(in_args, depth));
    while (tok_.kind == TokenKind::kPipe) {
      SLUICE_RETURN_IF_ERROR(Advance());
      SLUICE_ASSIGN_OR_RETURN(const Token next, Peek());
      if (tok_.kind != TokenKind::kWord || next.kind != TokenKind::kLParen) {
        return Error(tok_.column, "expected a function call after '|'");
      }
      const Token name = tok_;
      if (!IsIdentifier(name.text)) {
        return Error(name.column, fmt::format("invalid function name {}", DescribeToken(name)));
      }
      SLUICE_RETURN_IF_ERROR(Advance());
      SLUICE_ASSIGN_OR_RETURN(Parsed call, ParseCall(name, depth + 1));
      call.node->args.insert(call.node->args.begin(), std::move(left.node));
      call.height = std::max(call.height, left.height + 1);
      if (depth + call.height > max_depth_) return DepthError(name);
      left = std::move(call);
    }
    return left;
  }

  Status DepthError(const Token& name) const {
    return Error(name.column, fmt::format("expression nests deeper than {} calls", max_depth_));
  }

  // tok_ is a word: a call if '(' follows, else a path (or, in arguments and not before a pipe, a
  // literal).
  Result<Parsed> ParseWord(bool in_args, int depth) {
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
    // Only a series can be piped, so `f(1|g())` pipes the path `1`, as in graphite-web.
    in_args = in_args && next.kind != TokenKind::kPipe;
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
    } else if (in_args && EqualsIgnoreCase(word.text, "inf")) {
      // graphite-web's `infinity` keyword, e.g. keepLastValue(a, inf).
      SLUICE_ASSIGN_OR_RETURN(node, NewNode(ExprKind::kNumber, word.column));
      node->number = std::numeric_limits<double>::infinity();
    } else if (in_args && EqualsIgnoreCase(word.text, "none")) {
      SLUICE_ASSIGN_OR_RETURN(node, NewNode(ExprKind::kNone, word.column));
    } else {
      SLUICE_ASSIGN_OR_RETURN(node, NewNode(ExprKind::kPath, word.column));
      node->text = word.text;
    }
    return Parsed{std::move(node), 0};
  }

  // tok_ is the '(' after `name`; `depth` counts this call.
  Result<Parsed> ParseCall(const Token& name, int depth) {
    if (depth > max_depth_) return DepthError(name);
    SLUICE_ASSIGN_OR_RETURN(ExprPtr call, NewNode(ExprKind::kCall, name.column));
    call->text = name.text;
    int height = 1;
    SLUICE_RETURN_IF_ERROR(Advance());
    if (tok_.kind == TokenKind::kRParen) {
      SLUICE_RETURN_IF_ERROR(Advance());
      return Parsed{std::move(call), height};
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
        SLUICE_ASSIGN_OR_RETURN(Parsed value, ParseArg(depth));
        height = std::max(height, value.height + 1);
        call->named_args.push_back(
            NamedArg{std::string(key.text), key.column, std::move(value.node)});
      } else {
        if (!call->named_args.empty() &&
            (tok_.kind == TokenKind::kWord || tok_.kind == TokenKind::kString)) {
          return Error(tok_.column, "positional argument after named argument");
        }
        SLUICE_ASSIGN_OR_RETURN(Parsed value, ParseArg(depth));
        height = std::max(height, value.height + 1);
        call->args.push_back(std::move(value.node));
      }
      if (tok_.kind == TokenKind::kComma) {
        SLUICE_RETURN_IF_ERROR(Advance());
      } else if (tok_.kind == TokenKind::kRParen) {
        SLUICE_RETURN_IF_ERROR(Advance());
        return Parsed{std::move(call), height};
      } else if (tok_.kind == TokenKind::kEnd) {
        return Error(tok_.column, "expected ')'");
      } else {
        return Error(tok_.column, fmt::format("unexpected {}", DescribeToken(tok_)));
      }
    }
  }

  Result<Parsed> ParseArg(int depth) {
    switch (tok_.kind) {
      case TokenKind::kWord:
        return ParseExpr(/*in_args=*/true, depth);
      case TokenKind::kString: {
        SLUICE_ASSIGN_OR_RETURN(ExprPtr node, NewNode(ExprKind::kString, tok_.column));
        node->text = UnquoteString(tok_.text);
        SLUICE_RETURN_IF_ERROR(Advance());
        return Parsed{std::move(node), 0};
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
