// Writes tests/data/tokenizer/tiktoken_cases.json: a large mixed corpus (hand-written prose in
// many scripts, source code, JSON, emoji, whitespace/digit/contraction/punctuation matrices,
// seeded random Unicode and seeded random strings of tricky characters) and, for every case,
// the ids that tiktoken@1.0.22 (OpenAI's Rust core as WASM) gives with encode_ordinary and
// with encode(text, "all") under the exact o200k_harmony special-token map.
// tests/harmony/test_tokenizer_tiktoken.cpp compares gossamer against these ids.
// Deterministic: same script + same tiktoken version = byte-identical output.
// Also writes code_point_classes.txt (how tiktoken's regex classifies every code point).
// Run: scripts/gen-tokenizer-golden.sh (installs tiktoken into a scratch dir first), or
//   TIKTOKEN_PREFIX=<dir with node_modules/tiktoken> node scripts/gen-tokenizer-golden.mjs [OUT_DIR]
// OUT_DIR defaults to tests/data/tokenizer.
import { createRequire } from "module";
import fs from "fs";
import path from "path";
import { fileURLToPath } from "url";

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = process.argv[2] ?? path.join(here, "..", "tests", "data", "tokenizer");
const prefix = process.env.TIKTOKEN_PREFIX;
if (!prefix) {
  console.error("gen-tokenizer-golden: set TIKTOKEN_PREFIX to a dir with node_modules/tiktoken " +
                "(scripts/gen-tokenizer-golden.sh does this)");
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(prefix), "index.js"));
const tiktokenVersion = JSON.parse(fs.readFileSync(
    path.join(path.resolve(prefix), "node_modules", "tiktoken", "package.json"), "utf8")).version;
if (tiktokenVersion !== "1.0.22") {
  console.error(`gen-tokenizer-golden: need tiktoken 1.0.22, found ${tiktokenVersion}`);
  process.exit(2);
}
const { Tiktoken } = require("tiktoken");
const o200k = require("tiktoken/encoders/o200k_base.json");

// o200k_harmony = o200k_base ranks + harmony's special tokens (openai/harmony
// public_encodings.rs): named ones, every other id of 199998..=201088 is <|reserved_ID|>.
// Harmony calls 200018 <|reserved_200018|>; tiktoken's <|endofprompt|> is NOT a special here.
const named = {
  199998: "<|startoftext|>", 199999: "<|endoftext|>", 200002: "<|return|>",
  200003: "<|constrain|>", 200005: "<|channel|>", 200006: "<|start|>", 200007: "<|end|>",
  200008: "<|message|>", 200012: "<|call|>",
};
const specials = {};
for (let id = 199998; id <= 201088; id++) specials[named[id] ?? `<|reserved_${id}|>`] = id;
const enc = new Tiktoken(o200k.bpe_ranks, specials, o200k.pat_str);

// ---------------------------------------------------------------------------------------
// Seeded PRNG (mulberry32): the corpus must not change between runs or machines.
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const SEED = 20250806;
const rnd = mulberry32(SEED);
const int = (n) => Math.floor(rnd() * n);          // 0..n-1
const pick = (arr) => arr[int(arr.length)];
const range = (a, b) => a + int(b - a + 1);        // a..b inclusive

const cases = [];
function add(name, text) {
  if (cases.some((c) => c.name === name)) throw new Error(`duplicate case name ${name}`);
  // Only valid scalar values: a lone surrogate would reach tiktoken as U+FFFD.
  if (Buffer.from(text, "utf8").toString("utf8") !== text) throw new Error(`lone surrogate in ${name}`);
  cases.push({ name, text });
}

