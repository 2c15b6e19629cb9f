// Forward + backward tokens/s of the glm4, cohere (and cohere2) and starcoder2 families next to llama at
// one shared small shape (dim 256, 4 layers, 8/4 heads of 32, ffn 688, vocab 32000, batch 2 x seq 256),
// each from its family's own tiny preset with the sizes replaced: shows whether a family's extra work
// (GLM/Cohere's interleaved-RoPE reorder, LayerNorm, sandwich norms) keeps it on the fast path.
// Run: bun bench/dense-families.ts [--quick]  (writes bench/results/dense-families.json)
import { loadavg } from "node:os";
import { Philox } from "../core/random/philox.ts";
import { backward, blasInfo, causalLmLoss, createRegistry, dropGrads, familyByName, type HfConfig, tidy } from "../lft.ts";
import { builtinPlugins } from "../plugins/index.ts";
import { gitRevision, machine, writeResults } from "./lib/results.ts";
import { randomTokenBatch } from "./lib/token-batch.ts";

const quick = process.argv.includes("--quick");
const SHAPE = { batch: 2, seq: quick ? 128 : 256, vocab: 32000 };
const ITER = quick ? 3 : 7;
const SIZES: HfConfig = {
  hidden_size: 256,
  intermediate_size: 688,
  num_hidden_layers: 4,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  head_dim: 32,
  vocab_size: SHAPE.vocab,
  bos_token_id: 1,
  eos_token_id: 2,
  pad_token_id: null,
};

const registry = createRegistry();
for (const p of builtinPlugins) registry.use(p)._unsafeUnwrap();

const cases: [string, string, HfConfig][] = [
  ["llama", "llama", {}],
  ["glm4", "glm4", {}],
  ["cohere (R+ layout, q/k norms)", "cohere", {}],
  ["cohere2 (R7B layout)", "cohere", { model_type: "cohere2", use_qk_norm: false, sliding_window: 4096 }],
  ["starcoder2", "starcoder2", {}],
];

const batch = randomTokenBatch(SHAPE, new Philox(7n));
// Built once, then timed in rounds (every family once per round) so a load change on a shared machine hits
// all of them alike; each family's median step is reported.
const models = cases.map(([label, name, over]) => {
  const family = familyByName(registry, name)._unsafeUnwrap();
  const model = family.build(family.fromConfig({ ...family.tiny.config, ...SIZES, ...over })._unsafeUnwrap());
  model.initParameters({ seed: 1, std: 0.02 });
  const step = () =>
    tidy(() => {
      backward(causalLmLoss(model, batch).loss);
      dropGrads(model.parameters());
    });
  step(); // warm-up: allocator and BLAS
  return { label, model, step, times: [] as number[] };
});
for (let round = 0; round < ITER; round++) {
  for (const m of models) {
    const t0 = performance.now();
    m.step();
    m.times.push((performance.now() - t0) / 1000);
  }
}
const rows = models.map(({ label, model, times }) => {
  model.dispose();
  const s = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
  console.log(`${label.padEnd(32)} ${((SHAPE.batch * SHAPE.seq) / s).toFixed(0).padStart(8)} tok/s  (${(s * 1000).toFixed(1)} ms/step, median of ${ITER})`);
  return { family: label, tokensPerSecond: Math.round((SHAPE.batch * SHAPE.seq) / s), secondsPerStep: Number(s.toFixed(4)) };
});
const path = writeResults("dense-families", {
  machine: machine(),
  revision: gitRevision(),
  blas: blasInfo(),
  loadAverage: loadavg()[0],
  shape: { ...SIZES, ...SHAPE },
  rows,
});
console.log(`wrote ${path}`);
