// Tokenizer: token kinds, numeric suffixes, quoting, comments and line:column.
#include "sql/lexer.h"

#include <gtest/gtest.h>

namespace lakestream::sql {
namespace {

std::vector<Token> Lex(const std::string& sql) {
  auto r = Tokenize(sql);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<Token>{};
}

TEST(Lexer, KindsAndText) {
  auto t = Lex("SELECT `a``b`, 'x', 12L, 1.5, 1e3, X'AB', <=>, ::, -> a.b");
  ASSERT_EQ(t.size(), 22u);
  EXPECT_EQ(t[0].type, TokenType::kWord);
  EXPECT_TRUE(t[0].IsWord("SELECT"));
  EXPECT_EQ(t[1].type, TokenType::kQuotedIdent);
  EXPECT_EQ(t[1].text, "a`b");
  EXPECT_EQ(t[3].type, TokenType::kString);
  EXPECT_EQ(t[5].type, TokenType::kInteger);
  EXPECT_EQ(t[5].text, "12");
  EXPECT_EQ(t[5].suffix, "L");
  EXPECT_EQ(t[7].type, TokenType::kDecimal);
  EXPECT_EQ(t[9].type, TokenType::kDouble);
  EXPECT_EQ(t[11].type, TokenType::kBinaryString);
  EXPECT_EQ(t[11].text, "AB");
  EXPECT_TRUE(t[13].IsSymbol("<=>"));
  EXPECT_TRUE(t[15].IsSymbol("::"));
  EXPECT_TRUE(t[17].IsSymbol("->"));
  EXPECT_TRUE(t[19].IsSymbol("."));
  EXPECT_EQ(t.back().type, TokenType::kEnd);
}

TEST(Lexer, NumbersVersusIdentifiers) {
  auto t = Lex("1d 2bd 3y 4s 5f 1abc 7e 1.5e-3d .5 1.");
  EXPECT_EQ(t[0].type, TokenType::kDouble);
  EXPECT_EQ(t[0].suffix, "D");
  EXPECT_EQ(t[1].type, TokenType::kDecimal);
  EXPECT_EQ(t[1].suffix, "BD");
  EXPECT_EQ(t[2].suffix, "Y");
  EXPECT_EQ(t[3].suffix, "S");
  EXPECT_EQ(t[4].suffix, "F");
  EXPECT_EQ(t[5].type, TokenType::kWord);  // identifiers may start with digits
  EXPECT_EQ(t[5].text, "1abc");
  EXPECT_EQ(t[6].type, TokenType::kWord);
  EXPECT_EQ(t[7].type, TokenType::kDouble);
  EXPECT_EQ(t[7].text, "1.5e-3");
  EXPECT_EQ(t[8].type, TokenType::kDecimal);
  EXPECT_EQ(t[9].type, TokenType::kDecimal);
}

TEST(Lexer, LineAndColumn) {
  auto t = Lex("SELECT\n  a, -- c\n /* x\n y */ 'é' b");
  ASSERT_GE(t.size(), 5u);
  EXPECT_EQ(t[1].loc.line, 2);
  EXPECT_EQ(t[1].loc.column, 3);
  EXPECT_EQ(t[3].loc.line, 4);
  EXPECT_EQ(t[3].loc.column, 7);
  EXPECT_EQ(t[4].loc.column, 11);  // 'é' is 3 characters, not 4 bytes
}

TEST(Lexer, CommentsNestAndHintsAreSkipped) {
  auto t = Lex("a /* x /* y */ z */ b /*+ REPARTITION(3) */ c -- tail");
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[1].text, "b");
  EXPECT_EQ(t[2].text, "c");
}

TEST(Lexer, Errors) {
  auto err = [](const std::string& sql) {
    auto r = Tokenize(sql);
    return r.ok() ? std::string("OK") : r.status().message();
  };
  EXPECT_NE(err("'open").find("unterminated string literal"), std::string::npos);
  EXPECT_NE(err("\n  \"open").find("line 2:3"), std::string::npos);
  EXPECT_NE(err("/* /* */").find("unterminated comment"), std::string::npos);
  EXPECT_NE(err("`x").find("unterminated quoted identifier"), std::string::npos);
  EXPECT_NE(err("a $ b").find("unexpected character"), std::string::npos);
  EXPECT_EQ(err("'\\''"), "OK");  // escaped quote does not end the string
}

TEST(Lexer, UnescapeSqlString) {
  EXPECT_EQ(UnescapeSqlString("a\\nb\\tc"), "a\nb\tc");
  EXPECT_EQ(UnescapeSqlString("\\uD83D\\uDE00"), "\xF0\x9F\x98\x80");  // surrogate pair
  EXPECT_EQ(UnescapeSqlString("\\U0001F600"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(UnescapeSqlString("\\Z"), "\x1A");
  EXPECT_EQ(UnescapeSqlString("\\0"), std::string(1, '\0'));
  EXPECT_EQ(UnescapeSqlString("\\u12"), "u12");  // too short: the letter stands for itself
  EXPECT_EQ(UnescapeSqlString("trailing\\"), "trailing\\");
}

}  // namespace
}  // namespace lakestream::sql
