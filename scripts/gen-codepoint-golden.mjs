// Writes tests/data/tokenizer/code_points.txt: for every code point of the assigned Unicode
// planes, in blocks of 64, the token count and an FNV-1a 64 hash of the ids tiktoken@1.0.22
// (OpenAI's Rust core, as WASM) gives for a text that puts each code point in several regex
// contexts. tests/harmony/test_tokenizer_code_points.cpp rebuilds the same texts and compares.
// Run: npm install --prefix /tmp/tt tiktoken@1.0.22 && NODE_PATH=/tmp/tt/node_modules node scripts/gen-codepoint-golden.mjs
import { createRequire } from "module";
import fs from "fs";
const require = createRequire(process.env.NODE_PATH ? process.env.NODE_PATH + "/" : import.meta.url);
const { get_encoding } = require("tiktoken");
const enc = get_encoding("o200k_base");

function fnv1a64(ids) {
  let h = 0xcbf29ce484222325n;
  for (const id of ids)
    for (let k = 0; k < 4; k++) {
      h ^= BigInt((id >>> (8 * k)) & 0xff);
      h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
    }
  return h.toString(16).padStart(16, "0");
}

// Must match block_text() in test_tokenizer_code_points.cpp.
function blockText(start, end) {
  let s = "";
  for (let k = start; k < end; k++) {
    if (k >= 0xd800 && k <= 0xdfff) continue;
    const c = String.fromCodePoint(k);
    s += "x" + c + "y " + c + "1 " + c + c + "A'S\t" + c + "\n";
  }
  return s;
}

const ranges = [[0x0, 0x323c0], [0xe0000, 0xe0200]];
const lines = ["# start end tokens fnv1a64(ids as u32 little-endian); from tiktoken@1.0.22 o200k_base"];
for (const [a, b] of ranges)
  for (let cp = a; cp < b; cp += 64) {
    const text = blockText(cp, Math.min(cp + 64, b));
    if (!text) continue;
    const ids = Array.from(enc.encode_ordinary(text));
    lines.push(`${cp.toString(16)} ${Math.min(cp + 64, b).toString(16)} ${ids.length} ${fnv1a64(ids)}`);
  }
fs.writeFileSync(new URL("../tests/data/tokenizer/code_points.txt", import.meta.url), lines.join("\n") + "\n");
console.log(`wrote ${lines.length - 1} blocks`);
