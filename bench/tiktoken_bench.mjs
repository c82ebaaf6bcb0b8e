// The Node side of bench/run_tokenizer_bench.sh, in three subcommands:
//   corpora --out DIR --repo ROOT   builds the benchmark corpora (en, code, multi) from files a
//                                   Debian 12 machine has after scripts/install-deps.sh
//   run --prefix NPMDIR [--reps N] [--warmup N] [--mode ordinary|all|both] FILE...
//                                   times tiktoken@1.0.22 (OpenAI's Rust core as WASM, single
//                                   thread) with the o200k_harmony special tokens; prints the
//                                   same line format as gossamer_bench_tokenizer
//   report RESULTS [--header FILE]  medians, speed ratios and checks as a markdown table;
//                                   exits 1 when the two sides disagree on any token count/hash
import { createRequire } from "module";
import crypto from "crypto";
import fs from "fs";
import path from "path";
import zlib from "zlib";

function die(msg) {
  console.error(`tiktoken_bench: ${msg}`);
  process.exit(2);
}

function parseArgs(argv, spec) {
  const opts = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) { opts._.push(a); continue; }
    const key = a.slice(2);
    if (!(key in spec)) die(`unknown option ${a}`);
    if (i + 1 >= argv.length) die(`missing value for ${a}`);
    opts[key] = argv[++i];
  }
  for (const [k, v] of Object.entries(spec)) if (!(k in opts)) opts[k] = v;
  return opts;
}

// ---------------------------------------------------------------------------------------
// corpora

const utf8 = new TextDecoder("utf-8", { fatal: true });
function validUtf8(buf) {
  try { utf8.decode(buf); return true; } catch { return false; }
}

// Every regular file under dir (symlinks to files followed), sorted by path in byte order.
function walk(dir, keep) {
  const out = [];
  const rec = (d) => {
    let entries;
    try { entries = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) rec(p);
      else if ((e.isFile() || e.isSymbolicLink()) && keep(p)) {
        try { if (fs.statSync(p).isFile()) out.push(p); } catch { /* dangling link */ }
      }
    }
  };
  rec(dir);
  return out.sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
}

// Accumulates whole files (valid UTF-8, no duplicates) up to a byte budget.
class Corpus {
  constructor(name, target) {
    this.name = name; this.target = target; this.parts = []; this.bytes = 0;
    this.seen = new Set(); this.sources = {};
  }
  full() { return this.bytes >= this.target; }
  add(buf, source, cap = Infinity) {
    if (this.full() || buf.length === 0 || !validUtf8(buf)) return false;
    const used = this.sources[source] ?? 0;
    if (used >= cap) return false;
    const h = crypto.createHash("sha1").update(buf).digest("hex");
    if (this.seen.has(h)) return false;
    this.seen.add(h);
    this.parts.push(buf, Buffer.from("\n"));
    this.bytes += buf.length + 1;
    this.sources[source] = used + buf.length + 1;
    return true;
  }
  addFiles(files, source, cap = Infinity, maxFile = 2 << 20) {
    for (const f of files) {
      if (this.full() || (this.sources[source] ?? 0) >= cap) break;
      let buf;
      try {
        if (fs.statSync(f).size > maxFile) continue;
        buf = fs.readFileSync(f);
        if (f.endsWith(".gz")) buf = zlib.gunzipSync(buf);
      } catch { continue; }
      if (buf.length <= maxFile) this.add(buf, source, cap);
    }
  }
  write(dir) {
    const data = Buffer.concat(this.parts);
    const file = path.join(dir, `${this.name}.txt`);
    fs.writeFileSync(file, data);
    const sha = crypto.createHash("sha256").update(data).digest("hex");
    const src = Object.entries(this.sources).map(([k, v]) => `${k} ${v}`).join(", ");
    return { name: this.name, file, bytes: data.length, sha256: sha, sources: src };
  }
}

// msgstr texts of a gettext .mo file (translations, plural forms split); [] when not UTF-8.
function moStrings(buf) {
  if (buf.length < 28) return [];
  let le;
  if (buf.readUInt32LE(0) === 0x950412de) le = true;
  else if (buf.readUInt32BE(0) === 0x950412de) le = false;
  else return [];
  const u32 = (o) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const n = u32(8), trans = u32(16), out = [];
  for (let i = 0; i < n; i++) {
    const len = u32(trans + 8 * i), off = u32(trans + 8 * i + 4);
    if (off + len > buf.length) return [];
    const s = buf.subarray(off, off + len);
    if (i === 0 && s.includes(Buffer.from("Content-Type:"))) continue;  // the header entry
    out.push(s);
  }
  return out;
}

