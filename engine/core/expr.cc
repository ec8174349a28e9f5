// The guard and assignee expression language (expr.h): lexer, a
// recursive-descent parser that type-checks as it builds the tree, and a
// tree-walking evaluator.
//
// Parsing and checking happen in one pass: every parse function returns a
// typed Node or records the first CompileError and returns false. The tree's
// height and the parser's recursion are both bounded by kMaxDepth, so hostile
// input can neither overflow the stack here nor in Evaluate() or the tree's
// destructor.
#include "core/expr.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <utility>

namespace approvald::expr {

enum class Op {
  kLiteral,    // literal
  kList,       // [kids...]
  kField,      // form.<name>
  kSubmitter,  // submitter
  kActor,      // actor
  kNow,        // now
  kToday,      // today
  kAttr,       // kids[0].<name>, see `attr`
  kCall,       // func(kids...)
  kNot,
  kNeg,
  kAnd,  // n-ary, short-circuit
  kOr,   // n-ary, short-circuit
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kIn,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
};

enum class Attr {
  kPersonDept,
  kPersonId,
  kDeptHead,
  kDeptSupervisor,
  kDeptMembers,
  kDeptId,
  kRecordField,  // record.<field>
  kProjection,   // list<record>.<field> -> list<field type>
};

enum class Func {
  kDept,
  kPerson,
  kHeadOf,
  kSupervisorOf,
  kHolders,
  kGroup,
  kMembersOf,
  kPurchasingDept,
  kHasPosition,
  kInGroup,
  kYuan,
  kFen,
  kLen,
  kSum,
  kDate,
  kDaysBetween,
  kDistinct,
};

struct Node {
  Op op = Op::kLiteral;
  size_t start = 0;      // offset of the node's first token
  size_t op_offset = 0;  // offset of its operator / name token
  Type type;
  Value literal;     // kLiteral
  std::string name;  // kField: field; kAttr: attribute; kCall: function
  Attr attr = Attr::kPersonDept;
  Func func = Func::kDept;
  int height = 1;
  std::vector<Node> kids;
};

namespace {

constexpr int kMaxDepth = 64;
constexpr size_t kMaxSourceLength = 64 * 1024;

// ---------------------------------------------------------------------------
// Helpers shared by the checker and the evaluator.

bool IsKind(const Type& t, TypeKind k) { return t.kind == k; }
bool IsListOf(const Type& t, TypeKind k) {
  return t.kind == TypeKind::kList && t.element && t.element->kind == k;
}
const Type& ElementOf(const Type& t) {
  static const Type kNullType;
  return t.element ? *t.element : kNullType;
}
bool IsStringLiteral(const Node& n) {
  return n.op == Op::kLiteral && n.literal.is_string();
}
bool IsNullLiteral(const Node& n) {
  return n.op == Op::kLiteral && n.type.kind == TypeKind::kNull;
}

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string JoinQuoted(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += Quote(items[i]);
  }
  return out;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Candidates within a small edit distance of `name` (or sharing a prefix),
// closest first, at most three.
std::vector<std::string> CloseMatches(std::string_view name,
                                      const std::vector<std::string>& pool) {
  std::vector<std::pair<size_t, std::string>> scored;
  size_t limit = std::max<size_t>(2, name.size() / 3);
  for (const std::string& candidate : pool) {
    size_t d = EditDistance(name, candidate);
    bool prefix =
        name.size() >= 3 && (candidate.starts_with(name) || name.starts_with(candidate));
    if (d <= limit || prefix) scored.emplace_back(d, candidate);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (size_t i = 0; i < scored.size() && i < 3; ++i) out.push_back(scored[i].second);
  return out;
}

// "; did you mean 'x' or 'y'?" / "; known: a, b, c" / "".
std::string Suggest(std::string_view name, const std::vector<std::string>& pool,
                    std::string_view what) {
  std::vector<std::string> close = CloseMatches(name, pool);
  if (!close.empty()) {
    std::string s = "; did you mean ";
    for (size_t i = 0; i < close.size(); ++i) {
      if (i > 0) s += i + 1 == close.size() ? " or " : ", ";
      s += Quote(close[i]);
    }
    return s + "?";
  }
  if (pool.empty()) return "; there are no " + std::string(what);
  constexpr size_t kMaxListed = 30;
  if (pool.size() <= kMaxListed)
    return "; " + std::string(what) + ": " + JoinQuoted(pool);
  std::vector<std::string> head(pool.begin(), pool.begin() + kMaxListed);
  return "; " + std::string(what) + ": " + JoinQuoted(head) + ", ...";
}

// ---------------------------------------------------------------------------
// Lexer

enum class Tok {
  kEnd,
  kInt,
  kString,
  kIdent,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kDot,
  kNot,
  kAnd,
  kOr,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
};

struct Token {
  Tok kind = Tok::kEnd;
  size_t offset = 0;
  std::string text;       // identifier name, string literal contents, or operator
  int64_t int_value = 0;  // kInt
};

bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::optional<CompileError> Lex(std::string_view src, std::vector<Token>* out) {
  if (src.size() > kMaxSourceLength)
    return CompileError{kMaxSourceLength, "expression is longer than " +
                                              std::to_string(kMaxSourceLength) +
                                              " bytes; split it into simpler conditions"};
  size_t i = 0;
  while (i < src.size()) {
    char c = src[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
      continue;
    }
    Token t;
    t.offset = i;
    if (IsDigit(c)) {
      int64_t v = 0;
      size_t j = i;
      for (; j < src.size() && IsDigit(src[j]); ++j) {
        if (__builtin_mul_overflow(v, int64_t{10}, &v) ||
            __builtin_add_overflow(v, int64_t{src[j] - '0'}, &v))
          return CompileError{
              i, "integer literal " + std::string(src.substr(i, j - i + 1)) +
                     "... is too large (the limit is " + std::to_string(INT64_MAX) + ")"};
      }
      if (j + 1 < src.size() && src[j] == '.' && IsDigit(src[j + 1]))
        return CompileError{i,
                            "decimal numbers are not supported; write money "
                            "as yuan(\"12.50\") or fen(1250)"};
      if (j < src.size() && IsIdentStart(src[j]))
        return CompileError{j, "unexpected " + Quote(src.substr(j, 1)) +
                                   " right after the number " +
                                   std::string(src.substr(i, j - i))};
      t.kind = Tok::kInt;
      t.int_value = v;
      t.text = std::string(src.substr(i, j - i));
      i = j;
    } else if (IsIdentStart(c)) {
      size_t j = i;
      while (j < src.size() && IsIdentChar(src[j])) ++j;
      t.kind = Tok::kIdent;
      t.text = std::string(src.substr(i, j - i));
      i = j;
    } else if (c == '"' || c == '\'') {
      size_t j = i + 1;
      std::string s;
      bool closed = false;
      while (j < src.size()) {
        char d = src[j];
        if (d == c) {
          closed = true;
          ++j;
          break;
        }
        if (d == '\\') {
          if (j + 1 >= src.size()) break;
          char e = src[j + 1];
          switch (e) {
            case '\\':
              s += '\\';
              break;
            case '"':
              s += '"';
              break;
            case '\'':
              s += '\'';
              break;
            case 'n':
              s += '\n';
              break;
            case 't':
              s += '\t';
              break;
            default:
              return CompileError{j, "unknown escape \\" + std::string(1, e) +
                                         " in a string; use \\\\, \\\", \\', "
                                         "\\n or \\t"};
          }
          j += 2;
          continue;
        }
        s += d;
        ++j;
      }
      if (!closed)
        return CompileError{i,
                            "string is not closed; add the closing " + std::string(1, c)};
      if (!IsValidUtf8(s)) return CompileError{i, "string is not valid UTF-8"};
      t.kind = Tok::kString;
      t.text = std::move(s);
      i = j;
    } else {
      auto two = src.substr(i, 2);
      struct Sym {
        std::string_view text;
        Tok kind;
      };
      static constexpr Sym kSyms[] = {
          {"==", Tok::kEq},    {"!=", Tok::kNe},      {"<=", Tok::kLe},
          {">=", Tok::kGe},    {"&&", Tok::kAnd},     {"||", Tok::kOr},
          {"<", Tok::kLt},     {">", Tok::kGt},       {"!", Tok::kNot},
          {"+", Tok::kPlus},   {"-", Tok::kMinus},    {"*", Tok::kStar},
          {"/", Tok::kSlash},  {"%", Tok::kPercent},  {"(", Tok::kLParen},
          {")", Tok::kRParen}, {"[", Tok::kLBracket}, {"]", Tok::kRBracket},
          {",", Tok::kComma},  {".", Tok::kDot},
      };
      bool found = false;
      for (const Sym& sym : kSyms) {
        if (two.starts_with(sym.text)) {
          t.kind = sym.kind;
          t.text = std::string(sym.text);
          i += sym.text.size();
          found = true;
          break;
        }
      }
      if (!found) {
        if (c == '=') return CompileError{i, "'=' is not an operator; compare with =="};
        if (c == '&')
          return CompileError{i, "'&' is not an operator; use && for \"and\""};
        if (c == '|') return CompileError{i, "'|' is not an operator; use || for \"or\""};
        unsigned char u = static_cast<unsigned char>(c);
        if (u >= 0x80)
          return CompileError{i,
                              "unexpected non-ASCII character; names are "
                              "ASCII and text goes in quotes"};
        return CompileError{i, "unexpected character " + Quote(src.substr(i, 1))};
      }
    }
    out->push_back(std::move(t));
  }
  Token end;
  end.kind = Tok::kEnd;
  end.offset = src.size();
  out->push_back(end);
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Function table

struct FuncInfo {
  std::string_view name;
  Func func;
  int arity;
  std::string_view signature;  // for messages
};

constexpr FuncInfo kFuncs[] = {
    {"dept", Func::kDept, 1, "dept(\"id\") -> dept"},
    {"person", Func::kPerson, 1, "person(\"id\") -> person"},
    {"head_of", Func::kHeadOf, 1, "head_of(dept) -> person"},
    {"supervisor_of", Func::kSupervisorOf, 1, "supervisor_of(dept) -> person"},
    {"holders", Func::kHolders, 1, "holders(\"position\") -> list<person>"},
    {"group", Func::kGroup, 1, "group(\"id\") -> list<person>"},
    {"members_of", Func::kMembersOf, 1, "members_of(dept) -> list<person>"},
    {"purchasing_dept", Func::kPurchasingDept, 0, "purchasing_dept() -> dept"},
    {"has_position", Func::kHasPosition, 2, "has_position(person, \"position\") -> bool"},
    {"in_group", Func::kInGroup, 2, "in_group(person, \"group\") -> bool"},
    {"yuan", Func::kYuan, 1, "yuan(int | \"12.50\") -> money"},
    {"fen", Func::kFen, 1, "fen(int) -> money"},
    {"len", Func::kLen, 1, "len(list | text) -> int"},
    {"sum", Func::kSum, 1, "sum(list<int> | list<money>) -> int | money"},
    {"date", Func::kDate, 1, "date(text) -> date"},
    {"days_between", Func::kDaysBetween, 2, "days_between(date, date) -> int"},
    {"distinct", Func::kDistinct, 1, "distinct(list) -> bool"},
};

const FuncInfo* FindFunc(std::string_view name) {
  for (const FuncInfo& f : kFuncs) {
    if (f.name == name) return &f;
  }
  return nullptr;
}
const std::vector<std::string>& RootNames() {
  static const std::vector<std::string> kRoots = [] {
    std::vector<std::string> v = {"form",  "submitter", "actor", "now",
                                  "today", "true",      "false", "null"};
    for (const FuncInfo& f : kFuncs) v.emplace_back(f.name);
    return v;
  }();
  return kRoots;
}

// ---------------------------------------------------------------------------
// Parser + type checker

class Parser {
 public:
  Parser(std::vector<Token> tokens, const TypeEnv& env)
      : tokens_(std::move(tokens)), env_(env) {}

  std::expected<Node, CompileError> Run() {
    Node root;
    if (!ParseOr(&root)) return std::unexpected(*error_);
    if (Peek().kind != Tok::kEnd) {
      Fail(Peek().offset,
           "unexpected " + Describe(Peek()) + " after the end of the expression");
      return std::unexpected(*error_);
    }
    return root;
  }

 private:
  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Next() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  bool Accept(Tok kind) {
    if (Peek().kind != kind) return false;
    Next();
    return true;
  }

  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case Tok::kEnd:
        return "end of expression";
      case Tok::kInt:
        return "number " + t.text;
      case Tok::kString:
        return "string \"" + t.text + "\"";
      case Tok::kIdent:
        return Quote(t.text);
      default:
        return Quote(t.text);
    }
  }

  bool Fail(size_t offset, std::string message) {
    if (!error_) error_ = CompileError{offset, std::move(message)};
    return false;
  }

  bool Expect(Tok kind, std::string_view what) {
    if (Accept(kind)) return true;
    return Fail(Peek().offset,
                "expected " + std::string(what) + ", found " + Describe(Peek()));
  }

  // Bounds the parser's recursion.
  class DepthGuard {
   public:
    explicit DepthGuard(Parser* p) : p_(p) { ++p_->depth_; }
    ~DepthGuard() { --p_->depth_; }
    bool ok() const {
      if (p_->depth_ <= kMaxDepth) return true;
      return p_->Fail(p_->Peek().offset,
                      "expression is nested too deeply (more than " +
                          std::to_string(kMaxDepth) +
                          " levels); split it into simpler conditions");
    }

   private:
    Parser* p_;
  };

  // Sets the node's height from its children; refuses trees that are too
  // tall to evaluate safely.
  bool Seal(Node* n) {
    int h = 0;
    for (const Node& k : n->kids) h = std::max(h, k.height);
    n->height = h + 1;
    if (n->height > kMaxDepth)
      return Fail(n->op_offset, "expression is nested too deeply (more than " +
                                    std::to_string(kMaxDepth) +
                                    " levels); split it into simpler conditions");
    return true;
  }

  static Node MakeOp(Op op, size_t op_offset, Type type, std::vector<Node> kids) {
    Node n;
    n.op = op;
    n.op_offset = op_offset;
    n.start = kids.empty() ? op_offset : std::min(op_offset, kids[0].start);
    n.type = std::move(type);
    n.kids = std::move(kids);
    return n;
  }

  static Node Literal(Value v, Type type, size_t offset) {
    Node n;
    n.op = Op::kLiteral;
    n.start = n.op_offset = offset;
    n.literal = std::move(v);
    n.type = std::move(type);
    return n;
  }

  // --- boolean layers -----------------------------------------------------

  bool RequireBool(const Node& n, std::string_view op) {
    if (IsKind(n.type, TypeKind::kBool)) return true;
    return Fail(n.start, std::string(op) + " needs a bool operand, but this is " +
                             n.type.ToString());
  }

  bool ParseOr(Node* out) {
    DepthGuard guard(this);
    if (!guard.ok()) return false;
    return ParseLogical(out, Tok::kOr);
  }

  // or := and ("||" and)*   and := not ("&&" not)*; both n-ary.
  bool ParseLogical(Node* out, Tok op_tok) {
    const bool is_or = op_tok == Tok::kOr;
    Node first;
    if (!(is_or ? ParseLogical(&first, Tok::kAnd) : ParseNot(&first))) return false;
    if (Peek().kind != op_tok) {
      *out = std::move(first);
      return true;
    }
    const char* name = is_or ? "||" : "&&";
    if (!RequireBool(first, name)) return false;
    size_t op_offset = Peek().offset;
    std::vector<Node> kids;
    kids.push_back(std::move(first));
    while (Accept(op_tok)) {
      Node next;
      if (!(is_or ? ParseLogical(&next, Tok::kAnd) : ParseNot(&next))) return false;
      if (!RequireBool(next, name)) return false;
      kids.push_back(std::move(next));
    }
    *out = MakeOp(is_or ? Op::kOr : Op::kAnd, op_offset, Type::Of(TypeKind::kBool),
                  std::move(kids));
    return Seal(out);
  }

  bool ParseNot(Node* out) {
    if (Peek().kind != Tok::kNot) return ParseCmp(out);
    DepthGuard guard(this);
    if (!guard.ok()) return false;
    size_t op_offset = Next().offset;
    Node operand;
    if (!ParseNot(&operand) || !RequireBool(operand, "!")) return false;
    std::vector<Node> kids;
    kids.push_back(std::move(operand));
    *out = MakeOp(Op::kNot, op_offset, Type::Of(TypeKind::kBool), std::move(kids));
    return Seal(out);
  }

  // --- comparisons --------------------------------------------------------

  // Checks that `lit` (a string literal) is an option of enum type `t`.
  bool CheckOption(const Node& lit, const Type& t) {
    const std::string& s = lit.literal.as_string();
    if (std::find(t.options.begin(), t.options.end(), s) != t.options.end()) return true;
    return Fail(lit.start, Quote(s) + " is not an option of " + t.ToString() +
                               Suggest(s, t.options, "options"));
  }

  // Checks that values of `a` and `b` may be compared for equality (or
  // membership); string literals adapt to enums. `op_offset` is blamed when
  // no operand is more at fault than the other.
  bool CheckComparable(const Node& a, const Node& b, size_t op_offset,
                       std::string_view op) {
    const Type& ta = a.type;
    const Type& tb = b.type;
    if (IsKind(ta, TypeKind::kNull) || IsKind(tb, TypeKind::kNull)) return true;
    if (IsKind(ta, TypeKind::kEnum) && IsStringLiteral(b)) return CheckOption(b, ta);
    if (IsKind(tb, TypeKind::kEnum) && IsStringLiteral(a)) return CheckOption(a, tb);
    if (ta == tb) return true;
    // A list literal against a list: element by element, so that string
    // literals adapt to an enum element type.
    if (ta.kind == TypeKind::kList && tb.kind == TypeKind::kList) {
      const Node* literal = b.op == Op::kList ? &b : a.op == Op::kList ? &a : nullptr;
      const Node& other = literal == &b ? a : b;
      if (literal && other.type.element) {
        Node element;            // stands for any element of `other`
        element.op = Op::kList;  // not a literal
        element.start = other.start;
        element.type = *other.type.element;
        for (const Node& k : literal->kids) {
          if (!CheckComparable(element, k, op_offset, op)) return false;
        }
        return true;
      }
    }
    // An empty list literal is list<null>: equal-comparable to any list.
    if (ta.kind == TypeKind::kList && tb.kind == TypeKind::kList &&
        (IsKind(ElementOf(ta), TypeKind::kNull) ||
         IsKind(ElementOf(tb), TypeKind::kNull)))
      return true;
    return MismatchError(a, b, op_offset, op);
  }

  bool MismatchError(const Node& a, const Node& b, size_t op_offset,
                     std::string_view op) {
    const Type& ta = a.type;
    const Type& tb = b.type;
    auto money_int = [&](const Node& int_side) {
      std::string n = int_side.op == Op::kLiteral && int_side.literal.is_int()
                          ? std::to_string(int_side.literal.as_int())
                          : std::string("N");
      return Fail(int_side.start, Verb(op) + "money and int" + Where(op) +
                                      "; write yuan(" + n + ") for " + n +
                                      " yuan or fen(" + n + ") for " + n + " fen");
    };
    if (IsKind(ta, TypeKind::kMoney) && IsKind(tb, TypeKind::kInt)) return money_int(b);
    if (IsKind(ta, TypeKind::kInt) && IsKind(tb, TypeKind::kMoney)) return money_int(a);
    auto id_literal = [&](const Node& lit, TypeKind kind) {
      const char* fn = kind == TypeKind::kPerson ? "person" : "dept";
      return Fail(lit.start, Verb(op) + Type::Of(kind).ToString() + " and text" +
                                 Where(op) + "; write " + fn + "(\"" +
                                 lit.literal.as_string() + "\")");
    };
    if ((IsKind(ta, TypeKind::kPerson) || IsKind(ta, TypeKind::kDept)) &&
        IsStringLiteral(b))
      return id_literal(b, ta.kind);
    if ((IsKind(tb, TypeKind::kPerson) || IsKind(tb, TypeKind::kDept)) &&
        IsStringLiteral(a))
      return id_literal(a, tb.kind);
    if (op.empty())
      return Fail(op_offset, "list elements must all have the same type, got " +
                                 ta.ToString() + " and " + tb.ToString());
    return Fail(op_offset, "cannot use " + std::string(op) + " on " + ta.ToString() +
                               " and " + tb.ToString() +
                               "; both sides must have the same type");
  }

  // Message parts for MismatchError; an empty `op` means "in a list literal".
  static std::string Verb(std::string_view op) {
    return op.empty() ? "cannot mix " : "cannot use " + std::string(op) + " on ";
  }
  static std::string Where(std::string_view op) { return op.empty() ? " in a list" : ""; }

  bool IsOrdered(TypeKind k) {
    return k == TypeKind::kInt || k == TypeKind::kMoney || k == TypeKind::kDate ||
           k == TypeKind::kDateTime || k == TypeKind::kText;
  }

  bool ParseCmp(Node* out) {
    Node left;
    if (!ParseAdd(&left)) return false;
    Op op;
    switch (Peek().kind) {
      case Tok::kEq:
        op = Op::kEq;
        break;
      case Tok::kNe:
        op = Op::kNe;
        break;
      case Tok::kLt:
        op = Op::kLt;
        break;
      case Tok::kLe:
        op = Op::kLe;
        break;
      case Tok::kGt:
        op = Op::kGt;
        break;
      case Tok::kGe:
        op = Op::kGe;
        break;
      case Tok::kIdent:
        if (Peek().text == "in") {
          op = Op::kIn;
          break;
        }
        [[fallthrough]];
      default:
        *out = std::move(left);
        return true;
    }
    const Token& op_tok = Next();
    size_t op_offset = op_tok.offset;
    std::string op_text = op_tok.text;
    Node right;
    if (!ParseAdd(&right)) return false;
    if (op == Op::kEq || op == Op::kNe) {
      if (!CheckComparable(left, right, op_offset, op_text)) return false;
    } else if (op == Op::kIn) {
      if (!CheckMembership(left, right, op_offset)) return false;
    } else {
      for (const Node* n : {&left, &right}) {
        if (IsKind(n->type, TypeKind::kNull))
          return Fail(n->start, "null has no order; test for it with == null");
      }
      for (const Node* n : {&left, &right}) {
        if (!IsOrdered(n->type.kind))
          return Fail(n->start, op_text +
                                    " needs int, money, date, datetime or "
                                    "text operands; " +
                                    n->type.ToString() +
                                    " has no order (compare it with == or in)");
      }
      if (!(left.type == right.type))
        return MismatchError(left, right, op_offset, op_text);
    }
    switch (Peek().kind) {
      case Tok::kEq:
      case Tok::kNe:
      case Tok::kLt:
      case Tok::kLe:
      case Tok::kGt:
      case Tok::kGe:
        return Fail(Peek().offset,
                    "comparisons cannot be chained; combine "
                    "them with &&, e.g. a < b && b < c");
      default:
        if (Peek().kind == Tok::kIdent && Peek().text == "in")
          return Fail(Peek().offset,
                      "comparisons cannot be chained; combine "
                      "them with && or use parentheses");
    }
    std::vector<Node> kids;
    kids.push_back(std::move(left));
    kids.push_back(std::move(right));
    *out = MakeOp(op, op_offset, Type::Of(TypeKind::kBool), std::move(kids));
    return Seal(out);
  }

  bool CheckMembership(const Node& item, const Node& list, size_t op_offset) {
    if (list.type.kind != TypeKind::kList)
      return Fail(list.start, "the right side of 'in' must be a list, but it is " +
                                  list.type.ToString());
    if (IsKind(item.type, TypeKind::kNull)) return true;
    if (list.op == Op::kList) {
      for (const Node& element : list.kids) {
        if (!CheckComparable(item, element, op_offset, "in")) return false;
      }
      return true;
    }
    Node element;            // stands for any element of the list
    element.op = Op::kList;  // not a literal
    element.start = list.start;
    element.type = ElementOf(list.type);
    if (IsKind(element.type, TypeKind::kNull)) return true;
    return CheckComparable(item, element, op_offset, "in");
  }

  // --- arithmetic ---------------------------------------------------------

  std::optional<Type> ArithmeticType(Op op, const Node& a, const Node& b,
                                     size_t op_offset, const std::string& op_text) {
    for (const Node* n : {&a, &b}) {
      if (IsKind(n->type, TypeKind::kNull)) {
        Fail(n->start, "null cannot be used in arithmetic");
        return std::nullopt;
      }
    }
    TypeKind ka = a.type.kind, kb = b.type.kind;
    const Type kInt = Type::Of(TypeKind::kInt), kMoney = Type::Of(TypeKind::kMoney);
    if (ka == TypeKind::kInt && kb == TypeKind::kInt) return kInt;
    switch (op) {
      case Op::kAdd:
      case Op::kSub:
        if (ka == TypeKind::kMoney && kb == TypeKind::kMoney) return kMoney;
        break;
      case Op::kMul:
        if ((ka == TypeKind::kMoney && kb == TypeKind::kInt) ||
            (ka == TypeKind::kInt && kb == TypeKind::kMoney))
          return kMoney;
        if (ka == TypeKind::kMoney && kb == TypeKind::kMoney) {
          Fail(op_offset, "cannot multiply money by money; multiply by an int");
          return std::nullopt;
        }
        break;
      case Op::kDiv:
        if (ka == TypeKind::kMoney && kb == TypeKind::kInt) return kMoney;
        if (kb == TypeKind::kMoney) {
          Fail(b.start, "cannot divide by money; divide money by an int");
          return std::nullopt;
        }
        break;
      case Op::kMod:
        Fail(op_offset, "% needs int operands, got " + a.type.ToString() + " and " +
                            b.type.ToString());
        return std::nullopt;
      default:
        break;
    }
    if ((ka == TypeKind::kMoney && kb == TypeKind::kInt) ||
        (ka == TypeKind::kInt && kb == TypeKind::kMoney)) {
      MismatchError(a, b, op_offset, op_text);
      return std::nullopt;
    }
    Fail(op_offset, "cannot use " + op_text + " on " + a.type.ToString() + " and " +
                        b.type.ToString() + "; arithmetic works on int and money only");
    return std::nullopt;
  }

  bool ParseBinaryChain(Node* out, bool additive) {
    Node left;
    if (!(additive ? ParseBinaryChain(&left, false) : ParseUnary(&left))) return false;
    for (;;) {
      Op op;
      Tok k = Peek().kind;
      if (additive && k == Tok::kPlus)
        op = Op::kAdd;
      else if (additive && k == Tok::kMinus)
        op = Op::kSub;
      else if (!additive && k == Tok::kStar)
        op = Op::kMul;
      else if (!additive && k == Tok::kSlash)
        op = Op::kDiv;
      else if (!additive && k == Tok::kPercent)
        op = Op::kMod;
      else
        break;
      const Token& op_tok = Next();
      size_t op_offset = op_tok.offset;
      std::string op_text = op_tok.text;
      Node right;
      if (!(additive ? ParseBinaryChain(&right, false) : ParseUnary(&right)))
        return false;
      auto type = ArithmeticType(op, left, right, op_offset, op_text);
      if (!type) return false;
      std::vector<Node> kids;
      kids.push_back(std::move(left));
      kids.push_back(std::move(right));
      left = MakeOp(op, op_offset, *type, std::move(kids));
      if (!Seal(&left)) return false;
    }
    *out = std::move(left);
    return true;
  }

  bool ParseAdd(Node* out) { return ParseBinaryChain(out, true); }

  bool ParseUnary(Node* out) {
    if (Peek().kind != Tok::kMinus) return ParsePostfix(out);
    DepthGuard guard(this);
    if (!guard.ok()) return false;
    size_t op_offset = Next().offset;
    // "-5" folds into the literal -5.
    Node operand;
    if (!ParseUnary(&operand)) return false;
    if (!IsKind(operand.type, TypeKind::kInt) && !IsKind(operand.type, TypeKind::kMoney))
      return Fail(operand.start,
                  "unary - needs int or money, but this is " + operand.type.ToString());
    if (operand.op == Op::kLiteral && operand.literal.is_int()) {
      *out = Literal(Value::Int(-operand.literal.as_int()), operand.type, op_offset);
      return true;
    }
    std::vector<Node> kids;
    Type t = operand.type;
    kids.push_back(std::move(operand));
    *out = MakeOp(Op::kNeg, op_offset, std::move(t), std::move(kids));
    return Seal(out);
  }

  // --- postfix: attributes, projections, method-style calls -------------

  bool ParsePostfix(Node* out) {
    Node base;
    if (!ParsePrimary(&base)) return false;
    for (;;) {
      if (Peek().kind == Tok::kLParen)
        return Fail(Peek().offset,
                    "only named functions can be called, e.g. "
                    "len(form.items)");
      if (!Accept(Tok::kDot)) break;
      const Token& name_tok = Peek();
      if (name_tok.kind != Tok::kIdent)
        return Fail(name_tok.offset,
                    "expected an attribute name after '.', found " + Describe(name_tok));
      Next();
      std::string name = name_tok.text;
      size_t name_offset = name_tok.offset;
      if (Peek().kind == Tok::kLParen) {
        // x.f(args) is f(x, args).
        const FuncInfo* f = FindFunc(name);
        if (!f)
          return Fail(name_offset, "unknown function " + Quote(name) +
                                       Suggest(name, FuncNames(), "functions"));
        std::vector<Node> args;
        args.push_back(std::move(base));
        if (!ParseCallArgs(&args)) return false;
        if (!BuildCall(*f, name_offset, std::move(args), &base)) return false;
        base.start = base.kids.empty() ? name_offset : base.kids[0].start;
        continue;
      }
      if (!BuildAttr(std::move(base), name, name_offset, &base)) return false;
    }
    *out = std::move(base);
    return true;
  }

  static std::vector<std::string> FieldNames(const std::vector<FieldDef>& fields) {
    std::vector<std::string> names;
    for (const FieldDef& f : fields) names.push_back(f.name);
    return names;
  }

  static std::vector<std::string> FuncNames() {
    std::vector<std::string> names;
    for (const FuncInfo& f : kFuncs) names.emplace_back(f.name);
    return names;
  }

  bool BuildAttr(Node base, const std::string& name, size_t name_offset, Node* out) {
    Type result;
    Attr attr;
    const Type& t = base.type;
    auto no_such = [&](const std::vector<std::string>& known) {
      return Fail(name_offset, t.ToString() + " has no attribute " + Quote(name) +
                                   Suggest(name, known, "attributes"));
    };
    switch (t.kind) {
      case TypeKind::kPerson:
        if (name == "dept") {
          attr = Attr::kPersonDept;
          result = Type::Of(TypeKind::kDept);
        } else if (name == "id") {
          attr = Attr::kPersonId;
          result = Type::Of(TypeKind::kText);
        } else {
          return no_such({"dept", "id"});
        }
        break;
      case TypeKind::kDept:
        if (name == "head") {
          attr = Attr::kDeptHead;
          result = Type::Of(TypeKind::kPerson);
        } else if (name == "supervisor") {
          attr = Attr::kDeptSupervisor;
          result = Type::Of(TypeKind::kPerson);
        } else if (name == "members") {
          attr = Attr::kDeptMembers;
          result = Type::ListOf(Type::Of(TypeKind::kPerson));
        } else if (name == "id") {
          attr = Attr::kDeptId;
          result = Type::Of(TypeKind::kText);
        } else {
          return no_such({"head", "supervisor", "members", "id"});
        }
        break;
      case TypeKind::kRecord:
      case TypeKind::kList: {
        const Type& rec = t.kind == TypeKind::kRecord ? t : ElementOf(t);
        if (rec.kind != TypeKind::kRecord || !rec.fields) {
          return Fail(name_offset, t.ToString() + " has no attribute " + Quote(name) +
                                       "; only lists of records can be projected");
        }
        const FieldDef* field = nullptr;
        for (const FieldDef& f : *rec.fields) {
          if (f.name == name) field = &f;
        }
        if (!field) return no_such(FieldNames(*rec.fields));
        if (t.kind == TypeKind::kRecord) {
          attr = Attr::kRecordField;
          result = field->type;
        } else {
          attr = Attr::kProjection;
          result = Type::ListOf(field->type);
        }
        break;
      }
      default:
        return Fail(name_offset, t.ToString() + " has no attribute " + Quote(name));
    }
    std::vector<Node> kids;
    kids.push_back(std::move(base));
    Node n = MakeOp(Op::kAttr, name_offset, std::move(result), std::move(kids));
    n.attr = attr;
    n.name = name;
    *out = std::move(n);
    return Seal(out);
  }

  // After the function name: "(" args? ")". Appends to `args`.
  bool ParseCallArgs(std::vector<Node>* args) {
    if (!Expect(Tok::kLParen, "'('")) return false;
    if (Accept(Tok::kRParen)) return true;
    for (;;) {
      Node arg;
      if (!ParseOr(&arg)) return false;
      args->push_back(std::move(arg));
      if (Accept(Tok::kRParen)) return true;
      if (!Expect(Tok::kComma, "',' or ')' in the argument list")) return false;
    }
  }

  // --- functions ----------------------------------------------------------

  bool RequireType(const Node& arg, TypeKind kind, const FuncInfo& f) {
    if (IsKind(arg.type, kind)) return true;
    std::string hint;
    if (kind == TypeKind::kDept && IsStringLiteral(arg))
      hint = "; write dept(\"" + arg.literal.as_string() + "\")";
    if (kind == TypeKind::kPerson && IsStringLiteral(arg))
      hint = "; write person(\"" + arg.literal.as_string() + "\")";
    return Fail(arg.start, std::string(f.name) + " expects " + Type::Of(kind).ToString() +
                               " here, got " + arg.type.ToString() + " (" +
                               std::string(f.signature) + ")" + hint);
  }

  bool RequireIdLiteral(const Node& arg, const FuncInfo& f, std::string_view what) {
    if (IsStringLiteral(arg)) return true;
    return Fail(arg.start, std::string(f.name) + " takes the " + std::string(what) +
                               " id as a quoted literal, e.g. " +
                               std::string(f.signature));
  }

  bool CheckOrgId(const Node& lit, std::string_view what) {
    const Org* org = env_.org;
    if (!org) return true;
    const std::string& id = lit.literal.as_string();
    std::vector<std::string> known;
    bool found = false;
    if (what == "department") {
      found = org->FindDept(DeptId(id)) != nullptr;
      for (const auto& d : org->departments) known.push_back(d.id.value);
    } else if (what == "person") {
      found = org->FindPerson(PersonId(id)) != nullptr;
      for (const auto& p : org->people) known.push_back(p.id.value);
    } else if (what == "group") {
      found = org->FindGroup(id) != nullptr;
      for (const auto& g : org->groups) known.push_back(g.id);
    } else {
      found = org->FindPosition(id) != nullptr;
      for (const auto& p : org->positions) known.push_back(p.id);
    }
    if (found) return true;
    return Fail(lit.start, "the organisation has no " + std::string(what) + " " +
                               Quote(id) + Suggest(id, known, std::string(what) + "s"));
  }

  bool BuildCall(const FuncInfo& f, size_t name_offset, std::vector<Node> args,
                 Node* out) {
    if (static_cast<int>(args.size()) != f.arity)
      return Fail(name_offset, std::string(f.name) + " takes " + std::to_string(f.arity) +
                                   " argument" + (f.arity == 1 ? "" : "s") + ", got " +
                                   std::to_string(args.size()) + " (" +
                                   std::string(f.signature) + ")");
    for (const Node& a : args) {
      if (IsNullLiteral(a))
        return Fail(a.start, "null is not a valid argument of " + std::string(f.name));
    }
    Type result;
    switch (f.func) {
      case Func::kDept:
        if (!RequireIdLiteral(args[0], f, "department") ||
            !CheckOrgId(args[0], "department"))
          return false;
        result = Type::Of(TypeKind::kDept);
        break;
      case Func::kPerson:
        if (!RequireIdLiteral(args[0], f, "person") || !CheckOrgId(args[0], "person"))
          return false;
        result = Type::Of(TypeKind::kPerson);
        break;
      case Func::kHeadOf:
      case Func::kSupervisorOf:
        if (!RequireType(args[0], TypeKind::kDept, f)) return false;
        result = Type::Of(TypeKind::kPerson);
        break;
      case Func::kMembersOf:
        if (!RequireType(args[0], TypeKind::kDept, f)) return false;
        result = Type::ListOf(Type::Of(TypeKind::kPerson));
        break;
      case Func::kHolders:
        if (!RequireIdLiteral(args[0], f, "position") || !CheckOrgId(args[0], "position"))
          return false;
        result = Type::ListOf(Type::Of(TypeKind::kPerson));
        break;
      case Func::kGroup:
        if (!RequireIdLiteral(args[0], f, "group") || !CheckOrgId(args[0], "group"))
          return false;
        result = Type::ListOf(Type::Of(TypeKind::kPerson));
        break;
      case Func::kPurchasingDept:
        if (env_.org) {
          bool any = false;
          for (const auto& d : env_.org->departments) any = any || d.purchasing;
          if (!any)
            return Fail(name_offset,
                        "the organisation has no purchasing "
                        "department (set purchasing: true on one)");
        }
        result = Type::Of(TypeKind::kDept);
        break;
      case Func::kHasPosition:
        if (!RequireType(args[0], TypeKind::kPerson, f) ||
            !RequireIdLiteral(args[1], f, "position") || !CheckOrgId(args[1], "position"))
          return false;
        result = Type::Of(TypeKind::kBool);
        break;
      case Func::kInGroup:
        if (!RequireType(args[0], TypeKind::kPerson, f) ||
            !RequireIdLiteral(args[1], f, "group") || !CheckOrgId(args[1], "group"))
          return false;
        result = Type::Of(TypeKind::kBool);
        break;
      case Func::kYuan:
      case Func::kFen: {
        const Node& a = args[0];
        const bool yuan = f.func == Func::kYuan;
        if (yuan && IsStringLiteral(a)) {
          auto m = ParseYuan(a.literal.as_string());
          if (!m)
            return Fail(a.start, Quote(a.literal.as_string()) +
                                     " is not an amount in yuan; write e.g. "
                                     "\"1234.50\" (at most two decimals)");
          *out = Literal(Value::Of(*m), Type::Of(TypeKind::kMoney), name_offset);
          return true;
        }
        if (!IsKind(a.type, TypeKind::kInt))
          return Fail(a.start, std::string(f.name) + " expects int, got " +
                                   a.type.ToString() + " (" + std::string(f.signature) +
                                   ")");
        if (a.op == Op::kLiteral) {
          int64_t fen = a.literal.as_int();
          if (yuan && __builtin_mul_overflow(fen, int64_t{100}, &fen))
            return Fail(a.start, "yuan(" + std::to_string(a.literal.as_int()) +
                                     ") is too large an amount");
          *out = Literal(Value::Of(Money{fen}), Type::Of(TypeKind::kMoney), name_offset);
          return true;
        }
        result = Type::Of(TypeKind::kMoney);
        break;
      }
      case Func::kLen:
        if (args[0].type.kind != TypeKind::kList && args[0].type.kind != TypeKind::kText)
          return Fail(args[0].start,
                      "len expects a list or text, got " + args[0].type.ToString());
        result = Type::Of(TypeKind::kInt);
        break;
      case Func::kSum:
        if (IsListOf(args[0].type, TypeKind::kInt)) {
          result = Type::Of(TypeKind::kInt);
        } else if (IsListOf(args[0].type, TypeKind::kMoney)) {
          result = Type::Of(TypeKind::kMoney);
        } else {
          return Fail(args[0].start, "sum expects list<int> or list<money>, got " +
                                         args[0].type.ToString());
        }
        break;
      case Func::kDate: {
        const Node& a = args[0];
        if (!IsKind(a.type, TypeKind::kText))
          return Fail(a.start,
                      "date expects text like \"2024-03-05\", got " + a.type.ToString());
        if (a.op == Op::kLiteral) {
          auto d = ParseDate(a.literal.as_string());
          if (!d)
            return Fail(a.start, Quote(a.literal.as_string()) +
                                     " is not a date; write YYYY-MM-DD, e.g. "
                                     "\"2024-03-05\"");
          *out = Literal(Value::Of(*d), Type::Of(TypeKind::kDate), name_offset);
          return true;
        }
        result = Type::Of(TypeKind::kDate);
        break;
      }
      case Func::kDaysBetween:
        if (!RequireType(args[0], TypeKind::kDate, f) ||
            !RequireType(args[1], TypeKind::kDate, f))
          return false;
        result = Type::Of(TypeKind::kInt);
        break;
      case Func::kDistinct:
        if (args[0].type.kind != TypeKind::kList)
          return Fail(args[0].start,
                      "distinct expects a list, got " + args[0].type.ToString());
        result = Type::Of(TypeKind::kBool);
        break;
    }
    Node n = MakeOp(Op::kCall, name_offset, std::move(result), std::move(args));
    n.start = name_offset;
    n.func = f.func;
    n.name = std::string(f.name);
    *out = std::move(n);
    return Seal(out);
  }

  // --- primaries ----------------------------------------------------------

  bool ParseListLiteral(Node* out) {
    size_t open = Next().offset;  // '['
    std::vector<Node> kids;
    if (!Accept(Tok::kRBracket)) {
      for (;;) {
        Node element;
        if (!ParseOr(&element)) return false;
        kids.push_back(std::move(element));
        if (Accept(Tok::kRBracket)) break;
        if (!Expect(Tok::kComma, "',' or ']' in the list")) return false;
      }
    }
    // The element type: the first non-literal element's type wins (so that
    // string literals adapt to an enum), else the first element's.
    Type element;
    const Node* model = nullptr;
    for (const Node& k : kids) {
      if (IsKind(k.type, TypeKind::kNull)) continue;
      if (!model || (model->op == Op::kLiteral && k.op != Op::kLiteral)) {
        if (!model || IsStringLiteral(*model)) model = &k;
      }
    }
    if (model) {
      element = model->type;
      for (const Node& k : kids) {
        if (&k == model) continue;
        if (!CheckComparable(*model, k, k.start, "")) return false;
      }
    }
    *out = MakeOp(Op::kList, open, Type::ListOf(std::move(element)), std::move(kids));
    out->start = open;
    return Seal(out);
  }

  bool ParsePrimary(Node* out) {
    const Token& t = Peek();
    switch (t.kind) {
      case Tok::kInt:
        Next();
        *out = Literal(Value::Int(t.int_value), Type::Of(TypeKind::kInt), t.offset);
        return true;
      case Tok::kString: {
        Next();
        *out = Literal(Value::Str(t.text), Type::Of(TypeKind::kText), t.offset);
        return true;
      }
      case Tok::kLParen: {
        Next();
        Node inner;
        if (!ParseOr(&inner)) return false;
        if (!Expect(Tok::kRParen, "')'")) return false;
        *out = std::move(inner);
        return true;
      }
      case Tok::kLBracket: {
        DepthGuard guard(this);
        if (!guard.ok()) return false;
        return ParseListLiteral(out);
      }
      case Tok::kIdent:
        return ParseIdentifier(out);
      case Tok::kEnd:
        return Fail(t.offset, "expression ends too early; expected a value");
      default:
        return Fail(t.offset, "expected a value, found " + Describe(t));
    }
  }

  bool ParseIdentifier(Node* out) {
    const Token& t = Next();
    const std::string name = t.text;
    const size_t offset = t.offset;
    if (name == "true" || name == "false") {
      *out = Literal(Value::Bool(name == "true"), Type::Of(TypeKind::kBool), offset);
      return true;
    }
    if (name == "null") {
      *out = Literal(Value::Null(), Type::Of(TypeKind::kNull), offset);
      return true;
    }
    if (name == "form") return ParseFormField(offset, out);
    auto root = [&](Op op, TypeKind kind) {
      Node n;
      n.op = op;
      n.start = n.op_offset = offset;
      n.type = Type::Of(kind);
      *out = std::move(n);
      return true;
    };
    if (name == "submitter") return root(Op::kSubmitter, TypeKind::kPerson);
    if (name == "actor") return root(Op::kActor, TypeKind::kPerson);
    if (name == "now") return root(Op::kNow, TypeKind::kDateTime);
    if (name == "today") return root(Op::kToday, TypeKind::kDate);
    if (name == "in")
      return Fail(offset, "'in' needs a value on its left, e.g. form.kind in [\"a\"]");
    if (const FuncInfo* f = FindFunc(name)) {
      if (Peek().kind != Tok::kLParen)
        return Fail(Peek().offset, std::string(f->name) + " is a function; call it as " +
                                       std::string(f->signature));
      std::vector<Node> args;
      if (!ParseCallArgs(&args)) return false;
      return BuildCall(*f, offset, std::move(args), out);
    }
    if (Peek().kind == Tok::kLParen)
      return Fail(offset, "unknown function " + Quote(name) +
                              Suggest(name, FuncNames(), "functions"));
    return Fail(offset, "unknown name " + Quote(name) +
                            "; form fields are written form." + name +
                            Suggest(name, RootNames(), "names"));
  }

  bool ParseFormField(size_t form_offset, Node* out) {
    if (!env_.form)
      return Fail(form_offset, "no form is declared, so form fields cannot be used");
    if (!Accept(Tok::kDot))
      return Fail(Peek().offset, "form must be followed by .field, e.g. form.amount");
    const Token& t = Peek();
    if (t.kind != Tok::kIdent)
      return Fail(t.offset, "expected a field name after 'form.', found " + Describe(t));
    Next();
    for (const FieldDef& f : *env_.form) {
      if (f.name == t.text) {
        Node n;
        n.op = Op::kField;
        n.start = form_offset;
        n.op_offset = t.offset;
        n.name = f.name;
        n.type = f.type;
        *out = std::move(n);
        return true;
      }
    }
    return Fail(t.offset, "unknown form field " + Quote(t.text) +
                              Suggest(t.text, FieldNames(*env_.form), "fields"));
  }

  std::vector<Token> tokens_;
  const TypeEnv& env_;
  size_t pos_ = 0;
  int depth_ = 0;
  std::optional<CompileError> error_;
};

// ---------------------------------------------------------------------------
// Evaluator

std::unexpected<Error> EvalError(const Node& n, std::string message) {
  return InvalidArgument("expr_eval",
                         message + " (at offset " + std::to_string(n.op_offset) + ")");
}

bool Truthy(const Value& v) { return v.is_bool() && v.as_bool(); }

// True if `v` has the representation of type `t` (null fits every type: an
// absent optional value). Enum options and text lengths are the form
// validator's business; this only guards the evaluator's assumptions.
bool Fits(const Value& v, const Type& t) {
  if (v.is_null()) return true;
  switch (t.kind) {
    case TypeKind::kNull:
      return false;
    case TypeKind::kBool:
      return v.is_bool();
    case TypeKind::kInt:
      return v.is_int();
    case TypeKind::kMoney:
      return v.is_money();
    case TypeKind::kDate:
      return std::holds_alternative<Date>(v.v);
    case TypeKind::kDateTime:
      return std::holds_alternative<Timestamp>(v.v);
    case TypeKind::kText:
    case TypeKind::kEnum:
    case TypeKind::kPerson:
    case TypeKind::kDept:
    case TypeKind::kAttachment:
      return v.is_string();
    case TypeKind::kList:
      if (!v.is_list() || !t.element) return false;
      for (const Value& element : v.as_list()) {
        if (!Fits(element, *t.element)) return false;
      }
      return true;
    case TypeKind::kRecord: {
      if (!v.is_record() || !t.fields) return false;
      const auto& r = v.as_record();
      for (const FieldDef& f : *t.fields) {
        auto it = r.find(f.name);
        if (it != r.end() && !Fits(it->second, f.type)) return false;
      }
      return true;
    }
  }
  return false;
}

// Total order over values of one alternative; nullopt when not comparable.
std::optional<std::strong_ordering> Order(const Value& a, const Value& b) {
  if (a.v.index() != b.v.index()) return std::nullopt;
  if (auto x = std::get_if<int64_t>(&a.v)) return *x <=> std::get<int64_t>(b.v);
  if (auto x = std::get_if<Money>(&a.v)) return x->fen <=> std::get<Money>(b.v).fen;
  if (auto x = std::get_if<Date>(&a.v)) return x->days <=> std::get<Date>(b.v).days;
  if (auto x = std::get_if<Timestamp>(&a.v)) return x->ms <=> std::get<Timestamp>(b.v).ms;
  if (auto x = std::get_if<std::string>(&a.v)) {
    int c = x->compare(std::get<std::string>(b.v));
    return c < 0   ? std::strong_ordering::less
           : c > 0 ? std::strong_ordering::greater
                   : std::strong_ordering::equal;
  }
  return std::nullopt;
}

class Evaluator {
 public:
  explicit Evaluator(const EvalEnv& env) : env_(env) {}

