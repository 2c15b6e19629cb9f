// Llama's decoder (llama.ts) and the blocks other families swap in, against the float64 reference
// (ref-decoder.ts): plain Llama, Gemma 2's layer with all its options, Qwen3's q/k norm, half storage,
// lastOnly, a finite-difference gradient check and activation checkpointing (same gradients, lower peak).
import { expect, test } from "bun:test";
import { backward, type CausalLM, cpuBackend, noGrad, ops, tensor, tidy } from "../../../lft.ts";
import { type Gemma2ForCausalLM, gemma2 } from "../../../plugins/models/gemma2.ts";
import { qwen3 } from "../../../plugins/models/qwen3.ts";
import { flat, randomize, randomModel, refConfigOf, specOf, TEST_CONFIG, weightsOf } from "../../core/nn/helpers.ts";
import { refForward } from "../../core/nn/ref-decoder.ts";
import { expectClose, relError } from "../../helpers/compare.ts";
import { randomInts } from "../../helpers/random.ts";

function ids2d(rows: number[][]) {
  return tensor(rows.flat(), [rows.length, rows[0]!.length], { dtype: "i32" });
}

function logitsOf(model: CausalLM, rows: number[][], extra: { positions?: number[][]; segments?: number[][] } = {}): Float32Array {
  return noGrad(() =>
    tidy(() => {
      const [B, T] = [rows.length, rows[0]!.length];
      const positionIds = extra.positions ? tensor(extra.positions.flat(), [B, T], { dtype: "i32" }) : null;
      const segmentIds = extra.segments ? tensor(extra.segments.flat(), [B, T], { dtype: "i32" }) : null;
      return model.forward(ids2d(rows), { positionIds, segmentIds }).toArray() as Float32Array;
    }),
  );
}

const ROWS = [
  [1, 5, 9, 13, 17, 21, 25],
  [3, 3, 38, 0, 12, 7, 30],
];

test("a tiny Llama's logits match the float64 reference (relative error < 1e-4)", () => {
  const spec = specOf();
  const model = randomModel(spec);
  const got = logitsOf(model, ROWS);
  // f32 kernels vs f64 loops over 2 layers of width 32: ~1e-6 is typical; 1e-4 is the bar.
  expectClose(got, flat(refForward(refConfigOf(spec), weightsOf(model), { ids: ROWS })), 1e-4, "llama logits");
  model.dispose();
});

test("Gemma 2's layer with every option it turns at once matches the reference: q/k/v/o bias, (1+w) norms, GELU, embed scale, tied, sandwich norms, soft-caps, windows, partial RoPE, packed segments", () => {
  const config = {
    ...TEST_CONFIG,
    model_type: "gemma2",
    head_dim: 8,
    attention_bias: true,
    tie_word_embeddings: true,
    query_pre_attn_scalar: 1 / 0.09,
    attn_logit_softcapping: 1.5,
    final_logit_softcapping: 3,
    sliding_window: 3,
    partial_rotary_factor: 0.5,
  };
  const spec = gemma2.fromConfig(config)._unsafeUnwrap();
  expect([spec.slidingWindows, spec.rope.rotaryDim]).toEqual([[3, 0], 4]);
  const model = randomize(gemma2.build(spec), 7) as Gemma2ForCausalLM;
  expect(model.lm_head).toBeNull();
  expect(model.getParameter("model.layers.1.pre_feedforward_layernorm.weight")?.shape).toEqual([32]);
  // Row 1 packs two samples: positions restart and segment ids keep them apart.
  const positions = [
    [0, 1, 2, 3, 4, 5, 6],
    [0, 1, 2, 0, 1, 2, 3],
  ];
  const segments = [
    [0, 0, 0, 0, 0, 0, 0],
    [1, 1, 1, 2, 2, 2, 2],
  ];
  const got = logitsOf(model, ROWS, { positions, segments });
  const ref = refConfigOf(spec, undefined, { normOffset: 1, embedScale: spec.embedScale, sandwich: true, attnSoftcap: 1.5, finalSoftcap: 3 });
  expectClose(got, flat(refForward(ref, weightsOf(model), { ids: ROWS, positions, segments })), 1e-4, "gemma2 options");
  // The soft-cap really bounds the logits.
  expect(Math.max(...got.map(Math.abs))).toBeLessThan(3);
  model.dispose();
});

test("Qwen3's per-head q/k norm with biases and packed segments matches the reference", () => {
  const spec = qwen3.fromConfig({ ...TEST_CONFIG, model_type: "qwen3", head_dim: 8, attention_bias: true })._unsafeUnwrap();
  const model = randomize(qwen3.build(spec), 8);
  expect(model.getParameter("model.layers.0.self_attn.q_norm.weight")?.shape).toEqual([8]);
  const positions = [
    [0, 1, 2, 3, 4, 5, 6],
    [0, 1, 0, 1, 2, 3, 4],
  ];
  const segments = [
    [0, 0, 0, 0, 0, 0, 0],
    [1, 1, 2, 2, 2, 2, 2],
  ];
  const want = flat(refForward(refConfigOf(spec, undefined, { qkNorm: true }), weightsOf(model), { ids: ROWS, positions, segments }));
  expectClose(logitsOf(model, ROWS, { positions, segments }), want, 1e-4, "qwen3 q/k norm");
  model.dispose();
});

