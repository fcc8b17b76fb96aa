// Parser for Spark DDL type and schema strings ("a INT, b STRUCT<x: STRING>",
// "MAP<STRING, ARRAY<DECIMAL(10,2)>>"), following the dataType / colType rules
// of Spark's SqlBaseParser.g4: case-insensitive keywords, Spark's aliases,
// backquoted names, NOT NULL and COMMENT on fields. A hand-written recursive
// descent parser over a small tokenizer; errors name the character offset.
#include <arrow/type.h>
#include <arrow/util/key_value_metadata.h>

#include <cstdint>
#include <string>
#include <vector>

#include "types/ddl_internal.h"
#include "types/types.h"

namespace lakestream::types {

namespace {

// Deep enough for any real schema, shallow enough that hostile input cannot
// overflow the stack.
constexpr int kMaxDepth = 256;

enum class TokenKind { kWord, kQuotedName, kString, kPunct, kEnd };

struct Token {
  TokenKind kind;
  std::string text;  // words as written; names and strings unescaped
  size_t pos;
};

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

char ToUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToUpper(a[i]) != ToUpper(b[i])) return false;
  }
  return true;
}

class DDLParser {
 public:
  explicit DDLParser(std::string_view text) : text_(text) {}

  Status Tokenize() {
    size_t i = 0;
    while (i < text_.size()) {
      char c = text_[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i;
      } else if (IsWordChar(c)) {
        size_t start = i;
        while (i < text_.size() && IsWordChar(text_[i])) ++i;
        tokens_.push_back({TokenKind::kWord, std::string(text_.substr(start, i - start)), start});
      } else if (c == '`') {
        size_t start = i++;
        std::string name;
        while (true) {
          if (i >= text_.size()) return Error(start, "unterminated quoted name starting with '`'");
          if (text_[i] == '`') {
            if (i + 1 < text_.size() && text_[i + 1] == '`') {
              name += '`';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          name += text_[i++];
        }
        tokens_.push_back({TokenKind::kQuotedName, std::move(name), start});
      } else if (c == '\'' || c == '"') {
        size_t start = i++;
        std::string s;
        while (true) {
          if (i >= text_.size()) return Error(start, "unterminated string literal");
          char d = text_[i];
          if (d == c) {
            ++i;
            break;
          }
          if (d == '\\' && i + 1 < text_.size()) {
            char e = text_[i + 1];
            i += 2;
            switch (e) {
              case 'n':
                s += '\n';
                break;
              case 't':
                s += '\t';
                break;
              case 'r':
                s += '\r';
                break;
              case '0':
                s += '\0';
                break;
              default:
                s += e;  // \\, \', \" and unknown escapes keep the character
            }
            continue;
          }
          s += d;
          ++i;
        }
        tokens_.push_back({TokenKind::kString, std::move(s), start});
      } else if (c == '<' || c == '>' || c == '(' || c == ')' || c == ',' || c == ':') {
        tokens_.push_back({TokenKind::kPunct, std::string(1, c), i});
        ++i;
      } else {
        if (static_cast<unsigned char>(c) >= 0x80) {
          return Error(i, "unexpected non-ASCII byte 0x{:02X}; quote such names with backquotes",
                       static_cast<unsigned>(static_cast<unsigned char>(c)));
        }
        return Error(i, "unexpected character '{}'", std::string(1, c));
      }
    }
    tokens_.push_back({TokenKind::kEnd, "", text_.size()});
    return Status::OK();
  }

  Result<TypePtr> ParseWholeType() {
    LS_ASSIGN_OR_RAISE(auto type, ParseType(0));
    if (Peek().kind != TokenKind::kEnd) return Expected("end of input");
    return type;
  }

  Result<SchemaPtr> ParseWholeSchema() {
    std::vector<std::shared_ptr<arrow::Field>> fields;
    if (Peek().kind == TokenKind::kEnd) return arrow::schema({});
    // "STRUCT<...>" wrapping the whole list (Spark's DataType.fromDDL fallback).
    if (IsKeyword(Peek(), "STRUCT") && IsPunct(Peek(1), '<')) {
      LS_ASSIGN_OR_RAISE(auto type, ParseWholeType());
      return arrow::schema(type->fields());
    }
    while (true) {
      LS_ASSIGN_OR_RAISE(auto f, ParseField(0));
      fields.push_back(std::move(f));
      if (Peek().kind == TokenKind::kEnd) break;
      if (!IsPunct(Peek(), ',')) return Expected("',' or end of input");
      Next();
    }
    return arrow::schema(std::move(fields));
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    size_t i = std::min(cur_ + ahead, tokens_.size() - 1);
    return tokens_[i];
  }
  const Token& Next() {
    const Token& t = tokens_[cur_];
    if (cur_ + 1 < tokens_.size()) ++cur_;
    return t;
  }
  static bool IsKeyword(const Token& t, std::string_view kw) {
    return t.kind == TokenKind::kWord && EqualsIgnoreCase(t.text, kw);
  }
  static bool IsPunct(const Token& t, char c) {
    return t.kind == TokenKind::kPunct && t.text[0] == c;
  }

  template <typename... Args>
  Status Error(size_t pos, fmt::format_string<Args...> f, Args&&... args) const {
    return UserError("invalid DDL at position {}: {} (in \"{}\")", pos,
                     fmt::format(f, std::forward<Args>(args)...), text_);
  }

  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case TokenKind::kEnd:
        return "end of input";
      case TokenKind::kQuotedName:
        return "'" + internal::QuoteIfNeeded(t.text) + "'";
      case TokenKind::kString:
        return internal::QuoteStringLiteral(t.text);
      default:
        return "'" + t.text + "'";
    }
  }

