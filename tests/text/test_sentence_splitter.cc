// Sentence splitting for long inputs (src/text/sentence_splitter.h).
#include <catch2/catch.hpp>

#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "text/sentence_splitter.h"

using namespace tolk::text;

namespace tolk::text {
// Catch prints spans in failure messages (LibTorch's glog headers make it look for operator<<).
std::ostream& operator<<(std::ostream& os, const TextSpan& s) {
  return os << "[" << s.begin << ", " << s.end << ")";
}
}  // namespace tolk::text

namespace {

using Strings = std::vector<std::string>;

std::string span_text(std::string_view text, TextSpan span) {
  return std::string(text.substr(span.begin, span.end - span.begin));
}

// Splits `text` and checks the invariants every split must keep: spans are non-empty and in
// order, the gaps between them are whitespace only, and joining the originals gives the text.
Strings sentences(std::string_view text, std::string_view language,
                  SentenceSplitMode mode = SentenceSplitMode::kPunctuation) {
  const std::vector<TextSpan> spans = split_sentences(text, language, mode);
  Strings out;
  size_t cursor = 0;
  for (const TextSpan& span : spans) {
    CHECK(span.begin < span.end);
    CHECK(span.begin >= cursor);
    const std::string_view gap = text.substr(cursor, span.begin - cursor);
    CHECK(split_sentences(gap, language, SentenceSplitMode::kOff).empty());
    out.push_back(span_text(text, span));
    cursor = span.end;
  }
  CHECK(split_sentences(text.substr(cursor), language, SentenceSplitMode::kOff).empty());
  CHECK(join_sentences(text, spans, out) == text);
  return out;
}

size_t count_words(std::string_view s) {
  size_t words = 0;
  bool in_word = false;
  for (char ch : s) {
    const bool space = ch == ' ' || ch == '\t' || ch == '\n';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

size_t count_bytes(std::string_view s) { return s.size(); }

bool is_continuation_byte(std::string_view text, size_t pos) {
  return pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80;
}

// Checks split_to_fit's contract for `pieces` of `sentence`: each fits, none starts or ends
// inside a UTF-8 sequence, gaps are whitespace, and pieces plus gaps give back the sentence.
void check_pieces(std::string_view text, TextSpan sentence, const std::vector<TextSpan>& pieces,
                  size_t max_tokens, size_t (*count)(std::string_view)) {
  REQUIRE_FALSE(pieces.empty());
  std::string rebuilt;
  size_t cursor = pieces.front().begin;
  for (const TextSpan& piece : pieces) {
    const std::string_view gap = text.substr(cursor, piece.begin - cursor);
    CHECK(split_sentences(gap, "", SentenceSplitMode::kOff).empty());
    CHECK(piece.begin < piece.end);
    CHECK(count(text.substr(piece.begin, piece.end - piece.begin)) <= max_tokens);
    CHECK_FALSE(is_continuation_byte(text, piece.begin));
    CHECK_FALSE(is_continuation_byte(text, piece.end));
    rebuilt += gap;
    rebuilt += span_text(text, piece);
    cursor = piece.end;
  }
  CHECK(rebuilt == span_text(text, sentence));
}

}  // namespace

TEST_CASE("sentence_splitter: basic English sentences", "[text]") {
  CHECK(sentences("Hello world. How are you? I'm fine!", "eng_Latn") ==
        Strings{"Hello world.", "How are you?", "I'm fine!"});
  CHECK(sentences("Wait?! Really... Yes.", "eng_Latn") ==
        Strings{"Wait?!", "Really...", "Yes."});
  CHECK(sentences("One sentence without a final stop", "eng_Latn") ==
        Strings{"One sentence without a final stop"});
}

TEST_CASE("sentence_splitter: English abbreviations", "[text]") {
  CHECK(sentences("Mr. Smith met Dr. Jones at 5 p.m. on Jan. 3. They talked.", "eng_Latn") ==
        Strings{"Mr. Smith met Dr. Jones at 5 p.m. on Jan. 3.", "They talked."});
  CHECK(sentences("Apples, pears, etc. are fruit. E.g. this one. See Fig. 2 and No. 5 for "
                  "details. I said No. Then I left.",
                  "eng_Latn") == Strings{"Apples, pears, etc. are fruit.", "E.g. this one.",
                                         "See Fig. 2 and No. 5 for details.", "I said No.",
                                         "Then I left."});
  CHECK(sentences("It weighs approx. 5 kg. Acme Inc. Sales rose. So did I. Then we met.",
                  "eng_Latn") == Strings{"It weighs approx. 5 kg.", "Acme Inc. Sales rose.",
                                         "So did I.", "Then we met."});
  // A number opening a sentence is a list marker, not a sentence.
  CHECK(sentences("1. Open the box. 2. Take it out.", "eng_Latn") ==
        Strings{"1. Open the box.", "2. Take it out."});
}

TEST_CASE("sentence_splitter: initials and dotted acronyms", "[text]") {
  CHECK(sentences("J. R. R. Tolkien wrote it. C. S. Lewis read it.", "eng_Latn") ==
        Strings{"J. R. R. Tolkien wrote it.", "C. S. Lewis read it."});
  CHECK(sentences("He moved to the U.S. Army base. It was big.", "eng_Latn") ==
        Strings{"He moved to the U.S. Army base.", "It was big."});
  // Unknown languages keep the generic rules: initials, acronyms, universal abbreviations.
  CHECK(sentences("A. B. Cuomo ist hier. Dr. Rossi anche.", "ita_Latn") ==
        Strings{"A. B. Cuomo ist hier.", "Dr. Rossi anche."});
}

TEST_CASE("sentence_splitter: decimals, URLs and file names do not split", "[text]") {
  CHECK(sentences("Pi is 3.14 and e is 2.71. Visit www.example.com. Read file.txt now. "
                  "Version v1.2.3 is out. Mail a.b@example.org today.",
                  "eng_Latn") ==
        Strings{"Pi is 3.14 and e is 2.71.", "Visit www.example.com.", "Read file.txt now.",
                "Version v1.2.3 is out.", "Mail a.b@example.org today."});
  CHECK(sentences("Das kostet 1,5 Mio. Euro. Gut.", "deu_Latn") ==
        Strings{"Das kostet 1,5 Mio. Euro.", "Gut."});
  CHECK(sentences("这是3.14。", "zho_Hans") == Strings{"这是3.14。"});
}

TEST_CASE("sentence_splitter: closing quotes and brackets stay with the sentence", "[text]") {
  CHECK(sentences("He said \"Stop.\" Then he left.", "eng_Latn") ==
        Strings{"He said \"Stop.\"", "Then he left."});
  CHECK(sentences("\"Really?!\" she asked. (See above.) Next one.", "eng_Latn") ==
        Strings{"\"Really?!\" she asked.", "(See above.)", "Next one."});
  CHECK(sentences("“It works.” ‘Fine.’ Done.", "eng_Latn") ==
        Strings{"“It works.”", "‘Fine.’", "Done."});
  CHECK(sentences("Er rief: »Halt!« Dann ging er.", "deu_Latn") ==
        Strings{"Er rief: »Halt!«", "Dann ging er."});
}

TEST_CASE("sentence_splitter: ellipsis and lowercase continuation", "[text]") {
  CHECK(sentences("I was thinking... maybe not. Well… Then we left.", "eng_Latn") ==
        Strings{"I was thinking... maybe not.", "Well…", "Then we left."});
  CHECK(sentences("Wait! and then? nothing.", "eng_Latn") ==
        Strings{"Wait! and then? nothing."});
}

TEST_CASE("sentence_splitter: French abbreviations and spacing", "[text]") {
  CHECK(sentences("Bonjour ! Comment allez-vous ? M. Dupont est là. Il aime les villes, "
                  "p. ex. Paris et Lyon. Il a dit « Oui ! » Puis il est parti.",
                  "fra_Latn") ==
        Strings{"Bonjour !", "Comment allez-vous ?", "M. Dupont est là.",
                "Il aime les villes, p. ex. Paris et Lyon.", "Il a dit « Oui ! »",
                "Puis il est parti."});
  // Narrow and ordinary no-break spaces before ! and ?.
  CHECK(sentences("Bonjour\u202F! Ça va\u00A0? Oui.", "fra_Latn") ==
        Strings{"Bonjour\u202F!", "Ça va\u00A0?", "Oui."});
  CHECK(sentences("Mme. Roux vit env. 10 ans ici. César est mort en 44 av. J.-C. à Rome.",
                  "fra_Latn") ==
        Strings{"Mme. Roux vit env. 10 ans ici.", "César est mort en 44 av. J.-C. à Rome."});
  CHECK(sentences("Bonjour !", "fra_Latn") == Strings{"Bonjour !"});
}

TEST_CASE("sentence_splitter: German abbreviations and ordinals", "[text]") {
  CHECK(sentences("Es gibt z. B. Äpfel und Birnen. Er kam am 3. Oktober an. Wir sahen Nr. 7 "
                  "und vgl. Abschnitt 2. Siehe Art. 5 GG. Das war im Jahr 2020. Dann kam 2021.",
                  "deu_Latn") ==
        Strings{"Es gibt z. B. Äpfel und Birnen.", "Er kam am 3. Oktober an.",
                "Wir sahen Nr. 7 und vgl. Abschnitt 2.", "Siehe Art. 5 GG.",
                "Das war im Jahr 2020.", "Dann kam 2021."});
  CHECK(sentences("Das heißt d. h. Ärger. Es ist z.B. Obst. Fertig.", "deu_Latn") ==
        Strings{"Das heißt d. h. Ärger.", "Es ist z.B. Obst.", "Fertig."});
  // Without the German rules, "3. Oktober" is a sentence end.
  CHECK(sentences("Am 3. Oktober.", "eng_Latn").size() == 2);
}

TEST_CASE("sentence_splitter: Spanish abbreviations and inverted marks", "[text]") {
  CHECK(sentences("¿Qué hora es? ¡Son las tres! La Sra. García y el Dr. López llegaron. "
                  "Visitó ciudades, p. ej. Madrid y Sevilla. Cuesta aprox. 5 euros. "
                  "Vive en EE.UU. Desde 2010.",
                  "spa_Latn") ==
        Strings{"¿Qué hora es?", "¡Son las tres!", "La Sra. García y el Dr. López llegaron.",
                "Visitó ciudades, p. ej. Madrid y Sevilla.", "Cuesta aprox. 5 euros.",
                "Vive en EE.UU. Desde 2010."});
}

TEST_CASE("sentence_splitter: CJK terminators need no whitespace", "[text]") {
  const std::string zh = "你好。今天天气很好！你呢？";
  CHECK(sentences(zh, "zho_Hans") == Strings{"你好。", "今天天气很好！", "你呢？"});
  const std::string ja = "「こんにちは。」と彼は言った。元気？";
  CHECK(sentences(ja, "jpn_Jpan") == Strings{"「こんにちは。」", "と彼は言った。", "元気？"});
  // Touching spans get the separator when joined, for targets that put spaces between sentences.
  const std::vector<TextSpan> spans = split_sentences(zh, "zho_Hans",
                                                      SentenceSplitMode::kPunctuation);
  CHECK(join_sentences(zh, spans, {"Hello.", "Nice day!", "You?"}, " ") ==
        "Hello. Nice day! You?");
  CHECK(join_sentences(zh, spans, {"A", "B", "C"}) == "ABC");
}

TEST_CASE("sentence_splitter: Devanagari danda and Arabic question mark", "[text]") {
  CHECK(sentences("मैं घर जा रहा हूँ। तुम कहाँ हो? यह अच्छा है॥", "hin_Deva") ==
        Strings{"मैं घर जा रहा हूँ।", "तुम कहाँ हो?", "यह अच्छा है॥"});
  CHECK(sentences("एक।दो", "hin_Deva") == Strings{"एक।", "दो"});
  CHECK(sentences("كيف حالك؟أنا بخير. شكرا", "arb_Arab") ==
        Strings{"كيف حالك؟", "أنا بخير.", "شكرا"});
}

TEST_CASE("sentence_splitter: line breaks end sentences", "[text]") {
  CHECK(sentences("Title\n\nFirst paragraph. Second sentence.\nNext line\n", "eng_Latn") ==
        Strings{"Title", "First paragraph.", "Second sentence.", "Next line"});
  CHECK(sentences("Save\r\ncancel\r\n\r\nquit", "eng_Latn") ==
        Strings{"Save", "cancel", "quit"});
  // Even an abbreviation or a lowercase start cannot hold a sentence across a line break.
  CHECK(sentences("Dr.\nsmith", "eng_Latn") == Strings{"Dr.", "smith"});
  CHECK(sentences("one\u2029two", "eng_Latn") == Strings{"one", "two"});
}

TEST_CASE("sentence_splitter: whitespace is kept by join_sentences", "[text]") {
  const std::string text = "  \tHello there.  General Kenobi!\n\n";
  const std::vector<TextSpan> spans = split_sentences(text, "eng_Latn",
                                                      SentenceSplitMode::kPunctuation);
  REQUIRE(spans.size() == 2);
  CHECK(join_sentences(text, spans, {"A", "B"}) == "  \tA  B\n\n");
  CHECK(join_sentences(text, spans, {"A", "B"}, " ") == "  \tA  B\n\n");  // they do not touch
  // Unicode spaces: NBSP and ideographic space count as whitespace.
  CHECK(sentences("\u00A0Hi.\u00A0There.\u3000Next.\u3000", "eng_Latn") ==
        Strings{"Hi.", "There.", "Next."});
  CHECK_THROWS_AS(join_sentences(text, spans, {"only one"}), std::invalid_argument);
  CHECK_THROWS_AS(join_sentences(text, {{5, 9}, {1, 3}}, {"a", "b"}), std::invalid_argument);
}

TEST_CASE("sentence_splitter: kOff, empty and whitespace-only input", "[text]") {
  CHECK(sentences("  Hello. World.  ", "eng_Latn", SentenceSplitMode::kOff) ==
        Strings{"Hello. World."});
  CHECK(split_sentences("", "eng_Latn", SentenceSplitMode::kOff).empty());
  CHECK(split_sentences("", "eng_Latn", SentenceSplitMode::kPunctuation).empty());
  CHECK(split_sentences(" \n\t\u3000", "eng_Latn", SentenceSplitMode::kOff).empty());
  CHECK(split_sentences(" \n\t\u00A0", "eng_Latn", SentenceSplitMode::kPunctuation).empty());
  CHECK(join_sentences(" \n ", {}, {}) == " \n ");
  CHECK(sentences(".", "eng_Latn") == Strings{"."});
  CHECK(sentences("x", "", SentenceSplitMode::kPunctuation) == Strings{"x"});
}

TEST_CASE("sentence_splitter: malformed UTF-8 is walked byte by byte", "[text]") {
  const std::string bad = "\xFF\xFE. Abc \xE2\x82. D\xC3";
  const Strings out = sentences(bad, "eng_Latn");
  CHECK(out.size() == 3);
}

TEST_CASE("sentence_splitter: split_to_fit by words prefers clause marks", "[text]") {
  std::string text = "  ";
  for (int clause = 0; clause < 15; ++clause) {
    for (int word = 0; word < 7; ++word) text += "word" + std::to_string(clause) + " ";
    text.back() = ',';
    text += ' ';
  }
  text += "end.  ";
  const TextSpan sentence{0, text.size()};
  const std::vector<TextSpan> pieces = split_to_fit(text, sentence, 10, count_words);
  const TextSpan trimmed = split_sentences(text, "", SentenceSplitMode::kOff).at(0);
  check_pieces(text, trimmed, pieces, 10, count_words);
  CHECK(pieces.size() == 15);
  // With a clause every 7 words and room for 10, each cut falls after a comma.
  for (size_t i = 0; i + 1 < pieces.size(); ++i) CHECK(text[pieces[i].end - 1] == ',');
  // The pieces are translated one by one and joined with the original whitespace.
  std::vector<std::string> originals;
  for (const TextSpan& piece : pieces) originals.push_back(span_text(text, piece));
  CHECK(join_sentences(text, pieces, originals) == text);
  // A sentence that already fits comes back whole, without its outer whitespace.
  CHECK(split_to_fit(text, sentence, 1000, count_words) == std::vector<TextSpan>{trimmed});
}

TEST_CASE("sentence_splitter: split_to_fit falls back to whitespace, then characters",
          "[text]") {
  // One early comma must not produce a tiny piece: whitespace gives a much longer one.
  const std::string text = "a, bb cc dd ee ff gg hh ii jj kk ll mm nn oo pp qq rr ss tt";
  const TextSpan sentence{0, text.size()};
  const std::vector<TextSpan> pieces = split_to_fit(text, sentence, 20, count_bytes);
  check_pieces(text, sentence, pieces, 20, count_bytes);
  CHECK(pieces.front().end > 2);
  // A word longer than the limit is cut inside.
  const std::string word = "abcdefghijklmnopqrstuvwxyz";
  const std::vector<TextSpan> cut = split_to_fit(word, {0, word.size()}, 10, count_bytes);
  check_pieces(word, {0, word.size()}, cut, 10, count_bytes);
  CHECK(cut.size() == 3);
}

TEST_CASE("sentence_splitter: split_to_fit never cuts inside a UTF-8 sequence", "[text]") {
  std::string text;
  for (int i = 0; i < 20; ++i) text += "日本語のテキスト";
  const TextSpan sentence{0, text.size()};
  const std::vector<TextSpan> pieces = split_to_fit(text, sentence, 10, count_bytes);
  check_pieces(text, sentence, pieces, 10, count_bytes);
  // 160 characters of 3 bytes: 53 pieces of 3 characters, then the last one.
  REQUIRE(pieces.size() == 54);
  for (size_t i = 0; i + 1 < pieces.size(); ++i) CHECK(pieces[i].end - pieces[i].begin == 9);
  // Full-width clause marks need no space after them.
  const std::string clauses = "今日は晴れ、明日は雨、明後日は雪";
  const std::vector<TextSpan> parts = split_to_fit(clauses, {0, clauses.size()}, 20,
                                                   count_bytes);
  check_pieces(clauses, {0, clauses.size()}, parts, 20, count_bytes);
  CHECK(span_text(clauses, parts.at(0)) == "今日は晴れ、");
  // Four-byte emoji and two-byte letters with a 5-byte budget.
  const std::string mixed = "🙂é🙂éé🙂 ü🙂";
  const std::vector<TextSpan> small = split_to_fit(mixed, {0, mixed.size()}, 5, count_bytes);
  check_pieces(mixed, {0, mixed.size()}, small, 5, count_bytes);
}

TEST_CASE("sentence_splitter: split_to_fit reports the impossible case", "[text]") {
  const std::string text = "🙂🙂";
  CHECK(split_to_fit(text, {0, text.size()}, 3, count_bytes).empty());
  CHECK(split_to_fit("abc", {0, 3}, 0, count_bytes).empty());
  CHECK(split_to_fit("abc", {0, 3}, 1, count_bytes).size() == 3);
  CHECK_THROWS_AS(split_to_fit("abc", {2, 7}, 1, count_bytes), std::invalid_argument);
}