  Result<Value> Eval(const Node& n) {
    switch (n.op) {
      case Op::kLiteral:
        return n.literal;
      case Op::kList: {
        Value::List list;
        list.reserve(n.kids.size());
        for (const Node& k : n.kids) {
          auto v = Eval(k);
          if (!v) return v;
          list.push_back(std::move(*v));
        }
        return Value::Of(std::move(list));
      }
      case Op::kField: {
        if (!env_.form) return Value::Null();
        auto it = env_.form->find(n.name);
        if (it == env_.form->end()) return Value::Null();
        // Every operation below relies on values having their static type;
        // form data that does not is refused here, once.
        if (!Fits(it->second, n.type))
          return EvalError(n, "form field " + Quote(n.name) + " holds " +
                                  EncodeValue(it->second) + ", which is not a " +
                                  n.type.ToString());
        return it->second;
      }
      case Op::kSubmitter:
        return PersonValue(env_.submitter);
      case Op::kActor:
        return PersonValue(env_.actor);
      case Op::kNow:
        ClockValidUntil(env_.now);
        return Value::Of(env_.now);
      case Op::kToday: {
        Date today = ShanghaiDateOf(env_.now);
        // The same day until the next Asia/Shanghai midnight.
        ClockValidUntil(Timestamp{int64_t(today.days + 1) * kMsPerDay - kShanghaiOffsetMs});
        return Value::Of(today);
      }
      case Op::kAttr:
        return EvalAttr(n);
      case Op::kCall:
        return EvalCall(n);
      case Op::kNot: {
        auto v = Eval(n.kids[0]);
        if (!v) return v;
        return Value::Bool(!Truthy(*v));
      }
      case Op::kNeg: {
        auto v = Eval(n.kids[0]);
        if (!v || v->is_null()) return v;
        if (v->is_int()) {
          int64_t r;
          if (__builtin_sub_overflow(int64_t{0}, v->as_int(), &r))
            return EvalError(n, "integer overflow in unary -");
          return Value::Int(r);
        }
        if (v->is_money()) {
          int64_t r;
          if (__builtin_sub_overflow(int64_t{0}, v->as_money().fen, &r))
            return EvalError(n, "money overflow in unary -");
          return Value::Of(Money{r});
        }
        return TypeFault(n, *v);
      }
      case Op::kAnd:
      case Op::kOr: {
        const bool is_or = n.op == Op::kOr;
        for (const Node& k : n.kids) {
          auto v = Eval(k);
          if (!v) return v;
          if (Truthy(*v) == is_or) return Value::Bool(is_or);
        }
        return Value::Bool(!is_or);
      }
      case Op::kEq:
      case Op::kNe: {
        auto a = Eval(n.kids[0]);
        if (!a) return a;
        auto b = Eval(n.kids[1]);
        if (!b) return b;
        return Value::Bool((*a == *b) == (n.op == Op::kEq));
      }
      case Op::kLt:
      case Op::kLe:
      case Op::kGt:
      case Op::kGe: {
        auto a = Eval(n.kids[0]);
        if (!a) return a;
        auto b = Eval(n.kids[1]);
        if (!b) return b;
        if (a->is_null() || b->is_null()) return Value::Bool(false);
        auto order = Order(*a, *b);
        if (!order) return TypeFault(n, *a);
        switch (n.op) {
          case Op::kLt:
            return Value::Bool(*order < 0);
          case Op::kLe:
            return Value::Bool(*order <= 0);
          case Op::kGt:
            return Value::Bool(*order > 0);
          default:
            return Value::Bool(*order >= 0);
        }
      }
      case Op::kIn: {
        auto a = Eval(n.kids[0]);
        if (!a) return a;
        auto b = Eval(n.kids[1]);
        if (!b) return b;
        if (b->is_null()) return Value::Bool(false);
        if (!b->is_list()) return TypeFault(n, *b);
        for (const Value& element : b->as_list()) {
          if (element == *a) return Value::Bool(true);
        }
        return Value::Bool(false);
      }
      case Op::kAdd:
      case Op::kSub:
      case Op::kMul:
      case Op::kDiv:
      case Op::kMod:
        return EvalArithmetic(n);
    }
    return EvalError(n, "internal error: unknown node");
  }

