// Interleaved A/B of the tokenizer: a base tree's encoder (BASE=/path with that tree's core/, e.g. made by
// `git archive main core | tar -x -C /tmp/base`) against this tree's, in one process on the same text, base and
// branch alternating, best of 3 cold encodes of the first 1 MB of wiki_demo.txt, ids compared.
// Run: BASE=/tmp/base bun bench/tokenizer-ab.ts gemma3 mistral-7b
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadTokenizer } from "../core/tokenizer/load.ts";

type Load = typeof loadTokenizer;
const base = process.env.BASE;
if (!base) throw new Error("set BASE to a folder holding the base tree's core/");
const baseLoad = ((await import(join(base, "core", "tokenizer", "load.ts"))) as { loadTokenizer: Load }).loadTokenizer;
const FIXTURES = join(import.meta.dir, "..", "test", "fixtures", "tokenizers");
const WIKI = join(import.meta.dir, "..", "test", "fixtures", "llamafactory-data", "wiki_demo.txt");
const text = new TextDecoder().decode(readFileSync(WIKI).subarray(0, 1_000_000)).replace(/\uFFFD$/, "");
const mb = Buffer.byteLength(text) / 1e6;

for (const name of process.argv.slice(2)) {
  const dir = join(FIXTURES, name);
  const tokenizers = { base: baseLoad(dir)._unsafeUnwrap(), branch: loadTokenizer(dir)._unsafeUnwrap() };
  const best = { base: Infinity, branch: Infinity };
  let reference: number[] = [];
  let same = true;
  for (let r = 0; r < 3; r++) {
    for (const which of ["base", "branch"] as const) {
      const tok = tokenizers[which];
      tok.clearWordCache();
      const t0 = performance.now();
      const ids = tok.encode(text, { addSpecialTokens: false });
      best[which] = Math.min(best[which], (performance.now() - t0) / 1000);
      if (which === "base") reference = ids;
      else same &&= ids.length === reference.length && ids.every((id, i) => id === reference[i]);
    }
  }
  const rate = (s: number) => (mb / s).toFixed(2);
  console.log(
    `${name}: base ${rate(best.base)} MB/s, branch ${rate(best.branch)} MB/s (cold, best of 3, ${mb.toFixed(2)} MB), ids ${same ? "identical" : "DIFFER"}`,
  );
}