// ---------------------------------------------------------------------------------------
// Hand-written prose.
const prose = {
  en: [
    `The quick brown fox jumps over the lazy dog. It's 7:45 a.m. on Tuesday, March 3rd, 2026, and the office is still quiet: only Dr. O'Brien's lamp is on. "Don't touch the thermostat," she'd written on a sticky note, "we've had enough arguments about it this year."`,
    `When the committee finally met, nobody could agree on anything. Some members wanted to postpone the vote until after the holidays; others insisted that the budget (roughly $4.2 million, or about 12% more than last year) had to be approved before December 15. In the end, they compromised — sort of.`,
    `Tokenizers split text into pieces before byte-pair merging. A word such as "unbelievably" may become several tokens, while a common word like "the" is usually a single token. Numbers are split into groups of up to three digits: 1234567 becomes 123, 456 and 7.\n\nSee also: https://example.com/docs/tokenizer?lang=en&v=2#section-3.`,
    `I'M NOT SHOUTING, I'M JUST EXCITED! WE'LL SEE WHO'S RIGHT. THEY'RE LATE AGAIN, AREN'T THEY? YOU'VE GOT TO BE KIDDING. HE'D NEVER SAY THAT.`,
    `Chapter 1\n\nIt was a bright cold day in April, and the clocks were striking thirteen... or so it seemed. She didn't know why -- perhaps she'd never know.\n\n  * First item\n  * Second item, with trailing spaces   \n  * Third item\n\n1. One\n2. Two\n10. Ten\n`,
    `Mr. and Mrs. Smith live at 221B Baker St., Apt. #4, London NW1 6XE, U.K. Their phone number is +44 20 7946 0958 and their e-mail address is smith.family@example.co.uk. They've lived there since '98.`,
    `“Smart quotes” and ‘single smart quotes’ behave differently from "straight" ones. So do the em dash—like this—and the en dash in 1990–2000. The ellipsis… is one character; the three dots ... are three. It’s, they’re, we’ve: curly apostrophes are not contractions for the regex.`,
    `Q: What's the difference between a list and a tuple?\r\nA: Lists are mutable; tuples aren't.\r\n\r\nQ: Why's that useful?\r\nA: Tuples can be dictionary keys.\r\n`,
    `The results were surprising: accuracy rose from 71.3% to 84.9% (p < 0.001, n = 1,024), while latency fell by 38 ms on average. However, variance increased by a factor of ~2.5x, which we attribute to cold caches.`,
    `Alice was beginning to get very tired of sitting by her sister on the bank, and of having nothing to do: once or twice she had peeped into the book her sister was reading, but it had no pictures or conversations in it, 'and what is the use of a book,' thought Alice 'without pictures or conversations?'`,
  ],
  ja: [
    `今日は朝から雨が降っていたので、駅まで歩くのをやめてバスに乗りました。バスの中はとても混んでいて、座ることができませんでした。会社に着いたのは九時十五分で、会議にはぎりぎり間に合いました。`,
    `東京タワーは1958年に完成し、高さは333メートルです。夜になるとオレンジ色にライトアップされ、多くの観光客が訪れます。最近はスカイツリーの方が人気ですが、私は今でも東京タワーの方が好きです。`,
    `このプログラムは、入力されたテキストをトークンに分割し、それぞれのトークンに番号を割り当てます。「こんにちは、世界！」という短い文字列でも、いくつかのトークンになります。`,
    `母は毎朝五時に起きて、家族のためにお弁当を作ってくれます。卵焼き、唐揚げ、ご飯、そして季節の野菜。私は大人になってから、その大変さがやっと分かりました。`,
    `ｶﾀｶﾅの半角文字や、ＡＢＣ１２３のような全角英数字も、日本語の文章にはよく出てきます。人々、時々、様々のような「々」や、ちょっと、きゃあ、のような小さい仮名もあります。ラーメン、コーヒー、ビール。`,
    `吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。`,
  ],
  zh: [
    `人工智能正在改变我们的生活方式。从手机上的语音助手到自动驾驶汽车，这项技术已经渗透到各个领域。然而，专家们也提醒我们，必须认真对待隐私和安全问题。`,
    `我昨天去图书馆借了三本书，其中一本是关于中国古代历史的。图书馆早上八点开门，晚上十点关门；周末人特别多，最好早点去。`,
    `今天天氣很好，我們一起去公園散步吧。臺灣的夜市非常熱鬧，有很多好吃的小吃，例如蚵仔煎、珍珠奶茶和臭豆腐。`,
    `根据2024年的统计数据，该市人口约为2,150万，比去年增长了1.8%。《人民日报》报道说：“经济形势总体稳定。”`,
  ],
  ko: [
    `안녕하세요. 저는 서울에 살고 있는 학생입니다. 주말에는 친구들과 함께 한강 공원에서 자전거를 타는 것을 좋아합니다.`,
    `오늘 날씨가 정말 좋네요! 내일은 비가 올 거라고 합니다. 우산을 꼭 챙기세요. 회의는 오후 3시 30분에 시작합니다.`,
    `한국어는 한글이라는 고유한 문자를 사용합니다. 한글은 1443년에 세종대왕이 만들었으며, 과학적인 문자 체계로 잘 알려져 있습니다.`,
  ],
  ar: [
    `مرحبا بكم في موقعنا. نحن نقدم خدمات الترجمة منذ عام ٢٠٠٥، ولدينا فريق من المترجمين المحترفين. اللغة العربية جميلة وغنية بالمفردات.`,
    `ذَهَبَ الوَلَدُ إِلَى المَدْرَسَةِ صَبَاحًا، وَقَرَأَ كِتَابًا جَدِيدًا عَنِ التَّارِيخِ.`,
    `هل تتحدث الإنجليزية؟ نعم، قليلاً. الاجتماع في الساعة 10:30 صباحًا يوم الأحد (انظر الجدول رقم 3).`,
  ],
  he: [
    `שלום עולם! היום אני לומד לתכנת בשפת C++. הספר נמצא על השולחן בחדר העבודה, ליד המחשב.`,
    `שָׁלוֹם, מָה שְׁלוֹמְךָ? הַיֶּלֶד הָלַךְ לְבֵית הַסֵּפֶר בַּבֹּקֶר.`,
  ],
  hi: [
    `नमस्ते! मेरा नाम राहुल है और मैं दिल्ली में रहता हूँ। भारत एक विशाल देश है जिसमें कई भाषाएँ बोली जाती हैं।`,
    `क्या आप हिंदी सीखना चाहते हैं? आज का तापमान ३२ डिग्री सेल्सियस है। कृपया अपना पासवर्ड किसी के साथ साझा न करें।`,
    `विद्यार्थियों ने प्रश्नपत्र ध्यान से पढ़ा और उत्तर लिखे। स्वतंत्रता दिवस १५ अगस्त को मनाया जाता है।`,
  ],
  misc: [
    `Съешь же ещё этих мягких французских булок, да выпей чаю. Москва — столица России; население — около 13 миллионов человек. ВСЕ ЗАГЛАВНЫЕ БУКВЫ.`,
    `Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο. Καλημέρα σας! ΑΘΗΝΑ, Ελλάδα; τελικό σίγμα: λόγος.`,
    `สวัสดีครับ วันนี้อากาศดีมาก ผมจะไปตลาดกับเพื่อนตอนบ่ายสองโมง แล้วจะกลับบ้านก่อนค่ำ`,
    `Tiếng Việt có nhiều dấu thanh: sắc, huyền, hỏi, ngã, nặng. Hà Nội là thủ đô của Việt Nam. Tiếng Việt (decomposed): Tie\u0302\u0301ng Vie\u0323\u0302t.`,
    `Größe, Straße, ÄÖÜ äöü — Fußgängerübergänge sind schön. İstanbul'da ılık bir gün; IŞIK ışık. L'été dernier, j'ai visité l'Île-de-France; c'était très agréable ! ¿Dónde está la estación? ¡Está allí! Zażółć gęślą jaźń. Příliš žluťoučký kůň úpěl ďábelské ódy.`,
    `ქართული ენა ძალიან ლამაზია. Հայերենը հնդեվրոպական լեզու է։ ኢትዮጵያ በአፍሪካ ቀንድ ትገኛለች። தமிழ் ஒரு பழமையான மொழி. বাংলা ভাষা খুব মিষ্টি। ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ ꮳꮃꭹ.`,
    `Mathematical: 𝐀𝐁𝐂 𝑥𝑦𝑧 𝔄𝔅 𝟘𝟙𝟚 ℝⁿ → ℝ, ∀ε>0 ∃δ>0: |x−y|<δ ⇒ |f(x)−f(y)|<ε. Deseret: 𐐀𐐨𐐪 𐐔𐐯𐑅. Adlam: 𞤀𞤢𞤣𞤤𞤢𞤥. Gothic: 𐌰𐌱𐌲. Roman numerals: Ⅻ ⅻ Ⅳ. Superscripts: x² + y³ = z⁴; fractions ½ ¾ ⅞; circled ① ② ⑳.`,
  ],
};
for (const [lang, paras] of Object.entries(prose)) {
  paras.forEach((p, i) => add(`prose/${lang}/${i}`, p));
  add(`prose/${lang}/all`, paras.join(lang === "en" ? "\n\n" : "\n"));
}