 private:
  static Value PersonValue(const PersonId& p) {
    return p.empty() ? Value::Null() : Value::Str(p.value);
  }

  static std::unexpected<Error> TypeFault(const Node& n, const Value& v) {
    return EvalError(n, "value " + EncodeValue(v) + " does not have the type " +
                            "the expression was checked against; the form data "
                            "does not match its declaration");
  }

  Result<const Org*> NeedOrg(const Node& n) {
    if (env_.org) return env_.org;
    return EvalError(n, "no organisation given to evaluate " + n.name);
  }

  Result<const Person*> FindPerson(const Node& n, const std::string& id) {
    auto org = NeedOrg(n);
    if (!org) return std::unexpected(org.error());
    const Person* p = (*org)->FindPerson(PersonId(id));
    if (!p) return EvalError(n, "unknown person " + Quote(id));
    return p;
  }

  Result<const Department*> FindDept(const Node& n, const std::string& id) {
    auto org = NeedOrg(n);
    if (!org) return std::unexpected(org.error());
    const Department* d = (*org)->FindDept(DeptId(id));
    if (!d) return EvalError(n, "unknown department " + Quote(id));
    return d;
  }

  static Value PeopleList(const std::vector<PersonId>& people) {
    Value::List list;
    list.reserve(people.size());
    for (const PersonId& p : people) list.push_back(Value::Str(p.value));
    return Value::Of(std::move(list));
  }

