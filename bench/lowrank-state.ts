// Optimizer state of GaLore and APOLLO beside AdamW: on stories260K (loaded, one real step from a
// random gradient, state bytes counted from what the optimizer holds and checked against its
// stateBytes formula) and, by the formula alone, on Llama-2-7B's shapes (dim 4096, 32 layers, ffn
// 11008, vocab 32000; parameter shapes only, no weights). Run: bun bench/lowrank-state.ts
import { join } from "node:path";
import { buildGroups, createRegistry, loadModel, type OptimizerEntry, type ParamGroup, type Tensor, tensor, validateOptions } from "../lft.ts";
import { builtinPlugins } from "../plugins/index.ts";
import { adamwEntry, apolloEntry, galoreEntry } from "../plugins/optimizers/index.ts";

const registry = createRegistry();
for (const p of builtinPlugins) registry.use(p)._unsafeUnwrap();

const CONFIGS: [string, OptimizerEntry, Record<string, unknown>][] = [
  ["adamw", adamwEntry, {}],
  ["galore r16 (LF default)", galoreEntry, {}],
  ["galore r8", galoreEntry, { rank: 8 }],
  ["apollo r16 (LF default)", apolloEntry, {}],
  ["apollo-mini (r1, tensor)", apolloEntry, { rank: 1, scale_type: "tensor", scale: 128 }],
];

const opts = (entry: OptimizerEntry, o: Record<string, unknown>) => validateOptions(entry.options ?? {}, o, entry.name)._unsafeUnwrap();
const mib = (b: number) => `${(b / 2 ** 20).toFixed(3)} MiB`;

// stories260K: build each optimizer, step once with a random gradient, count what it holds.
const loaded = loadModel(join(import.meta.dir, "../examples/models/stories260K"), registry)._unsafeUnwrap();
const named = Object.fromEntries(loaded.model.namedParameters());
for (const t of Object.values(named)) t.requiresGrad = true;
const groups = buildGroups(named, { weightDecay: 0 })._unsafeUnwrap();
const numel = groups.reduce((s, g) => s + g.params.reduce((a, p) => a + p.numel, 0), 0);
console.log(`stories260K: ${numel.toLocaleString()} parameters`);
for (const [label, entry, o] of CONFIGS) {
  const options = opts(entry, o);
  const opt = entry.build(groups, { lr: 1e-3, options, totalSteps: 1, accumulation: 1, clipNorm: 0 })._unsafeUnwrap();
  for (const p of opt.params) {
    p.grad = tensor(
      new Float32Array(p.numel).map(() => Math.random() - 0.5),
      p.shape,
    );
  }
  opt.update();
  const held = [...opt.exportState().tensors.values()].reduce((s, t) => s + 4 * t.numel, 0);
  const formula = entry.stateBytes(groups, options);
  console.log(
    `  ${label.padEnd(26)} held ${mib(held).padStart(12)}  formula ${mib(formula).padStart(12)}  ${(held / numel).toFixed(2)} B/param${held === formula ? "" : "  MISMATCH"}`,
  );
  opt.zeroGrad();
  opt.dispose();
}

// Llama-2-7B shapes, by the formula (fake tensors carry only shape and numel).
const shape = (s: number[]) => ({ shape: s, numel: s.reduce((a, b) => a * b, 1) }) as unknown as Tensor;
const names: string[] = ["model.embed_tokens.weight", "lm_head.weight", "model.norm.weight"];
const params: Tensor[] = [shape([32000, 4096]), shape([32000, 4096]), shape([4096])];
for (let l = 0; l < 32; l++) {
  for (const [n, s] of [
    ["self_attn.q_proj", [4096, 4096]],
    ["self_attn.k_proj", [4096, 4096]],
    ["self_attn.v_proj", [4096, 4096]],
    ["self_attn.o_proj", [4096, 4096]],
    ["mlp.gate_proj", [11008, 4096]],
    ["mlp.up_proj", [11008, 4096]],
    ["mlp.down_proj", [4096, 11008]],
    ["input_layernorm", [4096]],
    ["post_attention_layernorm", [4096]],
  ] as const) {
    names.push(`model.layers.${l}.${n}.weight`);
    params.push(shape([...s]));
  }
}
const big: ParamGroup[] = [{ name: "all", params, names, lrScale: 1, weightDecay: 0 }];
const total = params.reduce((s, p) => s + p.numel, 0);
console.log(`Llama-2-7B shapes: ${total.toLocaleString()} parameters (formula only)`);
for (const [label, entry, o] of CONFIGS) {
  const b = entry.stateBytes(big, opts(entry, o));
  console.log(`  ${label.padEnd(26)} ${(b / 2 ** 30).toFixed(2).padStart(7)} GiB  ${(b / total).toFixed(2)} B/param`);
}
loaded.model.dispose();
