// Unified diffs (runtime/unified_diff.h): checked against GNU diff -u on the same files where
// it is installed (diffutils), and on fixed cases: hunks, context merging, no final newline,
// additions and deletions of whole files, binary contents.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>

#include "runtime/unified_diff.h"
#include "tests/support/temp_dir.h"

using gossamer::runtime::unified_diff;

TEST_CASE("unified diff: fixed cases") {
    CHECK(unified_diff("a\n", "a\n", "a/x", "b/x").empty());
    CHECK(unified_diff("a\nb\nc\n", "a\nB\nc\n", "a/x", "b/x") ==
          "--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
    CHECK(unified_diff("", "new\n", "/dev/null", "b/n") ==
          "--- /dev/null\n+++ b/n\n@@ -0,0 +1 @@\n+new\n");
    CHECK(unified_diff("old\n", "", "a/o", "/dev/null") ==
          "--- a/o\n+++ /dev/null\n@@ -1 +0,0 @@\n-old\n");
    CHECK(unified_diff("x", "y", "a/z", "b/z") ==
          "--- a/z\n+++ b/z\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+y\n\\ No newline at "
          "end of file\n");
    CHECK(unified_diff(std::string("a\0b", 3), "ab", "a/bin", "b/bin") ==
          "Binary files a/bin and b/bin differ\n");
}

TEST_CASE("unified diff: matches GNU diff -u on random edits") {
    if (std::system("diff --version > /dev/null 2>&1") != 0) {
        MESSAGE("diffutils not installed: skipped");
        return;
    }
    gossamer::test::TempDir dir("udiff");
    std::mt19937 random(7);
    for (int round = 0; round < 60; ++round) {
        std::string a, b;
        const int lines = 1 + static_cast<int>(random() % 60);
        for (int i = 0; i < lines; ++i) {
            const std::string line = "line " + std::to_string(random() % 12) + "\n";
            a += line;
            switch (random() % 6) {
                case 0:
                    break;  // dropped
                case 1:
                    b += "changed " + std::to_string(i) + "\n";
                    break;  // replaced
                case 2:
                    b += line + "inserted\n";
                    break;
                default:
                    b += line;
            }
        }
        std::ofstream(dir.path / "a", std::ios::binary) << a;
        std::ofstream(dir.path / "b", std::ios::binary) << b;
        const std::string cmd = "cd '" + dir.path.string() +
                                "' && diff -u --label a/f --label b/f a b > out; test $? -le 1";
        REQUIRE(std::system(cmd.c_str()) == 0);
        std::ifstream in(dir.path / "out", std::ios::binary);
        const std::string expected((std::istreambuf_iterator<char>(in)), {});
        const std::string got = unified_diff(a, b, "a/f", "b/f");
        // Both are minimal edit scripts; where several exist they may pick differently, so
        // compare what they change: applying each must give b (checked by patch when present).
        CAPTURE(a);
        CAPTURE(b);
        if (got != expected) {
            std::ofstream(dir.path / "mine.diff", std::ios::binary) << got;
            const std::string apply =
                "cd '" + dir.path.string() + "' && cp a c && patch -s c mine.diff && cmp -s c b";
            CHECK_MESSAGE(std::system(apply.c_str()) == 0, got);
        }
    }
}
