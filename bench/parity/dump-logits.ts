// Writes one tiny Hugging Face checkpoint per family (and per variant that turns a family's quirk on) with
// lft's logits for fixed input ids beside it, for bench/parity/parity.py to compare with transformers.
// Run: node_modules/.bin/bun bench/parity/dump-logits.ts [--out tmp/parity] [--vocab 1024] [--full]
//
// Each folder has the make-tiny layout (config.json from the family's tiny preset, model.safetensors,
// generation_config.json; with --full also the tokenizer files and the tokenizer's own vocabulary), plus
// lft-logits.npy (float32 [B, T, V]) and lft-inputs.json (the ids). Weights are drawn wider than
// make-tiny's 0.02 (matrices N(0, 0.25), norm weights and biases around their neutral value, std 0.2) so
// every parameter, router and soft-cap visibly moves the logits. Without --full the vocabulary is cut to
// --vocab ids (special ids 1 and 2) so the folders stay small enough to travel to a machine with torch.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createRegistry, type HfConfig, loadModel, type ModelFamily, noGrad, randn, saveModel, tensor, tidy } from "../../lft.ts";
import { TOKENIZER_FIXTURES } from "../../plugins/commands/index.ts";
import gemmaPlugin, { gemma } from "../../plugins/models/gemma.ts";
import gemma2Plugin, { gemma2 } from "../../plugins/models/gemma2.ts";
import llamaPlugin, { llama } from "../../plugins/models/llama.ts";
import type { LlamaSpec } from "../../plugins/models/llama-config.ts";
import mistralPlugin, { mistral } from "../../plugins/models/mistral.ts";
import mixtralPlugin, { mixtral } from "../../plugins/models/mixtral.ts";
import phi3Plugin, { phi3 } from "../../plugins/models/phi3.ts";
import qwen2Plugin, { qwen2 } from "../../plugins/models/qwen2.ts";
import qwen3Plugin, { qwen3 } from "../../plugins/models/qwen3.ts";
import { machine } from "../lib/results.ts";

const { values: args } = parseArgs({ options: { out: { type: "string" }, vocab: { type: "string" }, full: { type: "boolean" } } });
const OUT = resolve(args.out ?? "tmp/parity");
const VOCAB = Number(args.vocab ?? 1024);
const B = 2;
const T = 16;

interface Case {
  name: string;
  family: ModelFamily<LlamaSpec>;
  /** config keys over the family's tiny preset */
  over?: HfConfig;
}

const CASES: Case[] = [
  { name: "llama", family: llama },
  { name: "mistral", family: mistral },
  // Windows shorter than the 16 input tokens: HF's mask and lft's kernel must agree on its edge.
  { name: "mistral-window", family: mistral, over: { sliding_window: 5 } },
  { name: "qwen2", family: qwen2 },
  { name: "qwen2-window", family: qwen2, over: { use_sliding_window: true, sliding_window: 5, max_window_layers: 1 } },
  { name: "qwen3", family: qwen3 },
  { name: "gemma", family: gemma },
  { name: "gemma2", family: gemma2 },
  { name: "gemma2-window-caps", family: gemma2, over: { sliding_window: 5, attn_logit_softcapping: 2.0, final_logit_softcapping: 3.0 } },
  { name: "phi3", family: phi3 },
  // 16 tokens past an original context of 8: long factors, attention factor sqrt(1 + ln 8 / ln 8), on 4 of 8 dims.
  {
    name: "phi3-long-partial",
    family: phi3,
    over: {
      original_max_position_embeddings: 8,
      max_position_embeddings: 64,
      partial_rotary_factor: 0.5,
      rope_scaling: { type: "longrope", short_factor: [1.0, 1.6], long_factor: [1.9, 6.5] },
    },
  },
  { name: "mixtral", family: mixtral },
];

const registry = createRegistry();
for (const p of [llamaPlugin, mistralPlugin, qwen2Plugin, qwen3Plugin, gemmaPlugin, gemma2Plugin, phi3Plugin, mixtralPlugin]) registry.use(p);