function cmdCorpora(argv) {
  const o = parseArgs(argv, { out: "", repo: "", "en-bytes": "6000000", "code-bytes": "8000000",
                              "multi-bytes": "4000000" });
  if (!o.out || !o.repo) die("corpora needs --out DIR and --repo ROOT");
  fs.mkdirSync(o.out, { recursive: true });
  const results = [];

  // English prose: licenses, perl documentation, package documentation and changelogs.
  const en = new Corpus("en", +o["en-bytes"]);
  en.addFiles(walk("/usr/share/common-licenses", () => true), "common-licenses");
  en.addFiles(walk("/usr/share/perl", (p) => p.endsWith(".pod")), "perl-pod", 2e6);
  en.addFiles(walk("/usr/lib/x86_64-linux-gnu/perl", (p) => p.endsWith(".pod")), "perl-pod", 2e6);
  en.addFiles(walk("/usr/share/doc", (p) => /\/(README|NEWS|FAQ|TODO|AUTHORS|THANKS)[^/]*(\.txt|\.md)?(\.gz)?$/i.test(p)),
              "doc-readme", 2.5e6);
  en.addFiles(walk("/usr/share/doc", (p) => p.endsWith("/copyright")), "doc-copyright", 2.5e6);
  en.addFiles(walk("/usr/share/doc", (p) => /\/changelog(\.Debian)?\.gz$/.test(p)), "doc-changelog");
  results.push(en.write(o.out));

  // Source code: libstdc++ and Boost headers, then gossamer's own tracked sources.
  const code = new Corpus("code", +o["code-bytes"]);
  const ours = walk(o.repo, (p) => /\.(h|hpp|cpp|cc|cu|cuh|py|sh|mjs|cmake|txt|md|json|yaml|yml)$/.test(p) &&
      !/\/(build[^/]*|\.git|node_modules|\.scratch|data|\.cache)\//.test(p.slice(o.repo.length)));
  code.addFiles(ours, "gossamer", 1.5e6, 256 << 10);
  code.addFiles(walk("/usr/include/c++/12", () => true), "libstdc++-12", 4e6);
  code.addFiles(walk("/usr/include/boost", (p) => /\.(hpp|h|ipp)$/.test(p)), "boost");
  results.push(code.write(o.out));

  // Multilingual: translations shipped in .mo files, then the prose, code, JSON and emoji
  // texts of the tokenizer goldens; repeated when the machine has few translations.
  const multi = new Corpus("multi", +o["multi-bytes"]);
  const locales = ["ja", "zh_CN", "zh_TW", "ko", "ru", "uk", "ar", "he", "hi", "el", "th", "vi", "fa", "bn",
    "ta", "ka", "tr", "pl", "cs", "de", "fr", "es", "pt_BR"];
  for (const loc of locales) {
    for (const f of walk(`/usr/share/locale/${loc}/LC_MESSAGES`, (p) => p.endsWith(".mo"))) {
      if (multi.full() || (multi.sources[`mo:${loc}`] ?? 0) >= 400e3) break;
      let strings;
      try { strings = moStrings(fs.readFileSync(f)); } catch { continue; }
      // Plural forms are separated by NUL inside one msgstr: one line each.
      const text = Buffer.from(strings.filter(validUtf8).map((s) => s.toString("utf8").replaceAll("\0", "\n"))
                                   .join("\n"));
      multi.add(text, `mo:${loc}`, 400e3);
    }
  }
  const golden = path.join(o.repo, "tests/data/tokenizer/tiktoken_cases.json");
  const cases = JSON.parse(fs.readFileSync(golden, "utf8")).cases
      .filter((c) => /^(prose|code|json|emoji|contractions|digits|special)\//.test(c.name));
  const goldenText = Buffer.from(cases.map((c) => c.text).join("\n"));
  multi.add(goldenText, "golden-texts");
  let repeats = 0;
  if (multi.bytes > 0) {
    const once = Buffer.concat(multi.parts);
    while (!multi.full()) { multi.parts.push(once); multi.bytes += once.length; ++repeats; }
  }
  if (repeats) multi.sources[`repeated x${repeats + 1}`] = multi.bytes;
  results.push(multi.write(o.out));

  for (const r of results) {
    if (r.bytes < 1e6) die(`corpus ${r.name} has only ${r.bytes} bytes (${r.sources}); are the ` +
                           "packages of scripts/install-deps.sh installed?");
    console.log(`corpus ${r.name} file=${r.file} bytes=${r.bytes} sha256=${r.sha256} sources=${r.sources}`);
  }
}

// ---------------------------------------------------------------------------------------
// run

// FNV-1a 64 over the ids as little-endian u32, as gossamer_bench_tokenizer computes it.
function fnv1a64(ids) {
  let lo = 0x84222325 >>> 0, hi = 0xcbf29ce4 >>> 0;  // offset basis, as two 32-bit halves
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    for (let k = 0; k < 4; k++) {
      lo = (lo ^ ((id >>> (8 * k)) & 0xff)) >>> 0;
      // (hi:lo) * 0x100000001b3 mod 2^64 = (hi:lo) * 0x1b3 + (lo << 40)
      const a = lo * 0x1b3;
      const newLo = a >>> 0;
      const carry = Math.floor(a / 4294967296);
      hi = (Math.imul(hi, 0x1b3) + carry + ((lo << 8) >>> 0)) >>> 0;
      lo = newLo;
    }
  }
  return hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");
}

function cmdRun(argv) {
  const o = parseArgs(argv, { prefix: "", reps: "1", warmup: "1", mode: "both" });
  if (!o.prefix) die("run needs --prefix NPMDIR (where tiktoken@1.0.22 is installed)");
  if (!["ordinary", "all", "both"].includes(o.mode)) die(`bad --mode ${o.mode}`);
  if (o._.length === 0) die("no corpus files");
  const t0 = performance.now();
  const require = createRequire(path.join(path.resolve(o.prefix), "index.js"));
  const { Tiktoken } = require("tiktoken");
  const t1 = performance.now();
  const o200k = require("tiktoken/encoders/o200k_base.json");
  const named = {
    199998: "<|startoftext|>", 199999: "<|endoftext|>", 200002: "<|return|>", 200003: "<|constrain|>",
    200005: "<|channel|>", 200006: "<|start|>", 200007: "<|end|>", 200008: "<|message|>", 200012: "<|call|>",
  };
  const specials = {};
  for (let id = 199998; id <= 201088; id++) specials[named[id] ?? `<|reserved_${id}|>`] = id;
  const enc = new Tiktoken(o200k.bpe_ranks, specials, o200k.pat_str);
  const t2 = performance.now();
  const version = JSON.parse(fs.readFileSync(
      path.join(path.resolve(o.prefix), "node_modules/tiktoken/package.json"), "utf8")).version;
  console.log(`load impl=tiktoken seconds=${((t2 - t0) / 1e3).toFixed(6)} module_seconds=` +
              `${((t1 - t0) / 1e3).toFixed(6)} construct_seconds=${((t2 - t1) / 1e3).toFixed(6)} ` +
              `version=${version}`);
  for (const file of o._) {
    const buf = fs.readFileSync(file);
    const text = utf8.decode(buf);  // throws on invalid UTF-8: both sides must see the same bytes
    for (const mode of ["ordinary", "all"]) {
      if (o.mode !== "both" && o.mode !== mode) continue;
      const run = mode === "all" ? () => enc.encode(text, "all") : () => enc.encode_ordinary(text);
      for (let w = 0; w < +o.warmup; w++) run();
      for (let r = 0; r < +o.reps; r++) {
        const c = process.cpuUsage();
        const s = performance.now();
        const ids = run();
        const secs = (performance.now() - s) / 1e3;
        const cu = process.cpuUsage(c), cpu = (cu.user + cu.system) / 1e6;
        console.log(`run impl=tiktoken mode=${mode} file=${file} bytes=${buf.length} tokens=${ids.length} ` +
                    `hash=${fnv1a64(ids)} seconds=${secs.toFixed(6)} cpu_seconds=${cpu.toFixed(6)}`);
      }
    }
  }
  enc.free();
}

// ---------------------------------------------------------------------------------------
// report

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b), n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");