  Result<Value> EvalAttr(const Node& n) {
    auto base = Eval(n.kids[0]);
    if (!base || base->is_null()) return base;
    switch (n.attr) {
      case Attr::kPersonId:
      case Attr::kDeptId:
        if (!base->is_string()) return TypeFault(n, *base);
        return base;
      case Attr::kPersonDept: {
        if (!base->is_string()) return TypeFault(n, *base);
        auto p = FindPerson(n, base->as_string());
        if (!p) return std::unexpected(p.error());
        if ((*p)->dept.empty()) return Value::Null();
        return Value::Str((*p)->dept.value);
      }
      case Attr::kDeptHead:
      case Attr::kDeptSupervisor:
      case Attr::kDeptMembers: {
        if (!base->is_string()) return TypeFault(n, *base);
        auto d = FindDept(n, base->as_string());
        if (!d) return std::unexpected(d.error());
        if (n.attr == Attr::kDeptMembers)
          return PeopleList(env_.org->MembersOf((*d)->id));
        return PersonValue(n.attr == Attr::kDeptHead ? (*d)->head : (*d)->supervisor);
      }
      case Attr::kRecordField: {
        if (!base->is_record()) return TypeFault(n, *base);
        const auto& r = base->as_record();
        auto it = r.find(n.name);
        return it == r.end() ? Value::Null() : it->second;
      }
      case Attr::kProjection: {
        if (!base->is_list()) return TypeFault(n, *base);
        Value::List out;
        out.reserve(base->as_list().size());
        for (const Value& element : base->as_list()) {
          if (element.is_null()) {
            out.push_back(Value::Null());
            continue;
          }
          if (!element.is_record()) return TypeFault(n, element);
          auto it = element.as_record().find(n.name);
          out.push_back(it == element.as_record().end() ? Value::Null() : it->second);
        }
        return Value::Of(std::move(out));
      }
    }
    return EvalError(n, "internal error: unknown attribute");
  }