/** numpy's .npy v1.0: magic, header dict padded with spaces to a multiple of 64 bytes, raw little-endian data. */
function npy(data: Float32Array, shape: number[]): Uint8Array {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(", ")}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += `${" ".repeat(pad % 64)}\n`;
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, ...new TextEncoder().encode("NUMPY"), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** Fixed ids below `vocab`: an LCG, so the inputs are the same on every run and machine. */
function inputIds(vocab: number): number[][] {
  let s = 12345;
  const next = (): number => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return 3 + (s % (Math.min(vocab, 30000) - 3));
  };
  return Array.from({ length: B }, () => Array.from({ length: T }, next));
}

function dumpCase(c: Case, seed: number): Record<string, unknown> {
  const dir = join(OUT, c.name);
  rmSync(dir, { recursive: true, force: true });
  const base = { ...c.family.tiny.config, ...c.over };
  const config = args.full ? base : { ...base, vocab_size: VOCAB, bos_token_id: 1, eos_token_id: 2, pad_token_id: null };
  const spec = c.family.fromConfig(config, `${c.name} config`)._unsafeUnwrap();
  const model = c.family.build(spec);
  model.namedSlots().forEach(([path, slot], i) => {
    const matrix = slot.shape.length >= 2;
    const mean = matrix ? 0 : slot.init === "ones" ? 1 : 0;
    model.setParameter(path, randn(slot.shape, { seed, offset: BigInt(i) << 32n, mean, std: matrix ? 0.25 : 0.2 }))._unsafeUnwrap();
  });
  saveModel(model, dir)._unsafeUnwrap();
  model.dispose();
  if (args.full) {
    const tok = join(TOKENIZER_FIXTURES, c.family.tiny.tokenizer);
    for (const f of ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"])
      if (existsSync(join(tok, f))) copyFileSync(join(tok, f), join(dir, f));
  }
  // lft reads the folder back exactly as a user's checkpoint: config.json's model_type picks the family.
  const loaded = loadModel(dir, registry)._unsafeUnwrap();
  const ids = inputIds(spec.vocabSize);
  const logits = noGrad(() => tidy(() => loaded.model.forward(tensor(ids.flat(), [B, T], { dtype: "i32" })).toArray() as Float32Array));
  loaded.model.dispose();
  writeFileSync(join(dir, "lft-logits.npy"), npy(logits, [B, T, spec.vocabSize]));
  writeFileSync(join(dir, "lft-inputs.json"), `${JSON.stringify({ case: c.name, family: c.family.name, ids }, null, 1)}\n`);
  return { case: c.name, family: c.family.name, vocab: spec.vocabSize, windows: spec.slidingWindows };
}

/** The checked-out commit, read from .git without running git (unknown outside a checkout). */
function revision(): string {
  try {
    const git = resolve(import.meta.dir, "../../.git");
    const head = readFileSync(join(git, "HEAD"), "utf8").trim();
    if (!head.startsWith("ref: ")) return head.slice(0, 7);
    const ref = head.slice(5);
    if (existsSync(join(git, ref))) return readFileSync(join(git, ref), "utf8").trim().slice(0, 7);
    const packed = readFileSync(join(git, "packed-refs"), "utf8")
      .split("\n")
      .find((l) => l.endsWith(` ${ref}`));
    return packed ? packed.slice(0, 7) : "unknown";
  } catch {
    return "unknown";
  }
}

mkdirSync(OUT, { recursive: true });
const cases = CASES.map((c, i) => dumpCase(c, 100 + i));
writeFileSync(
  join(OUT, "manifest.json"),
  `${JSON.stringify({ date: new Date().toISOString(), revision: revision(), machine: machine(), batch: B, tokens: T, full: !!args.full, cases }, null, 2)}\n`,
);
for (const c of cases) console.log(`${String(c.case).padEnd(20)} ${String(c.family).padEnd(8)} vocab ${c.vocab}`);
console.log(`wrote ${cases.length} cases to ${OUT}`);
