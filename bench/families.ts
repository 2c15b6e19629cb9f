// Forward + backward throughput of every model family lft ships, on this CPU: each family's make-tiny
// config (its own layer pattern, norms, attention and MoE layout) widened to one common size (hidden 256,
// 4 layers, vocabulary 4096), random weights, a batch of 4 x 256 random tokens, full fine-tuning's
// forward, loss and backward. Tokens/s alone favours the small families, so each row also gives the
// parameter count and the achieved GFLOP/s (6 x non-embedding parameters active per token x tokens / s,
// the usual training estimate): a family that fell off the fast path shows as a low GFLOP/s beside its
// peers. Never part of CI. Run: bun bench/families.ts [--quick]   (writes bench/results/families.json)
import { loadavg } from "node:os";
import { Philox } from "../core/random/philox.ts";
import { backward, blasInfo, type CausalLM, causalLmLoss, cpuBackend, createRegistry, familyByName, type HfConfig, type ModelFamily, tidy } from "../lft.ts";
import { builtinPlugins } from "../plugins/index.ts";
import { modelPlugins } from "../plugins/models/index.ts";
import { table, writeResults } from "./lib/results.ts";
import { randomTokenBatch } from "./lib/token-batch.ts";

const quick = process.argv.includes("--quick");
const SHAPE = { batch: quick ? 2 : 4, seq: quick ? 64 : 256, vocab: 4096 };
const ITER = quick ? 2 : 5;
const WIDTH = { hidden: 256, layers: 4 };

const registry = createRegistry();
for (const p of builtinPlugins) registry.use(p)._unsafeUnwrap();

/**
 * The family's tiny config at the common width: sizes scaled by hidden / tiny hidden (heads and expert
 * counts kept, so head_dim grows), at least WIDTH.layers layers (the tiny pattern repeated), vocab 4096.
 */
function widened(family: ModelFamily): HfConfig {
  const tiny = family.tiny.config;
  const text = (tiny.text_config as HfConfig | undefined) ?? tiny;
  const scale = WIDTH.hidden / (text.hidden_size as number);
  const out: Record<string, unknown> = { ...text };
  for (const k of Object.keys(text)) {
    const v = text[k];
    if (typeof v !== "number" || !Number.isInteger(v)) continue;
    if (k === "hidden_size" || k.endsWith("intermediate_size") || k === "head_dim" || k.endsWith("_head_dim") || k.endsWith("lora_rank")) out[k] = v * scale;
  }
  const layers = Math.max(WIDTH.layers, text.num_hidden_layers as number);
  out.num_hidden_layers = layers;
  const types = text.layer_types as string[] | undefined;
  if (Array.isArray(types)) out.layer_types = Array.from({ length: layers }, (_, i) => types[i % types.length]);
  Object.assign(out, { vocab_size: SHAPE.vocab, bos_token_id: 1, eos_token_id: 2, pad_token_id: null, max_position_embeddings: 4096 });
  // Per-frequency lists (LongRoPE's factors) follow the wider heads: each entry repeated in order.
  const scaling = text.rope_scaling as Record<string, unknown> | null | undefined;
  if (scaling && Array.isArray(scaling.short_factor)) {
    const headDim = (out.head_dim as number | undefined) ?? (out.hidden_size as number) / (out.num_attention_heads as number);
    const n = Math.floor((headDim * ((out.partial_rotary_factor as number | undefined) ?? 1)) / 2);
    const stretch = (xs: number[]) => Array.from({ length: n }, (_, i) => xs[Math.floor((i * xs.length) / n)]!);
    out.rope_scaling = { ...scaling, short_factor: stretch(scaling.short_factor as number[]), long_factor: stretch(scaling.long_factor as number[]) };
  }
  return text === tiny ? out : { ...tiny, text_config: out };
}

/** Non-embedding parameters one token passes through (MoE: the experts it is routed to, not all). */
function activeParams(model: CausalLM, config: HfConfig): number {
  const text = (config.text_config as HfConfig | undefined) ?? config;
  const experts = (text.num_local_experts ?? text.num_experts ?? text.n_routed_experts ?? 0) as number;
  const topK = (text.num_experts_per_tok ?? text.experts_per_token ?? 0) as number;
  let n = 0;
  for (const { name, shape } of model.parameterShapes()) {
    if (name.includes("embed_tokens")) continue;
    const size = shape.reduce((a, b) => a * b, 1);
    const routed = /\.experts\./.test(name) || /experts\.(gate_up_proj|down_proj)/.test(name);
    n += routed && experts > 0 ? (size * topK) / experts : size;
  }
  return n;
}

interface Row extends Record<string, string | number> {
  family: string;
  params: number;
  tokensPerS: number;
  gflops: number;
  peakMiB: number;
}

const rows: Row[] = [];
const notes: string[] = [];
const batch = randomTokenBatch(SHAPE, new Philox(1n));
for (const plugin of modelPlugins) {
  const name = plugin.name.replace(/^lft-models-/, "");
  const found = familyByName(registry, name);
  if (found.isErr()) {
    notes.push(`${plugin.name}: no family named "${name}"`);
    continue;
  }
  const family = found.value;
  const config = widened(family);
  const spec = family.fromConfig(config, `${family.name} bench config`);
  if (spec.isErr()) {
    notes.push(`${family.name}: ${spec.error.message}`);
    continue;
  }
  const model = family.build(spec.value);
  model.initParameters({ seed: 1, std: 0.02 });
  const step = () =>
    tidy(() => {
      backward(causalLmLoss(model, batch).loss);
      for (const p of model.parameters()) {
        p.grad?.dispose();
        p.grad = null;
      }
    });
  step();
  cpuBackend.allocator.resetPeak();
  const times: number[] = [];
  for (let i = 0; i < ITER; i++) {
    const t0 = performance.now();
    step();
    times.push((performance.now() - t0) / 1000);
  }
  const s = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  const tokens = SHAPE.batch * SHAPE.seq;
  const active = activeParams(model, config);
  rows.push({
    family: family.name,
    params: model.parameterShapes().reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0),
    tokensPerS: Math.round(tokens / s),
    gflops: Number(((6 * active * tokens) / s / 1e9).toFixed(1)),
    peakMiB: Math.round(cpuBackend.allocator.stats().peakBytes / 2 ** 20),
  });
  model.dispose();
  console.error(`${family.name}: ${rows.at(-1)!.tokensPerS} tok/s, ${rows.at(-1)!.gflops} GFLOP/s`);
}

const load = loadavg().map((x) => Number(x.toFixed(2)));
console.log(`shape ${JSON.stringify({ ...SHAPE, ...WIDTH })}; BLAS ${blasInfo().corename} (${blasInfo().reason}); load average ${load.join(" ")}`);
console.log(table(rows));
for (const n of notes) console.log(`note: ${n}`);
const path = writeResults(quick ? "families-quick" : "families", {
  shape: { ...SHAPE, ...WIDTH },
  iterations: ITER,
  blas: blasInfo(),
  loadAverage: load,
  rows,
  notes,
  method: "full fine-tuning's forward + loss + backward (no optimizer), median of the iterations; GFLOP/s = 6 x active non-embedding params x tokens / s",
});
console.log(`wrote ${path}`);
