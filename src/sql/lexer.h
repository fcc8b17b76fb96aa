// Tokenizer for Spark SQL text. It knows Spark's lexical rules: case-insensitive
// words, `backquoted` identifiers, '...' and "..." strings with backslash
// escapes, R'raw' strings, X'hex' binary literals, numeric literals with
// L/S/Y/D/F/BD suffixes, -- and nested /* */ comments (hints /*+ */ are
// comments too). Each token keeps its line:column and byte range so the parser
// can quote the source verbatim (type names, interval bodies, SET values).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sql/ast.h"

namespace lakestream::sql {

enum class TokenType {
  kEnd,           // end of the statement
  kWord,          // unquoted identifier or keyword, text as written
  kQuotedIdent,   // `backquoted` identifier, text unescaped
  kString,        // '...' or "..." (text unescaped)
  kInteger,       // 123, 123L/S/Y (suffix in `suffix`)
  kDecimal,       // 1.5, .5, 1., 1.5BD / 1BD
  kDouble,        // 1e3, 1.5D, 1.5F (suffix D/F, or empty for exponent form)
  kBinaryString,  // X'0A0B': text holds the hex digits
  kSymbol,        // operators and punctuation: ( ) , . ; + - <=> :: -> => ...
};

struct Token {
  TokenType type = TokenType::kEnd;
  std::string text;    // see TokenType
  std::string suffix;  // numeric suffix, upper case
  Location loc;
  size_t begin = 0;  // byte range in the source
  size_t end = 0;

  /// True for an unquoted word equal to `kw` ignoring case (kw is upper case).
  bool IsWord(std::string_view kw) const;
  bool IsSymbol(std::string_view s) const { return type == TokenType::kSymbol && text == s; }
  bool IsNumber() const {
    return type == TokenType::kInteger || type == TokenType::kDecimal || type == TokenType::kDouble;
  }
};

/// Words (upper case) that never name a column without backquotes and never
/// act as an implicit alias: they start or separate clauses.
bool IsReservedWord(std::string_view upper);
/// Words (upper case) that may name a column but are not taken as an implicit
/// alias, because a clause may start with them (WINDOW, OFFSET, WATERMARK, ...).
bool IsNoImplicitAliasWord(std::string_view upper);

/// Upper-cases ASCII letters.
std::string ToUpperAscii(std::string_view s);
/// Lower-cases ASCII letters.
std::string ToLowerAscii(std::string_view s);

/// Tokenizes sql[begin, end); `start` is the location of sql[begin]. The last
/// token is always kEnd. Fails on unterminated strings, identifiers and
/// comments and on characters Spark does not accept, naming line:column.
Result<std::vector<Token>> Tokenize(std::string_view sql, size_t begin, size_t end, Location start);
inline Result<std::vector<Token>> Tokenize(std::string_view sql) {
  return Tokenize(sql, 0, sql.size(), Location{});
}

/// Spark's unescaping of a string literal body (ParserUtils.unescapeSQLString):
/// \n \t \r \b \0 \Z \uXXXX \UXXXXXXXX, octal \ooo; \% and \_ keep the backslash;
/// any other escaped character stands for itself.
std::string UnescapeSqlString(std::string_view body);

/// Advances `loc` over text (columns count UTF-8 code points).
void AdvanceLocation(Location* loc, std::string_view text);

}  // namespace lakestream::sql