test("bf16-stored matrices compute like f32 copies of the rounded weights", () => {
  const spec = specOf();
  const model = randomModel(spec, 5);
  const half = randomModel(spec, 5);
  for (const [n, t] of model.namedParameters()) {
    if (t.ndim < 2) continue;
    const h = ops.cast(t, "bf16");
    half.setParameter(n, h)._unsafeUnwrap();
    model.setParameter(n, ops.cast(h, "f32"))._unsafeUnwrap();
  }
  expect(half.getParameter("model.embed_tokens.weight")!.dtype).toBe("bf16");
  expect(half.trainableParameters().every(([, t]) => t.dtype === "f32")).toBe(true);
  // Same values, same f32 kernels: only summation order could differ, and it does not.
  expectClose(logitsOf(half, ROWS), logitsOf(model, ROWS), 1e-6, "bf16 storage");
  model.dispose();
  half.dispose();
});

test("lastOnly gives the last position's logits", () => {
  const model = randomModel(specOf(), 2);
  const all = logitsOf(model, ROWS);
  const last = noGrad(() => tidy(() => model.forward(ids2d(ROWS), { lastOnly: true }).toArray()));
  const V = 40;
  const T = ROWS[0]!.length;
  const want = [...all.slice((T - 1) * V, T * V), ...all.slice((2 * T - 1) * V, 2 * T * V)];
  // Fewer GEMM rows may change BLAS blocking: equal to f32 rounding, not bit for bit.
  expect(relError(last, want)).toBeLessThan(1e-6);
  model.dispose();
});

/** Mean next-token cross-entropy in float64 from reference logits. */
function refLoss(logits: Float64Array[][], rows: number[][]): number {
  let sum = 0;
  let n = 0;
  rows.forEach((row, b) => {
    for (let t = 0; t + 1 < row.length; t++) {
      const l = logits[b]![t]!;
      const m = Math.max(...l);
      const lse = m + Math.log(l.reduce((s, v) => s + Math.exp(v - m), 0));
      sum += lse - l[row[t + 1]!]!;
      n++;
    }
  });
  return sum / n;
}

function modelLoss(model: CausalLM, rows: number[][]) {
  const [B, T] = [rows.length, rows[0]!.length];
  const targets = rows.flatMap((row) => row.map((_, t) => (t + 1 < T ? row[t + 1]! : -100)));
  const logits = model.forward(ids2d(rows));
  return ops.crossEntropy(ops.reshape(logits, [B * T, 40]), tensor(targets, [B * T], { dtype: "i32" }));
}

test("gradients w.r.t. weights match finite differences of the float64 reference loss", () => {
  const spec = specOf(TEST_CONFIG, { qkvBias: true });
  const model = randomModel(spec, 11);
  const rows = [ROWS[0]!.slice(0, 5)];
  tidy(() => backward(modelLoss(model, rows)));
  const W = weightsOf(model);
  const cfg = refConfigOf(spec);
  for (const [name, idx] of [
    ["model.layers.0.self_attn.q_proj.weight", [0, 37, 200]],
    ["model.layers.0.self_attn.k_proj.bias", [1, 9]],
    ["model.layers.1.mlp.down_proj.weight", [5, 700]],
    ["model.norm.weight", [0, 31]],
    ["model.embed_tokens.weight", [5 * 32 + 3, 9 * 32]],
  ] as const) {
    const analytic = model.getParameter(name)!.grad!.toArray();
    const x = W.get(name)!;
    const h = 1e-5;
    for (const i of idx) {
      const keep = x[i]!;
      x[i] = keep + h;
      const up = refLoss(refForward(cfg, W, { ids: rows }), rows);
      x[i] = keep - h;
      const down = refLoss(refForward(cfg, W, { ids: rows }), rows);
      x[i] = keep;
      const numeric = (up - down) / (2 * h);
      // f32 forward/backward against f64 differences: agreement to ~1e-5 absolute on gradients of ~1e-2..1.
      expect(Math.abs(analytic[i]! - numeric)).toBeLessThan(2e-4 + 1e-3 * Math.abs(numeric));
    }
  }
  model.dispose();
});

test("gradient checkpointing gives the same gradients and a lower peak of live bytes", () => {
  const spec = specOf({ ...TEST_CONFIG, num_hidden_layers: 4 });
  const model = randomModel(spec, 13);
  const rows = [0, 1].map((b) => [...randomInts(96, 20 + b, 40)]);
  const alloc = cpuBackend.allocator;
  const run = (ckpt: boolean) => {
    model.gradientCheckpointing = ckpt;
    for (const t of model.parameters()) {
      t.grad?.dispose();
      t.grad = null;
    }
    const base = alloc.stats().liveBytes;
    alloc.resetPeak();
    const loss = tidy(() => {
      const l = modelLoss(model, rows);
      backward(l);
      return l.item();
    });
    return { loss, peak: alloc.stats().peakBytes - base, grads: model.namedParameters().map(([n, t]) => [n, t.grad!.toArray()] as const) };
  };
  const plain = run(false);
  const ckpt = run(true);
  expect(ckpt.loss).toBe(plain.loss);
  // The recomputation repeats the same kernels on the same inputs: gradients agree exactly.
  for (const [i, [name, g]] of ckpt.grads.entries()) {
    expect(name).toBe(plain.grads[i]![0]);
    expect(relError(g, plain.grads[i]![1])).toBe(0);
  }
  // 4 blocks keep one [2, 96, 32] input each instead of ~20 activations: the peak more than halves.
  // Measured: 1.33 MB vs 3.74 MB (36%).
  expect(ckpt.peak).toBeLessThan(plain.peak * 0.5);
  model.dispose();
});