function cmdReport(argv) {
  const o = parseArgs(argv, { header: "" });
  if (o._.length !== 1) die("report needs the results file");
  const lines = fs.readFileSync(o._[0], "utf8").split("\n").filter(Boolean);
  const runs = [], loads = [];
  for (const l of lines) {
    const [kind, ...kv] = l.split(" ");
    const rec = Object.fromEntries(kv.map((f) => { const i = f.indexOf("="); return [f.slice(0, i), f.slice(i + 1)]; }));
    if (kind === "run") runs.push(rec);
    else if (kind === "load") loads.push(rec);
  }
  if (o.header) process.stdout.write(fs.readFileSync(o.header, "utf8"));

  const files = [...new Set(runs.map((r) => r.file))];
  const modes = ["ordinary", "all"];
  let ok = true;
  const problems = [];
  console.log("\n| corpus | bytes | tokens | mode | gossamer MB/s | tiktoken MB/s | ratio | " +
              "gossamer MB/s (CPU time) | tiktoken MB/s (CPU time) | ratio (CPU) | runs |");
  console.log("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const file of files) {
    for (const mode of modes) {
      const g = runs.filter((r) => r.file === file && r.mode === mode && r.impl === "gossamer");
      const t = runs.filter((r) => r.file === file && r.mode === mode && r.impl === "tiktoken");
      if (!g.length && !t.length) continue;
      const all = [...g, ...t];
      const bytes = new Set(all.map((r) => r.bytes)), tokens = new Set(all.map((r) => r.tokens));
      const hashes = new Set(all.map((r) => r.hash));
      if (bytes.size !== 1 || tokens.size !== 1 || hashes.size !== 1) {
        ok = false;
        const desc = (rs) => [...new Set(rs.map((r) => `${r.tokens} tokens hash ${r.hash}`))].join(" / ");
        problems.push(`${path.basename(file)} ${mode}: gossamer ${desc(g)}; tiktoken ${desc(t)}`);
      }
      const mbs = (rs, key) => rs.map((r) => +r.bytes / +r[key] / 1e6);
      const cell = (xs) => (xs.length ? `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : "n/a");
      const ratio = (a, b) => (a.length && b.length ? `${fmt(median(a) / median(b), 2)}×` : "n/a");
      const gw = mbs(g, "seconds"), tw = mbs(t, "seconds"), gc = mbs(g, "cpu_seconds"), tc = mbs(t, "cpu_seconds");
      const tok = tokens.size === 1 ? [...tokens][0] : [...tokens].join(" ≠ ");
      console.log(`| ${path.basename(file, ".txt")} | ${[...bytes].join(" ≠ ")} | ${tok} | ${mode} | ${cell(gw)} | ` +
                  `${cell(tw)} | ${ratio(gw, tw)} | ${fmt(median(gc))} | ${fmt(median(tc))} | ${ratio(gc, tc)} | ` +
                  `${g.length}+${t.length} |`);
    }
  }
  const gl = loads.filter((l) => l.impl === "gossamer"), tl = loads.filter((l) => l.impl === "tiktoken");
  const ms = (xs, k) => fmt(median(xs.map((x) => +x[k] * 1e3)), 1);
  console.log("\n| tokenizer load (median over processes) | ms |");
  console.log("|---|---:|");
  if (gl.length) {
    console.log(`| gossamer: Tokenizer::o200k_harmony() first call (SHA-256 check + rank table) | ${ms(gl, "seconds")} |`);
    console.log(`| gossamer: of which SHA-256 of the ${gl[0].rank_file_bytes}-byte rank file | ${ms(gl, "sha256_seconds")} |`);
  }
  if (tl.length) {
    console.log(`| tiktoken@${tl[0].version}: require + WASM instantiate + new Tiktoken(o200k_harmony) | ${ms(tl, "seconds")} |`);
    console.log(`| tiktoken: of which new Tiktoken(ranks, specials, regex) | ${ms(tl, "construct_seconds")} |`);
  }
  console.log("\nMB = 10^6 bytes of UTF-8 input. Each run is one encode call over the whole corpus file " +
              "(tiktoken: including its copy of the JS string into WASM memory and of the ids out), after one " +
              "untimed warm-up call in the same process. MB/s: median (min–max) of wall-clock time; the CPU " +
              "columns use process CPU time instead (robust on a busy machine). ratio = gossamer / tiktoken medians.");
  if (!ok) {
    console.log("\n**MISMATCH: gossamer and tiktoken disagree on the tokens:**");
    for (const p of problems) console.log(`- ${p}`);
    process.exit(1);
  }
}

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === "corpora") cmdCorpora(rest);
else if (cmd === "run") cmdRun(rest);
else if (cmd === "report") cmdReport(rest);
else die("usage: tiktoken_bench.mjs corpora|run|report ...");