// ---------------------------------------------------------------------------------------
// Source code in several languages, and the same with CRLF line ends or tab indentation.
const code = {
  cpp: `// Computes the median of a vector; throws on empty input.
#include <algorithm>
#include <stdexcept>
#include <vector>

namespace util {

template <class T>
T median(std::vector<T> v) {
    if (v.empty()) throw std::invalid_argument("median of empty vector");
    auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    return *mid;
}

}  // namespace util

int main(int argc, char** argv) {
    std::vector<int> xs{3, 1, 4, 1, 5, 9, 2, 6};
    for (int i = 1; i < argc; ++i) xs.push_back(std::atoi(argv[i]));
    return util::median(xs) > 0x7f ? 1 : 0;  // NOLINT
}
`,
  python: `#!/usr/bin/env python3
"""Count words in files given on the command line."""
import collections
import sys


def count_words(path: str) -> collections.Counter:
    counts = collections.Counter()
    with open(path, encoding="utf-8") as f:
        for line in f:
            for word in line.split():
                counts[word.lower().strip(".,;:!?'\\"")] += 1
    return counts


if __name__ == "__main__":
    total = collections.Counter()
    for p in sys.argv[1:]:
        total += count_words(p)
    for word, n in total.most_common(10):
        print(f"{word:>20} {n:6d}")
    print(f"{len(total)=}, {sum(total.values())=:,}")
`,
  rust: `use std::collections::HashMap;

/// A tiny LRU cache.
pub struct Lru<K, V> {
    cap: usize,
    map: HashMap<K, (V, u64)>,
    tick: u64,
}

impl<K: std::hash::Hash + Eq + Clone, V> Lru<K, V> {
    pub fn new(cap: usize) -> Self {
        Self { cap, map: HashMap::with_capacity(cap), tick: 0 }
    }

    pub fn get(&mut self, k: &K) -> Option<&V> {
        self.tick += 1;
        let t = self.tick;
        self.map.get_mut(k).map(|(v, last)| { *last = t; &*v })
    }

    pub fn put(&mut self, k: K, v: V) {
        if self.map.len() >= self.cap && !self.map.contains_key(&k) {
            let oldest = self.map.iter().min_by_key(|(_, (_, t))| *t).map(|(k, _)| k.clone());
            if let Some(o) = oldest { self.map.remove(&o); }
        }
        self.tick += 1;
        self.map.insert(k, (v, self.tick));
    }
}
`,
  js: `'use strict';
const fs = require('fs/promises');

async function main() {
  const files = process.argv.slice(2);
  const sizes = await Promise.all(files.map(async (f) => (await fs.stat(f)).size));
  const total = sizes.reduce((a, b) => a + b, 0);
  console.log(\`\${files.length} files, \${(total / 1024).toFixed(1)} KiB\`);
  return total > 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (err) => { console.error(err); process.exit(2); });
// minified: !function(e,t){"object"==typeof exports?module.exports=t():e.x=t()}(this,function(){return{a:1,b:[2,3],c:null}});
`,
  go: `package main

import (
\t"fmt"
\t"net/http"
\t"time"
)

type server struct {
\tstarted time.Time
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
\tif r.URL.Path != "/healthz" {
\t\thttp.NotFound(w, r)
\t\treturn
\t}
\tfmt.Fprintf(w, "ok %s\\n", time.Since(s.started).Round(time.Second))
}

func main() {
\tif err := http.ListenAndServe(":8080", &server{started: time.Now()}); err != nil {
\t\tpanic(err)
\t}
}
`,
  java: `public final class Fib {
    private Fib() {}

    /** Returns the n-th Fibonacci number modulo 1_000_000_007. */
    public static long fib(int n) {
        long a = 0L, b = 1L;
        for (int i = 0; i < n; i++) {
            long t = (a + b) % 1_000_000_007L;
            a = b;
            b = t;
        }
        return a;
    }

    public static void main(String[] args) throws Exception {
        System.out.println(String.format("fib(%d) = %d", 90, fib(90)));
    }
}
`,
  shell: `#!/usr/bin/env bash
set -euo pipefail
dir="\${1:-.}"
find "$dir" -type f -name '*.log' -mtime +7 -print0 | xargs -0 -r rm -v --
for f in /etc/*.conf; do
  [[ -r "$f" ]] || continue
  printf '%-30s %8d\\n' "$(basename "$f")" "$(wc -l < "$f")"
done 2>/dev/null | sort -k2 -n | tail -n 5
echo "exit: $?" >&2; exit 0
`,
  sql: `-- Top customers by revenue in 2025.
SELECT c.id, c.name, SUM(o.total_cents) / 100.0 AS revenue
FROM customers AS c
JOIN orders AS o ON o.customer_id = c.id
WHERE o.created_at >= '2025-01-01' AND o.created_at < '2026-01-01'
GROUP BY c.id, c.name
HAVING COUNT(*) > 3
ORDER BY revenue DESC
LIMIT 10;
`,
  html: `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Example &amp; test</title>
  <style>body { font: 14px/1.4 sans-serif; margin: 0 auto; max-width: 40em; } .x > p:first-child::before { content: "\\2022"; }</style>
</head>
<body>
  <!-- comment -->
  <p class="lead">Hello, <b>world</b>!&nbsp;&lt;3</p>
  <a href="https://example.org/path?q=1&amp;r=2">link</a>
</body>
</html>
`,
  makefile: `CC ?= cc
CFLAGS += -O2 -Wall -Wextra
OBJS := $(patsubst %.c,%.o,$(wildcard src/*.c))

all: app

app: $(OBJS)
\t$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

%.o: %.c
\t$(CC) $(CFLAGS) -c -o $@ $<

.PHONY: all clean
clean:
\trm -f app $(OBJS)
`,
  yaml: `# CI configuration
name: build
on:
  push:
    branches: [main]
jobs:
  test:
    runs-on: ubuntu-22.04
    steps:
      - uses: actions/checkout@v4
      - run: |
          cmake --preset ci
          ctest --preset ci -j 4
        env:
          CC: clang-14
          RETRIES: "3"
`,
  toml: `[package]
name = "demo"
version = "0.3.1"
edition = "2021"
authors = ["Ana <ana@example.com>"]

[dependencies]
serde = { version = "1.0", features = ["derive"] }
regex = "1.10"
`,
  markdown: `# Title

Some *emphasis*, **strong**, \`inline code\` and a [link](https://example.com "title").

| col a | col b |
|------:|:------|
|     1 | two   |

\`\`\`python
print("hi")
\`\`\`

> Quote line one
> quote line two

- [ ] todo
- [x] done
`,
  latex: `\\documentclass{article}
\\usepackage{amsmath}
\\begin{document}
\\section{Intro}
Let $f(x) = \\sum_{n=0}^{\\infty} \\frac{x^n}{n!}$, so $f'(x) = f(x)$.
\\begin{align*}
  a^2 + b^2 &= c^2 \\\\
  e^{i\\pi} + 1 &= 0
\\end{align*}
\\end{document}
`,
  diff: `diff --git a/src/main.c b/src/main.c
index 3b18e51..a9c2f4d 100644
--- a/src/main.c
+++ b/src/main.c
@@ -1,5 +1,6 @@
 #include <stdio.h>
+#include <stdlib.h>
 
 int main(void) {
-    printf("hello\\n");
+    puts("hello");
     return 0;
 }
`,
  asm: `    .globl  add3
    .type   add3, @function
add3:
    leal    (%rdi,%rsi), %eax
    addl    %edx, %eax
    ret
    .size   add3, .-add3
`,
  haskell: `module Main where

import qualified Data.Map.Strict as M

wordFreq :: String -> M.Map String Int
wordFreq = M.fromListWith (+) . map (\\w -> (w, 1)) . words

main :: IO ()
main = interact $ unlines . map (\\(w, n) -> w ++ ": " ++ show n) . M.toList . wordFreq
`,
  lisp: `(defun fact (n)
  "Factorial of N."
  (if (<= n 1) 1 (* n (fact (1- n)))))
(mapcar #'fact '(1 2 3 10 20)) ; => (1 2 6 3628800 2432902008176640000)
`,
  php_ruby_perl: `<?php echo htmlspecialchars($_GET['q'] ?? '', ENT_QUOTES, 'UTF-8'); ?>
# ruby
puts [1, 2, 3].map { |x| x ** 2 }.sum  # => 14
# perl
my @w = grep { /^\\w+$/ } split /\\s+/, $line; print scalar(@w), "\\n";
s/(\\d{1,3})(?=(\\d{3})+(?!\\d))/$1,/g;
`,
  logs: `2025-08-06T12:34:56.789Z INFO  [main] server started on 0.0.0.0:8080 (pid=4242)
2025-08-06T12:34:57.001Z WARN  [pool-3] slow query: 1532ms SELECT * FROM t WHERE id=$1
2025-08-06T12:35:00.000Z ERROR [worker-12] java.lang.NullPointerException: Cannot invoke "String.length()" because "s" is null
\tat com.example.App.run(App.java:42)
\tat java.base/java.lang.Thread.run(Thread.java:833)
192.168.1.10 - - [06/Aug/2025:12:35:01 +0000] "GET /api/v1/items?page=2&size=50 HTTP/1.1" 200 5123 "-" "curl/7.88.1"
`,
};
for (const [lang, src] of Object.entries(code)) add(`code/${lang}`, src);
add("code/cpp/crlf", code.cpp.replace(/\n/g, "\r\n"));
add("code/python/crlf", code.python.replace(/\n/g, "\r\n"));
add("code/rust/tabs", code.rust.replace(/^( {4})+/gm, (m) => "\t".repeat(m.length / 4)));
add("code/java/2space", code.java.replace(/^( {4})+/gm, (m) => "  ".repeat(m.length / 4)));
add("code/cpp/deep-indent", code.cpp.split("\n").map((l, i) => " ".repeat((i * 7) % 41) + l).join("\n"));
add("code/python/trailing-ws", code.python.split("\n").map((l, i) => l + " \t  ".slice(0, i % 4)).join("\n"));