  Status Expected(std::string_view what) const {
    return Error(Peek().pos, "expected {} but found {}", what, Describe(Peek()));
  }

  Status ExpectPunct(char c) {
    if (!IsPunct(Peek(), c)) return Expected(fmt::format("'{}'", c));
    Next();
    return Status::OK();
  }

  Result<int32_t> ParseInt(std::string_view what) {
    const Token& t = Peek();
    if (t.kind != TokenKind::kWord || t.text.empty() || t.text.size() > 9) return Expected(what);
    int32_t v = 0;
    for (char c : t.text) {
      if (c < '0' || c > '9') return Expected(what);
      v = v * 10 + (c - '0');
    }
    Next();
    return v;
  }

  Result<std::string> ParseName() {
    const Token& t = Peek();
    if (t.kind != TokenKind::kWord && t.kind != TokenKind::kQuotedName) {
      return Expected("a field name");
    }
    return Next().text;
  }

  // name [:] type [NOT NULL] [COMMENT 'text'], in any order after the type.
  Result<std::shared_ptr<arrow::Field>> ParseField(int depth) {
    LS_ASSIGN_OR_RAISE(std::string name, ParseName());
    if (IsPunct(Peek(), ':')) Next();
    LS_ASSIGN_OR_RAISE(auto type, ParseType(depth));
    bool nullable = true;
    std::shared_ptr<arrow::KeyValueMetadata> metadata;
    while (true) {
      if (IsKeyword(Peek(), "NOT")) {
        Next();
        if (!IsKeyword(Peek(), "NULL")) return Expected("NULL after NOT");
        Next();
        nullable = false;
      } else if (IsKeyword(Peek(), "COMMENT")) {
        Next();
        if (Peek().kind != TokenKind::kString) return Expected("a quoted comment string");
        std::string comment = Next().text;
        // Adjacent literals concatenate, as in Spark's stringLit+.
        while (Peek().kind == TokenKind::kString) comment += Next().text;
        metadata = arrow::key_value_metadata({"comment"}, {std::move(comment)});
      } else if (IsKeyword(Peek(), "DEFAULT") || IsKeyword(Peek(), "GENERATED")) {
        return Error(Peek().pos, "column {} values are not supported in a schema string",
                     Peek().text);
      } else {
        break;
      }
    }
    return arrow::field(std::move(name), std::move(type), nullable, std::move(metadata));
  }

  Result<TypePtr> ParseDecimal() {
    int32_t precision = 10, scale = 0;
    if (IsPunct(Peek(), '(')) {
      Next();
      size_t pos = Peek().pos;
      LS_ASSIGN_OR_RAISE(precision, ParseInt("a decimal precision"));
      if (IsPunct(Peek(), ',')) {
        Next();
        LS_ASSIGN_OR_RAISE(scale, ParseInt("a decimal scale"));
      }
      LS_RETURN_NOT_OK(ExpectPunct(')'));
      if (precision < 1 || precision > 38) {
        return Error(pos, "decimal precision {} is out of range; expected 1 to 38", precision);
      }
      if (scale > precision) {
        return Error(pos, "decimal scale {} cannot be greater than precision {}", scale, precision);
      }
    }
    return arrow::decimal128(precision, scale);
  }

  // INTERVAL [YEAR|MONTH|DAY|HOUR|MINUTE|SECOND [TO <later unit>]]
  Result<TypePtr> ParseInterval() {
    static constexpr std::string_view kUnits[] = {"YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND"};
    auto unit_of = [&](const Token& t) -> int {
      for (int i = 0; i < 6; ++i) {
        if (IsKeyword(t, kUnits[i])) return i;
      }
      return -1;
    };
    int start = unit_of(Peek());
    if (start < 0) return arrow::month_day_nano_interval();  // CalendarIntervalType
    Next();
    int end = start;
    if (IsKeyword(Peek(), "TO")) {
      Next();
      end = unit_of(Peek());
      if (end < 0) return Expected("an interval unit after TO");
      bool same_family = (start < 2) == (end < 2);
      if (end <= start || !same_family) {
        return Error(Peek().pos, "invalid interval INTERVAL {} TO {}", kUnits[start], kUnits[end]);
      }
      Next();
    }
    if (start < 2) return arrow::month_interval();
    return DayTimeInterval(static_cast<DayTimeField>(start - 2),
                           static_cast<DayTimeField>(end - 2));
  }