  Result<Value> EvalCall(const Node& n) {
    std::vector<Value> args;
    args.reserve(n.kids.size());
    for (const Node& k : n.kids) {
      auto v = Eval(k);
      if (!v) return v;
      args.push_back(std::move(*v));
    }
    // Person/group predicates on null are false; every other function maps
    // a null argument to null.
    for (const Value& a : args) {
      if (a.is_null()) {
        if (n.func == Func::kHasPosition || n.func == Func::kInGroup)
          return Value::Bool(false);
        return Value::Null();
      }
    }
    auto text_arg = [&](size_t i) -> const std::string* {
      return args[i].is_string() ? &args[i].as_string() : nullptr;
    };
    switch (n.func) {
      case Func::kDept: {
        auto d = FindDept(n, args[0].as_string());
        if (!d) return std::unexpected(d.error());
        return args[0];
      }
      case Func::kPerson: {
        auto p = FindPerson(n, args[0].as_string());
        if (!p) return std::unexpected(p.error());
        return args[0];
      }
      case Func::kHeadOf:
      case Func::kSupervisorOf:
      case Func::kMembersOf: {
        const std::string* id = text_arg(0);
        if (!id) return TypeFault(n, args[0]);
        auto d = FindDept(n, *id);
        if (!d) return std::unexpected(d.error());
        if (n.func == Func::kMembersOf) return PeopleList(env_.org->MembersOf((*d)->id));
        return PersonValue(n.func == Func::kHeadOf ? (*d)->head : (*d)->supervisor);
      }
      case Func::kHolders: {
        auto org = NeedOrg(n);
        if (!org) return std::unexpected(org.error());
        if (!(*org)->FindPosition(args[0].as_string()))
          return EvalError(n, "unknown position " + Quote(args[0].as_string()));
        return PeopleList((*org)->Holders(args[0].as_string()));
      }
      case Func::kGroup: {
        auto org = NeedOrg(n);
        if (!org) return std::unexpected(org.error());
        const Group* g = (*org)->FindGroup(args[0].as_string());
        if (!g) return EvalError(n, "unknown group " + Quote(args[0].as_string()));
        return PeopleList(g->members);
      }
      case Func::kPurchasingDept: {
        auto org = NeedOrg(n);
        if (!org) return std::unexpected(org.error());
        for (const Department& d : (*org)->departments) {
          if (d.purchasing) return Value::Str(d.id.value);
        }
        return EvalError(n, "the organisation has no purchasing department");
      }
      case Func::kHasPosition:
      case Func::kInGroup: {
        const std::string* who = text_arg(0);
        if (!who) return TypeFault(n, args[0]);
        auto org = NeedOrg(n);
        if (!org) return std::unexpected(org.error());
        const std::string& what = args[1].as_string();
        if (n.func == Func::kHasPosition) {
          if (!(*org)->FindPosition(what))
            return EvalError(n, "unknown position " + Quote(what));
          return Value::Bool((*org)->HasPosition(PersonId(*who), what));
        }
        if (!(*org)->FindGroup(what)) return EvalError(n, "unknown group " + Quote(what));
        return Value::Bool((*org)->InGroup(PersonId(*who), what));
      }
      case Func::kYuan:
      case Func::kFen: {
        if (!args[0].is_int()) return TypeFault(n, args[0]);
        int64_t fen = args[0].as_int();
        if (n.func == Func::kYuan && __builtin_mul_overflow(fen, int64_t{100}, &fen))
          return EvalError(
              n, "money overflow in yuan(" + std::to_string(args[0].as_int()) + ")");
        return Value::Of(Money{fen});
      }
      case Func::kLen: {
        if (args[0].is_list())
          return Value::Int(static_cast<int64_t>(args[0].as_list().size()));
        const std::string* s = text_arg(0);
        if (!s) return TypeFault(n, args[0]);
        int64_t chars = 0;
        for (unsigned char c : *s) chars += (c & 0xC0) != 0x80;
        return Value::Int(chars);
      }
      case Func::kSum: {
        if (!args[0].is_list()) return TypeFault(n, args[0]);
        const bool money = n.type.kind == TypeKind::kMoney;
        int64_t total = 0;
        for (const Value& element : args[0].as_list()) {
          if (element.is_null()) continue;  // absent optional values
          int64_t x;
          if (money && element.is_money()) {
            x = element.as_money().fen;
          } else if (!money && element.is_int()) {
            x = element.as_int();
          } else {
            return TypeFault(n, element);
          }
          if (__builtin_add_overflow(total, x, &total))
            return EvalError(n,
                             money ? "money overflow in sum" : "integer overflow in sum");
        }
        return money ? Value::Of(Money{total}) : Value::Int(total);
      }
      case Func::kDate: {
        const std::string* s = text_arg(0);
        if (!s) return TypeFault(n, args[0]);
        auto d = ParseDate(*s);
        if (!d) return EvalError(n, Quote(*s) + " is not a date (YYYY-MM-DD)");
        return Value::Of(*d);
      }
      case Func::kDaysBetween: {
        if (!std::holds_alternative<Date>(args[0].v)) return TypeFault(n, args[0]);
        if (!std::holds_alternative<Date>(args[1].v)) return TypeFault(n, args[1]);
        return Value::Int(int64_t{args[1].as_date().days} - args[0].as_date().days);
      }
      case Func::kDistinct: {
        if (!args[0].is_list()) return TypeFault(n, args[0]);
        const auto& list = args[0].as_list();
        // Canonical encodings are equal exactly when values are equal.
        std::set<std::string> seen;
        for (const Value& element : list) {
          if (!seen.insert(EncodeValue(element)).second) return Value::Bool(false);
        }
        return Value::Bool(true);
      }
    }
    return EvalError(n, "internal error: unknown function");
  }

