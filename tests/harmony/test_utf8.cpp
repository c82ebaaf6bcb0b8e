// UTF-8 helpers and the streaming decoder (harmony.md 4.7 item 5 vectors at the byte level).
#include <doctest/doctest.h>

#include <string>

#include "harmony/tokenizer.h"
#include "harmony/utf8.h"

namespace utf8 = gossamer::harmony::utf8;

TEST_CASE("utf8: validation rejects overlongs, surrogates and out-of-range values") {
    CHECK(utf8::is_valid("plain ascii"));
    CHECK(utf8::is_valid("\xE6\x97\xA5\xF0\x9F\x92\x96"));
    CHECK_FALSE(utf8::is_valid("\xC0\xAF"));          // overlong '/'
    CHECK_FALSE(utf8::is_valid("\xED\xA0\x80"));      // surrogate U+D800
    CHECK_FALSE(utf8::is_valid("\xF4\x90\x80\x80"));  // above U+10FFFF
    CHECK_FALSE(utf8::is_valid("\xE6\x97"));          // truncated
    CHECK(utf8::valid_prefix("ab\xFF"
                             "cd") == 2);
}

TEST_CASE("utf8: lossy conversion replaces each maximal invalid subpart once") {
    CHECK(utf8::to_valid_lossy("a\xFF"
                               "b") ==
          "a\xEF\xBF\xBD"
          "b");
    CHECK(utf8::to_valid_lossy("\xF0\x9F\x92") == "\xEF\xBF\xBD");  // one truncated char
    CHECK(utf8::to_valid_lossy("\xF0\x9F"
                               " ") == "\xEF\xBF\xBD ");
    CHECK(utf8::to_valid_lossy("\xE0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD");  // bad second byte
}

TEST_CASE("utf8: stream decoder holds back split characters") {
    const auto& tok = gossamer::harmony::Tokenizer::o200k_harmony();
    utf8::StreamDecoder d;
    // "💖" = tokens 31446, 244: nothing after the first, the whole character after the second.
    CHECK(d.push(tok.token_bytes(31446)).empty());
    CHECK(d.has_pending());
    CHECK(d.push(tok.token_bytes(244)) == "\xF0\x9F\x92\x96");
    CHECK_FALSE(d.has_pending());
    // 9552 = " \xF0\x9F": two of them then "worked" -> " \uFFFD \uFFFDworked".
    std::string out = d.push(tok.token_bytes(9552));
    out += d.push(tok.token_bytes(9552));
    out += d.push("worked");
    out += d.flush();
    CHECK(out == " \xEF\xBF\xBD \xEF\xBF\xBDworked");
    // End of stream inside a character: U+FFFD, and nothing leaks into the next use.
    CHECK(d.push(tok.token_bytes(9552)) == " ");
    CHECK(d.flush() == "\xEF\xBF\xBD");
    CHECK(d.push("Hi") == "Hi");
}
