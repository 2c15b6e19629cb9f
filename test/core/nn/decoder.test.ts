// The shared decoder against the float64 reference (ref-decoder.ts): plain Llama, every family knob at
// once, fused projections, half storage, lastOnly, a finite-difference gradient check and gradient
// checkpointing (same gradients, lower peak memory).
import { expect, test } from "bun:test";
import { type CausalLM, backward, cpuBackend, noGrad, ops, tensor, tidy } from "../../../lft.ts";
import { expectClose, relError } from "../../helpers/compare.ts";
import { randomInts } from "../../helpers/random.ts";
import { TEST_CONFIG, flat, randomModel, refConfigOf, specOf, weightsOf } from "./helpers.ts";
import { refForward } from "./ref-decoder.ts";

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

test("every family knob at once matches the reference: biases, q/k norm, (1+w) norms, GELU, embed scale, tied, sandwich norms, soft-caps, windows, partial RoPE, packed segments", () => {
  const spec = specOf(TEST_CONFIG, {
    qkvBias: true,
    oBias: true,
    qkNorm: true,
    hiddenAct: "gelu_tanh",
    normWeightOffset: 1,
    embedScale: Math.fround(Math.sqrt(32)),
    tieWordEmbeddings: true,
    sandwichNorms: true,
    attnScale: 0.3,
    attnSoftcap: 1.5,
    finalSoftcap: 3,
    slidingWindows: [3, 0],
    rope: { rotaryDim: 4 },
  });
  const model = randomModel(spec, 7);
  expect(model.lm_head).toBeNull();
  expect(model.getParameter("model.layers.0.self_attn.q_norm.weight")?.shape).toEqual([8]);
  expect(model.getParameter("model.layers.1.pre_feedforward_layernorm.weight")?.shape).toEqual([32]);
  // Row 1 packs two samples: positions restart and segment ids keep them apart.
  const positions = [[0, 1, 2, 3, 4, 5, 6], [0, 1, 2, 0, 1, 2, 3]];
  const segments = [[0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 2, 2, 2, 2]];
  const got = logitsOf(model, ROWS, { positions, segments });
  const want = flat(refForward(refConfigOf(spec), weightsOf(model), { ids: ROWS, positions, segments }));
  expectClose(got, want, 1e-4, "all knobs");
  // The soft-cap really bounds the logits.
  expect(Math.max(...got.map(Math.abs))).toBeLessThan(3);
  model.dispose();
});

test("fused qkv_proj and gate_up_proj (Phi-3 layout) give the logits of the separate projections", () => {
  const spec = specOf();
  const sep = randomModel(spec, 3);
  const fused = randomModel({ ...spec, fusedQkv: true, fusedGateUp: true }, 4);
  expect(fused.getParameter("model.layers.0.self_attn.qkv_proj.weight")?.shape).toEqual([64, 32]);
  expect(fused.getParameter("model.layers.0.mlp.gate_up_proj.weight")?.shape).toEqual([96, 32]);
  for (let l = 0; l < spec.numLayers; l++) {
    const p = `model.layers.${l}.`;
    const get = (n: string) => sep.getParameter(p + n)!;
    const cat = (names: string[]) => ops.concat(names.map(get), 0);
    fused.setParameter(`${p}self_attn.qkv_proj.weight`, cat(["self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight"]))._unsafeUnwrap();
    fused.setParameter(`${p}mlp.gate_up_proj.weight`, cat(["mlp.gate_proj.weight", "mlp.up_proj.weight"]))._unsafeUnwrap();
  }
  for (const [n, t] of sep.namedParameters()) if (!/(q|k|v|gate|up)_proj/.test(n)) fused.setParameter(n, ops.scale(t, 1))._unsafeUnwrap();
  expectClose(logitsOf(fused, ROWS), logitsOf(sep, ROWS), 1e-6, "fused vs separate");
  sep.dispose();
  fused.dispose();
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