  Result<Value> EvalArithmetic(const Node& n) {
    auto a = Eval(n.kids[0]);
    if (!a) return a;
    auto b = Eval(n.kids[1]);
    if (!b) return b;
    if (a->is_null() || b->is_null()) return Value::Null();
    const bool money_result = n.type.kind == TypeKind::kMoney;
    auto raw = [](const Value& v) -> std::optional<int64_t> {
      if (v.is_int()) return v.as_int();
      if (v.is_money()) return v.as_money().fen;
      return std::nullopt;
    };
    auto x = raw(*a);
    if (!x) return TypeFault(n, *a);
    auto y = raw(*b);
    if (!y) return TypeFault(n, *b);
    int64_t r = 0;
    bool overflow = false;
    switch (n.op) {
      case Op::kAdd:
        overflow = __builtin_add_overflow(*x, *y, &r);
        break;
      case Op::kSub:
        overflow = __builtin_sub_overflow(*x, *y, &r);
        break;
      case Op::kMul:
        overflow = __builtin_mul_overflow(*x, *y, &r);
        break;
      case Op::kDiv:
      case Op::kMod:
        if (*y == 0) return EvalError(n, "division by zero");
        if (*x == std::numeric_limits<int64_t>::min() && *y == -1) {
          overflow = n.op == Op::kDiv;
          r = 0;
        } else {
          r = n.op == Op::kDiv ? *x / *y : *x % *y;  // truncates toward zero
        }
        break;
      default:
        return EvalError(n, "internal error: not arithmetic");
    }
    if (overflow)
      return EvalError(n, std::string(money_result ? "money" : "integer") +
                              " overflow in " + InfoOfOp(n.op));
    return money_result ? Value::Of(Money{r}) : Value::Int(r);
  }

