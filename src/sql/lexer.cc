// Spark SQL tokenizer: see lexer.h.
#include "sql/lexer.h"

#include <cstdint>
#include <unordered_set>

namespace lakestream::sql {

namespace {

bool IsIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;  // non-ASCII letters are identifier chars
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp <= 0x10FFFF) {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->append("\xEF\xBF\xBD");  // U+FFFD for out-of-range code points
  }
}

// Quotes at most 20 characters of the source for an error message.
std::string Excerpt(std::string_view sql, size_t pos) {
  std::string_view rest = sql.substr(pos, 20);
  size_t nl = rest.find('\n');
  if (nl != std::string_view::npos) rest = rest.substr(0, nl);
  return std::string(rest);
}

class Lexer {
 public:
  Lexer(std::string_view sql, size_t begin, size_t end, Location start)
      : sql_(sql), pos_(begin), end_(end), loc_(start) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> out;
    while (true) {
      LS_RETURN_NOT_OK(SkipSpaceAndComments());
      Token tok;
      tok.loc = loc_;
      tok.begin = pos_;
      if (pos_ >= end_) {
        tok.type = TokenType::kEnd;
        tok.end = pos_;
        out.push_back(std::move(tok));
        return out;
      }
      LS_RETURN_NOT_OK(Lex(&tok));
      tok.end = pos_;
      out.push_back(std::move(tok));
    }
  }

 private:
  char At(size_t i) const { return i < end_ ? sql_[i] : '\0'; }

  void Advance(size_t n) {
    size_t stop = std::min(pos_ + n, end_);
    AdvanceLocation(&loc_, sql_.substr(pos_, stop - pos_));
    pos_ = stop;
  }

  Status Error(Location loc, size_t pos, std::string_view what) const {
    return UserError("[PARSE_SYNTAX_ERROR] Syntax error at or near '{}': line {}:{}, {}",
                     Excerpt(sql_, pos), loc.line, loc.column, what);
  }

  Status SkipSpaceAndComments() {
    while (pos_ < end_) {
      char c = sql_[pos_];
      if (IsSpace(c)) {
        Advance(1);
      } else if (c == '-' && At(pos_ + 1) == '-') {
        size_t e = pos_;
        while (e < end_ && sql_[e] != '\n') ++e;
        Advance(e - pos_);
      } else if (c == '/' && At(pos_ + 1) == '*') {
        Location start = loc_;
        size_t start_pos = pos_;
        size_t e = pos_ + 2;
        int depth = 1;  // Spark allows nested bracketed comments
        while (e < end_ && depth > 0) {
          if (sql_[e] == '/' && At(e + 1) == '*') {
            ++depth;
            e += 2;
          } else if (sql_[e] == '*' && At(e + 1) == '/') {
            --depth;
            e += 2;
          } else {
            ++e;
          }
        }
        if (depth > 0) return Error(start, start_pos, "unterminated comment: expected '*/'");
        Advance(e - pos_);
      } else {
        break;
      }
    }
    return Status::OK();
  }

  // Scans a quoted body starting at the opening quote; returns the raw body.
  Status ScanQuoted(char quote, bool backslash_escapes, std::string_view what,
                    std::string_view* body) {
    Location start = loc_;
    size_t start_pos = pos_;
    size_t e = pos_ + 1;
    while (e < end_) {
      char c = sql_[e];
      if (backslash_escapes && c == '\\' && e + 1 < end_) {
        e += 2;
        continue;
      }
      if (c == quote) {
        if (quote == '`' && At(e + 1) == '`') {  // `` escapes a backquote
          e += 2;
          continue;
        }
        break;
      }
      ++e;
    }
    if (e >= end_) {
      return Error(
          start, start_pos,
          std::string("unterminated ") + std::string(what) + ": expected closing " + quote);
    }
    *body = sql_.substr(pos_ + 1, e - pos_ - 1);
    Advance(e + 1 - pos_);
    return Status::OK();
  }

  Status Lex(Token* tok) {
    char c = sql_[pos_];
    // X'..' binary literal and R'..' raw string.
    if ((c == 'x' || c == 'X' || c == 'r' || c == 'R') &&
        (At(pos_ + 1) == '\'' || At(pos_ + 1) == '"')) {
      bool binary = c == 'x' || c == 'X';
      Advance(1);
      std::string_view body;
      LS_RETURN_NOT_OK(ScanQuoted(sql_[pos_], /*backslash_escapes=*/false,
                                  binary ? "binary literal" : "string literal", &body));
      if (binary) {
        for (char h : body) {
          if (HexValue(h) < 0)
            return Error(tok->loc, tok->begin, "invalid hexadecimal digit in binary literal");
        }
        tok->type = TokenType::kBinaryString;
      } else {
        tok->type = TokenType::kString;
      }
      tok->text = std::string(body);
      return Status::OK();
    }
    if (c == '\'' || c == '"') {
      std::string_view body;
      LS_RETURN_NOT_OK(ScanQuoted(c, true, "string literal", &body));
      tok->type = TokenType::kString;
      tok->text = UnescapeSqlString(body);
      return Status::OK();
    }
    if (c == '`') {
      std::string_view body;
      LS_RETURN_NOT_OK(ScanQuoted('`', false, "quoted identifier", &body));
      tok->type = TokenType::kQuotedIdent;
      tok->text.reserve(body.size());
      for (size_t i = 0; i < body.size(); ++i) {
        tok->text.push_back(body[i]);
        if (body[i] == '`') ++i;  // `` -> `
      }
      return Status::OK();
    }
    if (IsDigit(c) || (c == '.' && IsDigit(At(pos_ + 1)))) {
      if (LexNumber(tok)) return Status::OK();
      // Not a valid number (e.g. 1abc): Spark lexes it as an identifier.
    }
    if (IsIdentChar(c)) {
      size_t e = pos_;
      while (e < end_ && IsIdentChar(sql_[e])) ++e;
      tok->type = TokenType::kWord;
      tok->text = std::string(sql_.substr(pos_, e - pos_));
      Advance(e - pos_);
      return Status::OK();
    }
    static constexpr std::string_view kSymbols[] = {
        "<=>", ">>>", "<<", ">>", "<=", ">=", "<>", "!=", "==", "=>", "->", "::", "||",
        "|>",  "(",   ")",  ",",  ".",  ";",  "[",  "]",  "{",  "}",  "+",  "-",  "*",
        "/",   "%",   "&",  "|",  "^",  "~",  "=",  "<",  ">",  "!",  ":",  "?",  "@"};
    for (std::string_view s : kSymbols) {
      if (sql_.substr(pos_, std::min(s.size(), end_ - pos_)) == s) {
        tok->type = TokenType::kSymbol;
        tok->text = std::string(s);
        Advance(s.size());
        return Status::OK();
      }
    }
    return Error(loc_, pos_, "unexpected character");
  }

  // Numbers per Spark's lexer; returns false (consuming nothing) when the text
  // is not a valid number, e.g. an identifier that starts with digits.
  bool LexNumber(Token* tok) {
    size_t e = pos_;
    while (IsDigit(At(e))) ++e;
    bool has_dot = false, has_exp = false;
    if (At(e) == '.') {
      has_dot = true;
      ++e;
      while (IsDigit(At(e))) ++e;
    }
    if ((At(e) == 'e' || At(e) == 'E')) {
      size_t x = e + 1;
      if (At(x) == '+' || At(x) == '-') ++x;
      if (IsDigit(At(x))) {
        while (IsDigit(At(x))) ++x;
        has_exp = true;
        e = x;
      }
    }
    size_t digits_end = e;
    std::string suffix;
    char s = At(e);
    char su = static_cast<char>(s >= 'a' && s <= 'z' ? s - 32 : s);
    if ((su == 'B') && (At(e + 1) == 'D' || At(e + 1) == 'd')) {
      suffix = "BD";
      e += 2;
    } else if (su == 'D' || su == 'F') {
      suffix = std::string(1, su);
      e += 1;
    } else if (!has_dot && !has_exp && (su == 'L' || su == 'S' || su == 'Y')) {
      suffix = std::string(1, su);
      e += 1;
    }
    if (IsIdentChar(At(e))) {
      if (has_dot) {
        // 1.5abc: keep the number, the rest becomes the next token.
        e = digits_end;
        suffix.clear();
      } else {
        return false;
      }
    }
    tok->text = std::string(sql_.substr(pos_, digits_end - pos_));
    tok->suffix = suffix;
    if (suffix == "L" || suffix == "S" || suffix == "Y") {
      tok->type = TokenType::kInteger;
    } else if (suffix == "BD") {
      tok->type = TokenType::kDecimal;
    } else if (suffix == "D" || suffix == "F" || has_exp) {
      tok->type = TokenType::kDouble;
    } else if (has_dot) {
      tok->type = TokenType::kDecimal;
    } else {
      tok->type = TokenType::kInteger;
    }
    Advance(e - pos_);
    return true;
  }

  std::string_view sql_;
  size_t pos_;
  size_t end_;
  Location loc_;
};