  Result<TypePtr> ParseType(int depth) {
    if (depth > kMaxDepth) return Error(Peek().pos, "types are nested more than {} deep", kMaxDepth);
    const Token& t = Peek();
    if (t.kind != TokenKind::kWord) return Expected("a type name");
    std::string kw;
    for (char c : t.text) kw += ToUpper(c);
    Next();
    if (kw == "BOOLEAN") return arrow::boolean();
    if (kw == "TINYINT" || kw == "BYTE") return arrow::int8();
    if (kw == "SMALLINT" || kw == "SHORT") return arrow::int16();
    if (kw == "INT" || kw == "INTEGER") return arrow::int32();
    if (kw == "BIGINT" || kw == "LONG") return arrow::int64();
    if (kw == "FLOAT" || kw == "REAL") return arrow::float32();
    if (kw == "DOUBLE") return arrow::float64();
    if (kw == "STRING") {
      if (IsKeyword(Peek(), "COLLATE")) {
        Next();
        if (Peek().kind != TokenKind::kWord) return Expected("a collation name");
        auto collation = ParseCollation(Peek().text);
        if (!collation.ok()) {
          return Status::Invalid("invalid DDL at position ", Peek().pos, ": ",
                                 collation.status().message());
        }
        Next();
        // A type written in DDL or CAST(... AS STRING COLLATE c) is explicit,
        // as Spark's user-specified cast; a column of this type is implicit
        // (expr::MakeColumn drops the mark).
        return CollatedString(*collation, /*is_explicit=*/true);
      }
      return arrow::utf8();
    }
    if (kw == "VARIANT") {
      return Unsupported("invalid DDL at position {}: the VARIANT type is not supported", t.pos);
    }
    if (kw == "BINARY") return arrow::binary();
    if (kw == "DATE") return arrow::date32();
    if (kw == "TIMESTAMP" || kw == "TIMESTAMP_LTZ") return Timestamp();
    if (kw == "TIMESTAMP_NTZ") return TimestampNtz();
    if (kw == "VOID") return arrow::null();
    if (kw == "DECIMAL" || kw == "DEC" || kw == "NUMERIC") return ParseDecimal();
    if (kw == "INTERVAL") return ParseInterval();
    if (kw == "VARCHAR" || kw == "CHAR" || kw == "CHARACTER") {
      // CHAR/VARCHAR are read as STRING, as Spark does outside table DDL.
      LS_RETURN_NOT_OK(ExpectPunct('('));
      LS_RETURN_NOT_OK(ParseInt("a length").status());
      LS_RETURN_NOT_OK(ExpectPunct(')'));
      return arrow::utf8();
    }
    if (kw == "ARRAY") {
      LS_RETURN_NOT_OK(ExpectPunct('<'));
      LS_ASSIGN_OR_RAISE(auto elem, ParseType(depth + 1));
      LS_RETURN_NOT_OK(ExpectPunct('>'));
      return arrow::list(std::move(elem));
    }
    if (kw == "MAP") {
      LS_RETURN_NOT_OK(ExpectPunct('<'));
      LS_ASSIGN_OR_RAISE(auto key, ParseType(depth + 1));
      LS_RETURN_NOT_OK(ExpectPunct(','));
      LS_ASSIGN_OR_RAISE(auto value, ParseType(depth + 1));
      LS_RETURN_NOT_OK(ExpectPunct('>'));
      return arrow::map(std::move(key), std::move(value));
    }
    if (kw == "STRUCT") {
      LS_RETURN_NOT_OK(ExpectPunct('<'));
      std::vector<std::shared_ptr<arrow::Field>> fields;
      if (!IsPunct(Peek(), '>')) {
        while (true) {
          LS_ASSIGN_OR_RAISE(auto f, ParseField(depth + 1));
          fields.push_back(std::move(f));
          if (!IsPunct(Peek(), ',')) break;
          Next();
        }
      }
      if (!IsPunct(Peek(), '>')) return Expected("',' or '>'");
      Next();
      return arrow::struct_(std::move(fields));
    }
    --cur_;  // report the unknown word itself
    return Error(t.pos, "unknown type name '{}'", t.text);
  }

  std::string_view text_;
  std::vector<Token> tokens_;
  size_t cur_ = 0;
};

}  // namespace

Result<TypePtr> ParseDDLType(std::string_view ddl) {
  DDLParser parser(ddl);
  LS_RETURN_NOT_OK(parser.Tokenize());
  return parser.ParseWholeType();
}

Result<SchemaPtr> ParseDDLSchema(std::string_view ddl) {
  DDLParser parser(ddl);
  LS_RETURN_NOT_OK(parser.Tokenize());
  return parser.ParseWholeSchema();
}

}  // namespace lakestream::types