  static std::string InfoOfOp(Op op) {
    switch (op) {
      case Op::kAdd:
        return "+";
      case Op::kSub:
        return "-";
      case Op::kMul:
        return "*";
      case Op::kDiv:
        return "/";
      default:
        return "%";
    }
  }

  // The value just read from the clock stays the same before `t`.
  void ClockValidUntil(Timestamp t) const {
    if (env_.valid_until != nullptr && t < *env_.valid_until) *env_.valid_until = t;
  }

  const EvalEnv& env_;
};

}  // namespace

std::expected<Expr, CompileError> Compile(std::string_view source, const TypeEnv& env) {
  std::vector<Token> tokens;
  if (auto err = Lex(source, &tokens)) return std::unexpected(*err);
  Parser parser(std::move(tokens), env);
  auto root = parser.Run();
  if (!root) return std::unexpected(root.error());
  Expr e;
  e.type = root->type;
  e.root = std::make_shared<const Node>(std::move(*root));
  e.source = std::string(source);
  return e;
}

Result<Value> Evaluate(const Expr& e, const EvalEnv& env) {
  if (!e.root) return InvalidArgument("expr_eval", "the expression was never compiled");
  Evaluator evaluator(env);
  return evaluator.Eval(*e.root);
}

Result<bool> EvaluateCondition(const Expr& e, const EvalEnv& env) {
  auto v = Evaluate(e, env);
  if (!v) return std::unexpected(v.error());
  if (v->is_null()) return false;
  if (!v->is_bool())
    return InvalidArgument("expr_eval", "condition '" + e.source +
                                            "' is not a bool but " + e.type.ToString());
  return v->as_bool();
}

Result<std::vector<PersonId>> EvaluatePeople(const Expr& e, const EvalEnv& env) {
  auto v = Evaluate(e, env);
  if (!v) return std::unexpected(v.error());
  std::vector<PersonId> out;
  auto add = [&](const Value& p) -> Status {
    if (p.is_null()) return Ok();
    if (!p.is_string())
      return InvalidArgument(
          "expr_eval", "'" + e.source + "' does not yield people but " + EncodeValue(p));
    PersonId id(p.as_string());
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
    return Ok();
  };
  if (v->is_list()) {
    for (const Value& p : v->as_list()) {
      if (auto s = add(p); !s) return std::unexpected(s.error());
    }
  } else if (auto s = add(*v); !s) {
    return std::unexpected(s.error());
  }
  return out;
}

bool IsPeopleType(const Type& t) {
  return t.kind == TypeKind::kPerson || IsListOf(t, TypeKind::kPerson);
}

}  // namespace approvald::expr