// Words that never name a column without backquotes and never act as an
// implicit alias: they start or separate clauses (Spark's strict keywords plus
// clause words, which keeps the grammar unambiguous).
const std::unordered_set<std::string>& ReservedWordSet() {
  static const std::unordered_set<std::string> kWords = {
      "ALL",     "AND",    "ANTI",     "AS",         "BETWEEN", "BY",    "CASE",
      "CLUSTER", "CROSS",  "DISTINCT", "DISTRIBUTE", "ELSE",    "END",   "EXCEPT",
      "FROM",    "FULL",   "GROUP",    "HAVING",     "IN",      "INNER", "INTERSECT",
      "INTO",    "IS",     "JOIN",     "LATERAL",    "LEFT",    "LIKE",  "ILIKE",
      "RLIKE",   "REGEXP", "LIMIT",    "MINUS",      "NATURAL", "NOT",   "ON",
      "OR",      "ORDER",  "QUALIFY",  "RIGHT",      "SELECT",  "SEMI",  "SORT",
      "THEN",    "UNION",  "USING",    "WHEN",       "WHERE",   "WITH",  "SETMINUS"};
  return kWords;
}

// Additional words that may name a column but cannot be an implicit alias
// because a clause may start with them right after an expression or table.
const std::unordered_set<std::string>& NoImplicitAliasWordSet() {
  static const std::unordered_set<std::string> kWords = {
      "WINDOW", "OFFSET", "WATERMARK", "TABLESAMPLE", "PIVOT", "UNPIVOT", "DELAY",
      "VALUES", "OVER",   "FILTER",    "ESCAPE",      "ASC",   "DESC",    "NULLS"};
  return kWords;
}

}  // namespace