// ---------------------------------------------------------------------------------------
// JSON.
const jsonValue = {
  id: "call_8f3a2c",
  type: "function",
  function: {
    name: "get_weather",
    arguments: { location: "San Francisco, CA", unit: "celsius", days: [1, 2, 3], precise: true },
  },
  meta: { latency_ms: 12.5, ratio: -0.000123, big: 12345678901234, exp: 1.5e-10, none: null },
  text: "Line one\nLine two\twith tab and \"quotes\" and \\ backslash, naïve café, 東京, 😀",
  nested: [[[]], [{}], [{ a: [{ b: [{ c: "deep" }] }] }]],
};
add("json/pretty2", JSON.stringify(jsonValue, null, 2));
add("json/pretty4", JSON.stringify(jsonValue, null, 4));
add("json/tabs", JSON.stringify(jsonValue, null, "\t"));
add("json/compact", JSON.stringify(jsonValue));
add("json/ascii-escaped", JSON.stringify(jsonValue).replace(/[\u0080-\uffff]/g,
    (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0")));
add("json/numbers", JSON.stringify(Array.from({ length: 120 }, (_, i) =>
    [i, i * 7919, (i * 0.37).toFixed(3), -i * 1e6, 2 ** (i % 53)])));

// ---------------------------------------------------------------------------------------
// Emoji: ZWJ sequences, skin tones, flags, subdivision flags (tag characters), keycaps,
// variation selectors.
const emoji = [
  "😀😃😄😁😆😅🤣😂🙂🙃😉😊😇", "👨‍👩‍👧‍👦", "👩🏽‍💻", "🧑🏿‍🚀", "🏳️‍🌈", "🏴‍☠️", "❤️‍🔥", "🫱🏻‍🫲🏿",
  "🇯🇵🇺🇸🇩🇪🇫🇷🇧🇷🇮🇳", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🏴󠁧󠁢󠁷󠁬󠁳󠁿", "1️⃣2️⃣#️⃣*️⃣", "👍👍🏻👍🏼👍🏽👍🏾👍🏿",
  "☺︎ ☺️ ✌︎ ✌️", "❤", "❤️", "💖", "🫠🫶🪿🩷", "🇦", "🇦🇧🇨",
];
add("emoji/list", emoji.join(" "));
add("emoji/packed", emoji.join(""));
add("emoji/lines", emoji.join("\n"));
add("emoji/in-text", `Great job 👍🏽! See you at 3pm 🕒 — bring 🍕🍕🍕 & 🥤. Family: 👨‍👩‍👧‍👦, flag: 🇯🇵, keycap: 3️⃣, ` +
    `scotland 🏴󠁧󠁢󠁳󠁣󠁴󠁿.\nI ❤️ NY.\tDon't 😂'll 😀's x😀y 1😀2`);
emoji.forEach((e, i) => add(`emoji/${i}`, `a${e}b ${e}\n${e} 7${e}`));

// ---------------------------------------------------------------------------------------
// Whitespace matrix: every kind of whitespace run before every kind of follower.
const spaces = {
  sp1: " ", sp2: "  ", sp3: "   ", sp8: "        ", tab: "\t", tab2: "\t\t", sptab: " \t", tabsp: "\t ",
  lf: "\n", lf2: "\n\n", lf3: "\n\n\n", crlf: "\r\n", crlf2: "\r\n\r\n", cr: "\r", cr2: "\r\r",
  lfcr: "\n\r", splf: " \n", sp2lf: "  \n", spcrlf: " \r\n", lfsp: "\n ", lfsp2: "\n  ",
  lfsplf: "\n \n", tablf: "\t\n", vt: "\v", ff: "\f", nbsp: "\u00a0", nbsp2: "\u00a0\u00a0",
  spnbsp: " \u00a0", nbspsp: "\u00a0 ", ideo: "\u3000", ideo2: "\u3000\u3000", emsp: "\u2003",
  enquad: "\u2000", emquad: "\u2001", ensp: "\u2002", em3: "\u2004", em4: "\u2005", em6: "\u2006",
  figsp: "\u2007", punctsp: "\u2008", thin: "\u2009", hair: "\u200a", nnbsp: "\u202f", mmsp: "\u205f", ogham: "\u1680", nel: "\u0085", ls: "\u2028",
  ps: "\u2029", nel_lf: "\u0085\n", ls_lf: "\u2028\n", zwsp: "\u200b", bom: "\ufeff",
  mvs: "\u180e", us: "\u001f", fs: "\u001c",
};
const followers = {
  word: "word", Word: "Word", WORD: "WORD", digit: "123", punct: "!", paren: "(", quote: "'s",
  slash: "/", lf: "\n", end: "", cjk: "日本", mark: "\u0301x", emoji: "😀", ws_sp: " x",
  nbsp: "\u00a0y",
};
for (const [sn, s] of Object.entries(spaces))
  for (const [fn, f] of Object.entries(followers)) add(`ws/${sn}/${fn}`, `a${s}${f}${s}`);
add("ws/all-kinds", Object.values(spaces).join("x") + Object.values(spaces).join(""));
add("ws/trailing-before-newline", "line one   \nline two\t\nline three \u00a0\nfour \r\nfive\u3000\n\n  \n");
add("ws/leading-only", "       ");
add("ws/long-space-run", " ".repeat(300) + "x" + " ".repeat(129) + "\n" + " ".repeat(257));
add("ws/long-newline-run", "\n".repeat(200) + "x" + "\r\n".repeat(100) + " " + "\n \n".repeat(40));
add("ws/long-tab-run", "\t".repeat(150) + "y" + " \t".repeat(90));

// ---------------------------------------------------------------------------------------
// Digit runs, in ASCII and other Unicode number classes.
const digitLines = [];
for (let n = 1; n <= 14; n++) digitLines.push("1234567890123".repeat(2).slice(0, n), `x${"9".repeat(n)}y`, ` ${"0".repeat(n)}.`);
digitLines.push("3.14159265358979", "1,000,000", "1_000_000", "0x1F600", "1e-9", "-42", "+7", "v1.2.3",
    "2025-08-06", "12:34:56", "1st 2nd 3rd 4th", "abc123def456", "x1", "A1B2C3", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳",
    "०१२३४५६७८९", "１２３４５", "¹²³⁴", "½⅓¼", "ⅠⅡⅢⅣ", "①②③④", "𝟎𝟏𝟐𝟑", "〇一二三", "12٣4５6", "9\u0301 1\u20e3");
add("digits/lines", digitLines.join("\n"));
add("digits/spaced", digitLines.join(" "));
add("digits/long", "31415926535897932384626433832795028841971693993751058209749445923078164062862089986280");

// ---------------------------------------------------------------------------------------
// Contractions in all case variants, after different kinds of words.
const suffixes = ["s", "t", "re", "ve", "m", "ll", "d"];
function caseVariants(s) {
  const out = [];
  for (let mask = 0; mask < 1 << s.length; mask++)
    out.push([...s].map((c, i) => (mask >> i) & 1 ? c.toUpperCase() : c).join(""));
  return out;
}
const allSuffixes = suffixes.flatMap(caseVariants);
const stems = ["he", "HE", "He", "hE", "I", "i", "x", "Ŝ", "ǅ", "ʰ", "日本", "ña", "1", "", " ", "\u0301"];
for (const [si, stem] of stems.entries())
  add(`contractions/stem${si}`, allSuffixes.map((x) => `${stem}'${x} ${stem}'${x}x ${stem}'${x}'${x}`).join("\n"));
add("contractions/misc", [
  "don't", "DON'T", "Don'T", "dOn't", "we'll've", "y'all", "rock'n'roll", "o'clock", "O'Brien", "'s", "'S",
  "''s", "x''ll", "it’s", "IT’S", "it's's", "'tis", " 'twas", "he's.", "she'd,", "they're!", "we've?",
  "I'm\n", "you'll\r\n", "'", "''", "'''", "a'", "a' s", "A'SS", "can'tt", "won'tve", "x'ſ", "X'ſt", "x'K",
  "naïve's", "café'S", "ÉCOLE'S", "Straße'll", "ΑΘΗΝΑ's", "Москва'S", "日本's", "ǅ'Ll", "𐐀𐐨've",
  "x'\u0301s", "x\u0301's", "12's", "1'st", "_'s", "'s'", "x 's", "x\t's", "x\n's",
].join(" | "));

// ---------------------------------------------------------------------------------------
// Punctuation runs, with CR/LF and slashes after them.
const punctBits = ["!", "?", ".", ",", ";", ":", "...", "--", "—", "/", "//", "///", "\\", "*/", "/*",
  "<", ">", "=>", "->", "::", "()", "[]", "{}", "\"", "'", "`", "~", "@", "#", "$", "%", "^", "&", "|",
  "+", "=", "_", "«»", "「」", "。", "、", "¿", "¡", "•", "©", "€", "¥", "°", "§", "¶", "†", "\u00ad"];
const punctTails = ["", "\n", "\r\n", "\n\n", "/", "/\n", "\r\n/", "\r", " ", "  \n", "x", "1"];
const punctLines = [];
for (const p of punctBits)
  for (const t of punctTails) punctLines.push(`${p}${t}`, ` ${p}${p}${t}`);
add("punct/matrix", punctLines.join("a"));
add("punct/runs", [
  "!!!\r\n", "...///", " ?!\n\n", "//\n", "*/\r\n/*", "-->", "));\r\n", "};\n}\n", "====\n", "#!/bin/sh\n",
  " ---\n", "\t// comment\r\n", ")))))))))))))))))))))", "~!@#$%^&*()_+`-=[]\\{}|;':\",./<>?", "¯\\_(ツ)_/¯",
  "https://a.b/c/d?e=f&g=h#i", "C:\\Windows\\System32\\", "/usr/local/bin/", "a/b/c/", "..\\..\\x",
  "。\n", "、\r\n", "!\u0301", " !\u0301x", "?\u200d", "—\n—\n", "•\t•", " /\n", " /\r\n\r\n/", "!/\n/\r\n",
].join(""));
add("punct/long", "=".repeat(200) + "\n" + "-".repeat(150) + "/".repeat(40) + "\r\n" + "*".repeat(131) +
    ".".repeat(129) + "!?".repeat(70));

// ---------------------------------------------------------------------------------------
// Combining marks at word starts and in other positions.
const marks = ["\u0301", "\u0308", "\u0327", "\u20dd", "\u20e3", "\ufe0f", "\ufe0e", "\u093f", "\u0903",
  "\u05b7", "\u064e", "\u0e31", "\u1ab0", "\u1dc0", "\u302a", "\u{1d167}", "\u{e0100}", "\u200d", "\u200c"];
const markCtx = [];
for (const m of marks)
  markCtx.push(`${m}abc`, ` ${m}abc`, `${m}${m}x`, `a${m}b`, `A${m}B`, `1${m}`, `!${m}a`, `\n${m}a`,
      `\t${m}A`, `${m}`, `${m}'s`, `${m}ABC${m}def`, `日${m}本`, `😀${m}`, ` ${m}${m}`);
add("marks/contexts", markCtx.join(" "));
add("marks/lines", markCtx.join("\n"));
add("marks/stacked", "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349\u035a\u032f\u031e\u0320\u034dA\u036b\u0357\u0334\u0362\u0335\u031c\u0330\u0354L\u0368\u0367\u0369\u0358\u0320G\u0311\u0357\u030e\u0305\u035b\u0341\u0334\u033b\u0348\u034d\u0354\u0339O\u0342\u030c\u030c\u0358\u0328\u0335\u0339\u033b\u031d\u0333!\u033f\u030b\u0365\u0365\u0302\u0363\u0310\u0301\u0301\u035e\u035c\u0356\u032c\u0330\u0319\u0317");

// ---------------------------------------------------------------------------------------
// Special-token strings inside text (the "all" ids differ from the ordinary ones).
add("special/conversation",
    "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\nKnowledge cutoff: 2024-06\n\nReasoning: medium\n\n# Valid channels: analysis, commentary, final. Channel must be included for every message.<|end|>" +
    "<|start|>developer<|message|># Instructions\n\nAnswer briefly.\n\n# Tools\n\n## functions\n\nnamespace functions {\n\n// Gets the weather.\ntype get_weather = (_: {\nlocation: string,\nunit?: \"celsius\" | \"fahrenheit\", // default: celsius\n}) => any;\n\n} // namespace functions<|end|>" +
    "<|start|>user<|message|>What's the weather in Tokyo?<|end|>" +
    "<|start|>assistant<|channel|>analysis<|message|>User asks for weather; call the tool.<|end|>" +
    "<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json<|message|>{\"location\":\"Tokyo\"}<|call|>" +
    "<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>{\"temp_c\": 21}<|end|>" +
    "<|start|>assistant<|channel|>final<|message|>It's 21 °C in Tokyo.<|return|>");
add("special/all-named", Object.values(named).join("") + " " + Object.values(named).join(" ") + "\n" +
    Object.values(named).join("\n"));
add("special/reserved", ["<|reserved_200000|>", "<|reserved_200001|>", "<|reserved_200004|>",
  "<|reserved_200009|>", "<|reserved_200013|>", "<|reserved_200018|>", "<|reserved_201087|>",
  "<|reserved_201088|>"].join("x"));
add("special/not-special", ["<|endofprompt|>", "<|reserved_200002|>", "<|reserved_199997|>",
  "<|reserved_201089|>", "<|reserved_0200000|>", "<|reserved_|>", "<|START|>", "<| start|>", "<|start |>",
  "<start>", "<|start>", "<start|>", "|start|", "<||>", "<|", "|>", "<|<|", "|>|>"].join(" "));
add("special/adjacent", "<|<|start|>|><|start|<|end|>>x<|end|><|end|>  <|message|>\n\n<|message|>" +
    " <|call|>. hello<|return|>world 123<|channel|>456 'll<|end|>'s \r\n<|start|>\r\n");
add("special/in-code", `if (s == "<|end|>") return; // <|start|>user<|message|>\n    tokens = enc("<|call|>")`);
add("special/ends", "<|start|>");
add("special/only-text-around", "text <|endoftext|>");

// ---------------------------------------------------------------------------------------
// Characters new in Unicode 15.1 and 16.0, in contexts where their class changes the pieces
// (tiktoken@1.0.22 and openai/harmony use regex-syntax 0.8.5, i.e. Unicode 16.0.0): a letter
// ends before "." so ".re" is one piece; a number takes "12" along; punctuation absorbs "'".
const newChars = [0x0897, 0x1c89, 0x1c8a, 0xa7cb, 0xa7cd, 0xa7dc, 0x105c0, 0x10d40, 0x10d4a, 0x10d6f,
  0x10ec2, 0x10efc, 0x11380, 0x113b8, 0x116d0, 0x11bc0, 0x11bf0, 0x11f5a, 0x13460, 0x143fa, 0x16100,
  0x16130, 0x16d43, 0x16d6b, 0x16d70, 0x18cff, 0x1ccf0, 0x1e5d0, 0x1e5f1, 0x2ebf0, 0x2ee5d];
for (const cp of newChars) {
  const c = String.fromCodePoint(cp);
  add(`unicode16/U+${cp.toString(16).toUpperCase()}`,
      `${c}.re ${c}'s ${c}123 x${c}'ll ${c}${c}.\n!${c}?re a${c}B 12${c}3`);
}

// ---------------------------------------------------------------------------------------
// Long pieces: the byte-pair merge on pieces far longer than a word.
const lower = "abcdefghijklmnopqrstuvwxyz";
for (const n of [31, 32, 64, 127, 128, 129, 130, 256, 1000])
  add(`long/random-lower-${n}`, Array.from({ length: n }, () => lower[int(26)]).join(""));
add("long/aaaa", "a".repeat(2000) + " " + "ab".repeat(700) + " " + "abc".repeat(333));
add("long/zzzz", "z".repeat(129) + " Z" + "Z".repeat(300) + " " + "é".repeat(200));
add("long/cjk-no-punct", prose.ja.map((p) => p.replace(/[、。「」！，]/g, "")).join(""));
add("long/hangul-no-space", prose.ko.join("").replace(/[ .!,]/g, ""));
add("long/emoji-run", emoji.join("").repeat(3));
add("long/base64", Buffer.from(Array.from({ length: 900 }, () => int(256))).toString("base64"));
add("long/hex", Array.from({ length: 600 }, () => int(16).toString(16)).join(""));
add("long/url", "https://example.com/" + Array.from({ length: 60 }, () => pick(["a", "bc", "def", "-", "_", "%20", "/", "?x=", "&y=", "1"])).join(""));
// Long single pieces of one script (the heap-based merge for pieces over 128 bytes).
const scriptRuns = {
  cyrillic: "абвгдежзийклмнопрстуфхцчшщъыьэюя", greek: "αβγδεζηθικλμνξοπρστυφχψω",
  devanagari: "कखगघचछजझटठडढणतथदधनपफबभमयरलवशसह\u093e\u093f\u0940\u0941\u0947\u094b\u094d\u0902",
  hangul: "가나다라마바사아자차카타파하한국어서울", arabic: "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
  hebrew: "אבגדהוזחטיכלמנסעפצקרשת", thai: "กขคงจฉชซญดตถทนบปผพฟภมยรลวศสหอฮ\u0e31\u0e34\u0e35\u0e38",
  latin_accents: "aeiouéèêëàâäôöûüçñßøåæœ", japanese: "あいうえおかきくけこアイウエオカキクケコ日本語",
};
for (const [name, alphabet] of Object.entries(scriptRuns)) {
  const chars = [...alphabet];
  add(`long/script-${name}`, Array.from({ length: range(150, 700) }, () => pick(chars)).join(""));
}
add("long/identifier", "ThisIsAVeryLongCamelCaseIdentifierThatKeepsGoing".repeat(5) + " snake_case_" + "abc_".repeat(60));

// ---------------------------------------------------------------------------------------
// Random strings of valid Unicode scalar values from all planes.
function randomScalar() {
  const r = rnd();
  let cp;
  if (r < 0.15) cp = range(0x20, 0x7e);
  else if (r < 0.2) cp = range(0x0, 0x1f);
  else if (r < 0.55) cp = range(0x80, 0xffff);
  else if (r < 0.7) cp = range(0x10000, 0x1ffff);
  else if (r < 0.78) cp = range(0x20000, 0x2ffff);
  else if (r < 0.82) cp = range(0x30000, 0x3ffff);
  else if (r < 0.86) cp = range(0x40000, 0xdffff);
  else if (r < 0.93) cp = range(0xe0000, 0xeffff);
  else cp = range(0xf0000, 0x10ffff);
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd - (cp & 0xff);  // no surrogates
  return String.fromCodePoint(cp);
}
for (let i = 0; i < 200; i++)
  add(`random/unicode/${i}`, Array.from({ length: range(1, 120) }, randomScalar).join(""));
// Random scalar values from the blocks where class boundaries are dense (marks, letters of
// every case, numbers, spaces): mostly assigned characters rather than unassigned ones.
const denseBlocks = [[0x0, 0x24f], [0x250, 0x36f], [0x370, 0x52f], [0x591, 0x6ff], [0x900, 0xdff],
  [0xe00, 0xfff], [0x1000, 0x10ff], [0x1680, 0x1fff], [0x2000, 0x2bff], [0x2c00, 0x2e7f], [0x3000, 0x30ff],
  [0xa640, 0xabff], [0xfb00, 0xfffd], [0x10400, 0x104ff], [0x1d400, 0x1d7ff], [0x1e900, 0x1e95f],
  [0x1f300, 0x1faff], [0xe0000, 0xe01ef]];
for (let i = 0; i < 200; i++)
  add(`random/dense/${i}`, Array.from({ length: range(1, 80) }, () => {
    const [a, b] = pick(denseBlocks);
    return String.fromCodePoint(range(a, b));
  }).join(""));

// Random strings from a small alphabet of characters that sit on regex class boundaries.
const tricky = [" ", " ", "  ", "\t", "\n", "\n", "\r", "\r\n", "\u00a0", "\u3000", "\u0085", "\u2028",
  "\u000b", "\u001f", "a", "z", "A", "Z", "é", "É", "\u0301", "\u20e3", "\ufe0f", "ǅ", "ʰ", "ª", "ß", "ſ",
  "K", "İ", "ı", "1", "9", "٣", "Ⅻ", "²", "½", "'", "'", "’", "s", "S", "t", "ll", "LL", "re", "Ve", "m", "D",
  "/", "//", ".", "!", "?", "-", "_", "$", "(", ")", "\"", "<|", "|>", "<|end|>", "<|start|>",
  "<|reserved_200100|>", "<|endofprompt|>", "日", "本", "한", "ก", "\u0e31", "😀", "👍🏽", "🇯🇵", "\u200d",
  "\u200b", "\ufeff", "\u0000", "\u007f", "\u{10ffff}", "\u{e0067}", "𝐀", "𝑥", "𐐨", "x", "y", "0"];
for (let i = 0; i < 260; i++)
  add(`random/tricky/${i}`, Array.from({ length: range(1, 60) }, () => pick(tricky)).join(""));

// Random "soup" of words in many scripts, numbers, whitespace, punctuation and specials.
const words = [...prose.en.join(" ").split(/\s+/).slice(0, 200), ...prose.misc.join(" ").split(/\s+/),
  ...["日本語", "中文", "한국어", "العربية", "עברית", "हिन्दी", "ไทย"]];
const glue = [" ", " ", " ", " ", "  ", "\n", "\n\n", "\r\n", "\t", ", ", ". ", "; ", " - ", "/", "", "'s ",
  "\u00a0", "\u3000", " (", ") ", "\"", " 123 ", "4567", " <|end|>", "<|start|>", "<|message|>"];
for (let i = 0; i < 60; i++) {
  let s = "";
  const n = range(5, 90);
  for (let k = 0; k < n; k++) s += pick(words) + pick(glue);
  add(`random/soup/${i}`, s);
}

// ---------------------------------------------------------------------------------------
// Encode with tiktoken and write one case per line.
const sameIds = (a, b) => a.length === b.length && a.every((t, i) => t === b[i]);
// The subset of special tokens allowed for "some"; test_tokenizer_tiktoken.cpp uses the same.
const SOME_ALLOWED = ["<|start|>", "<|end|>", "<|reserved_201088|>"];
const out = [];
let tokens = 0, bytes = 0, withSpecials = 0;
for (const c of cases) {
  const ordinary = Array.from(enc.encode_ordinary(c.text));
  const all = Array.from(enc.encode(c.text, "all"));
  const utf8 = Buffer.from(c.text, "utf8");
  if (!Buffer.from(enc.decode(Uint32Array.from(ordinary))).equals(utf8))
    throw new Error(`tiktoken decode(encode_ordinary) differs for ${c.name}`);
  const rec = { name: c.name, text: c.text, ordinary };
  // "all" is left out when encode(text, all) == encode_ordinary(text) (no special strings).
  if (!sameIds(all, ordinary)) {
    rec.all = all;
    // Only some specials allowed, the others are ordinary text (disallowed_special = none).
    rec.some = Array.from(enc.encode(c.text, SOME_ALLOWED, []));
    ++withSpecials;
  }
  out.push(JSON.stringify(rec));
  tokens += ordinary.length;
  bytes += utf8.length;
}
const header = {
  generator: "scripts/gen-tokenizer-golden.mjs", tiktoken: tiktokenVersion,
  encoding: "o200k_base ranks + o200k_harmony special tokens 199998..=201088", seed: SEED,
  note: "ordinary = encode_ordinary(text); all = encode(text, 'all'); some = encode(text, some_allowed, " +
      "[]); all and some are absent when all equals ordinary", some_allowed: SOME_ALLOWED,
};
const json = `{"header": ${JSON.stringify(header)},\n"cases": [\n${out.join(",\n")}\n]}\n`;
const dest = path.join(outDir, "tiktoken_cases.json");
fs.writeFileSync(dest, json);

// ---------------------------------------------------------------------------------------
// tests/data/tokenizer/code_point_classes.txt: how tiktoken's regex classifies every code
// point, as far as the pieces can show it, run-length encoded. Probes (ids from o200k):
//   c + ".re" ends in token 2859 (".re") unless c is punctuation-like: [^\s\p{L}\p{N}] takes
//   the "." along. c + "123" ends in token 18 ("3") only when c is \p{N} ("c12" + "3").
// Classes: O = neither letter, mark, number nor whitespace; N = \p{N}; L = letter, mark or
// whitespace (the pieces cannot tell those apart for a lone character). U+0020 is probed as
// O (" ." is one piece through the regex's " ?") and is written as L, which it is.
const reTok = 2859, threeTok = 18;
const classOf = (cp) => {
  if (cp === 0x20) return "L";
  const c = String.fromCodePoint(cp);
  const a = enc.encode_ordinary(c + ".re");
  if (a[a.length - 1] !== reTok) return "O";
  const b = enc.encode_ordinary(c + "123");
  return b[b.length - 1] === threeTok ? "N" : "L";
};
const runs = [];
for (let cp = 0; cp <= 0x10ffff; cp++) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;  // not scalar values; absent from the file
  const k = classOf(cp), last = runs[runs.length - 1];
  if (last && last[2] === k && last[1] === cp - 1) last[1] = cp;
  else runs.push([cp, cp, k]);
}
const classLines = [`# Code point classes as tiktoken@${tiktokenVersion} (o200k regex) sees them; written by ` +
    "scripts/gen-tokenizer-golden.mjs. first last class (hex, inclusive); O other, N \\p{N}, " +
    "L letter/mark/whitespace", ...runs.map(([a, b, k]) => `${a.toString(16)} ${b.toString(16)} ${k}`)];
fs.writeFileSync(path.join(outDir, "code_point_classes.txt"),
    classLines.join("\n") + "\n");
console.log(`wrote code_point_classes.txt: ${runs.length} runs`);
console.log(`wrote ${path.relative(process.cwd(), dest)}: ${cases.length} cases (${withSpecials} with ` +
    `special tokens), ${bytes} text bytes, ${tokens} tokens, ${Buffer.byteLength(json)} bytes of JSON`);