bool IsReservedWord(std::string_view upper) {
  return ReservedWordSet().count(std::string(upper)) > 0;
}
bool IsNoImplicitAliasWord(std::string_view upper) {
  return NoImplicitAliasWordSet().count(std::string(upper)) > 0;
}

bool Token::IsWord(std::string_view kw) const {
  if (type != TokenType::kWord || text.size() != kw.size()) return false;
  for (size_t i = 0; i < kw.size(); ++i) {
    char c = text[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    if (c != kw[i]) return false;
  }
  return true;
}

std::string ToUpperAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return out;
}

std::string ToLowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

void AdvanceLocation(Location* loc, std::string_view text) {
  for (char c : text) {
    if (c == '\n') {
      ++loc->line;
      loc->column = 1;
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {  // skip UTF-8 continuation bytes
      ++loc->column;
    }
  }
}

std::string UnescapeSqlString(std::string_view b) {
  std::string out;
  out.reserve(b.size());
  for (size_t i = 0; i < b.size(); ++i) {
    char c = b[i];
    if (c != '\\' || i + 1 >= b.size()) {
      out.push_back(c);
      continue;
    }
    char n = b[++i];
    auto hex_run = [&](size_t count, uint32_t* cp) {
      uint32_t v = 0;
      for (size_t k = 1; k <= count; ++k) {
        if (i + k >= b.size()) return false;
        int h = HexValue(b[i + k]);
        if (h < 0) return false;
        v = v * 16 + static_cast<uint32_t>(h);
      }
      *cp = v;
      return true;
    };
    uint32_t cp = 0;
    switch (n) {
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'Z':
        out.push_back('\x1A');
        break;
      case '%':
        out.append("\\%");
        break;
      case '_':
        out.append("\\_");
        break;
      case 'u':
        if (hex_run(4, &cp)) {
          i += 4;
          // Combine a UTF-16 surrogate pair written as two \u escapes.
          if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < b.size() && b[i + 1] == '\\' &&
              b[i + 2] == 'u') {
            uint32_t lo = 0;
            size_t save = i;
            i += 2;
            if (hex_run(4, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
              i += 4;
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              i = save;
            }
          }
          AppendUtf8(&out, cp);
        } else {
          out.push_back('u');
        }
        break;
      case 'U':
        if (hex_run(8, &cp)) {
          i += 8;
          AppendUtf8(&out, cp);
        } else {
          out.push_back('U');
        }
        break;
      default:
        // Octal \ooo (first digit 0-3), else \0 is NUL and other chars stand for themselves.
        if (n >= '0' && n <= '3' && i + 2 < b.size() && b[i + 1] >= '0' && b[i + 1] <= '7' &&
            b[i + 2] >= '0' && b[i + 2] <= '7') {
          out.push_back(
              static_cast<char>((n - '0') * 64 + (b[i + 1] - '0') * 8 + (b[i + 2] - '0')));
          i += 2;
        } else if (n == '0') {
          out.push_back('\0');
        } else {
          out.push_back(n);
        }
        break;
    }
  }
  return out;
}

Result<std::vector<Token>> Tokenize(std::string_view sql, size_t begin, size_t end,
                                    Location start) {
  if (end > sql.size()) end = sql.size();
  if (begin > end) begin = end;
  return Lexer(sql, begin, end, start).Run();
}

}  // namespace lakestream::sql
