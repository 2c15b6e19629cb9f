// GaLore and APOLLO against float64 transcriptions of galore_torch's and apollo_torch's update rules
// (lowrank-reference.ts) over 5 steps with projection refreshes at steps 1, 3 and 5; untargeted
// parameters against lft's AdamW; state bytes against the formula; layer-wise mode against the
// normal one; a checkpoint round trip.
import { describe, expect, test } from "bun:test";
import { nativeSvd, type ParamGroup, setNativeSvd, type Tensor, tensor } from "../../../core/index.ts";
import { svdProjection } from "../../../plugins/optimizers/galore/svd-projection.ts";
import { AdamW, apolloEntry, galoreEntry } from "../../../plugins/optimizers/index.ts";
import { expectClose } from "../../helpers/compare.ts";
import { randomArray } from "../../helpers/random.ts";
import { flat, mat, RefApollo, RefGalore, type RefHyper } from "./lowrank-reference.ts";
import { setGrads } from "./set-grads.ts";

const NAMES = ["model.layers.0.self_attn.q_proj.weight", "model.layers.0.mlp.down_proj.weight", "model.layers.0.input_layernorm.weight"];
const SHAPES = [[6, 10], [9, 5], [5]] as const;
const HYPER: RefHyper = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, rank: 3, gap: 2 };
const STEPS = 5;

function makeParams(seed: number): Tensor[] {
  return SHAPES.map((s, i) =>
    tensor(
      randomArray(
        s.reduce((a, b) => a * b, 1),
        seed + i,
      ),
      [...s],
      { requiresGrad: true },
    ),
  );
}

function groupsOf(params: Tensor[], weightDecay: number): ParamGroup[] {
  return [{ name: "all", params: params, names: NAMES, lrScale: 1, weightDecay }];
}

function gradsAt(step: number): Float64Array[] {
  return SHAPES.map((s, i) =>
    randomArray(
      s.reduce((a, b) => a * b, 1),
      100 * step + i,
      -2,
      2,
    ),
  );
}

const settings = (options: Record<string, unknown>) => ({ lr: HYPER.lr, options: options as never, totalSteps: STEPS, accumulation: 1, clipNorm: 0 });

function run(entry: typeof galoreEntry, options: Record<string, unknown>, steps = STEPS) {
  const params = makeParams(1);
  const start = params.map((p) => Float64Array.from(p.toArray() as Float32Array));
  const opt = entry.build(groupsOf(params, HYPER.weightDecay), settings(options))._unsafeUnwrap();
  for (let s = 0; s < steps; s++) {
    setGrads(params, gradsAt(s));
    opt.update();
    opt.zeroGrad();
  }
  return { params, start, opt };
}

const galoreDefaults = { beta1: 0.9, beta2: 0.999, eps: 1e-8, rank: HYPER.rank, update_interval: HYPER.gap, target: "all", layerwise: false, scale: 0.25 };
const apolloDefaults = { ...galoreDefaults, scale: 4, proj: "random", proj_type: "std", scale_type: "channel", scale_front: false };

function deltaOf(now: ArrayLike<number>, start: Float64Array): Float64Array {
  return Float64Array.from(start, (x, i) => now[i]! - x);
}

describe("GaLore vs galore_torch (f64 reference)", () => {
  for (const projType of ["std", "reverse_std", "right", "left", "full"]) {
    test(`${STEPS} steps with refreshes, proj_type ${projType}`, () => {
      // With full, the projection of the gradient it was computed from is diag(s): Adam turns the
      // off-diagonal rounding noise (~1e-7, which differs between SVD codes) into ±1 unless eps is
      // well above it, in torch as here. So that case compares at eps 1e-2.
      const eps = projType === "full" ? 1e-2 : HYPER.eps;
      const { params, start, opt } = run(galoreEntry, { ...galoreDefaults, proj_type: projType, eps });
      for (const i of [0, 1]) {
        const [m, n] = SHAPES[i] as readonly [number, number];
        const ref = new RefGalore(mat(start[i]!, m, n), { ...HYPER, eps }, projType, galoreDefaults.scale);
        for (let s = 0; s < STEPS; s++) ref.update(mat(gradsAt(s)[i]!, m, n));
        expectClose(deltaOf(params[i]!.toArray() as Float32Array, start[i]!), deltaOf(flat(ref.p), start[i]!), 2e-4, `${NAMES[i]}`);
      }
      opt.dispose();
    });
  }

  test("without a native SVD (the float64 Jacobi fallback) the update is the same", () => {
    const lapack = nativeSvd();
    setNativeSvd(null);
    try {
      const { params, start, opt } = run(galoreEntry, { ...galoreDefaults, proj_type: "std" });
      const [m, n] = SHAPES[1] as readonly [number, number];
      const ref = new RefGalore(mat(start[1]!, m, n), HYPER, "std", galoreDefaults.scale);
      for (let s = 0; s < STEPS; s++) ref.update(mat(gradsAt(s)[1]!, m, n));
      expectClose(deltaOf(params[1]!.toArray() as Float32Array, start[1]!), deltaOf(flat(ref.p), start[1]!), 2e-4, NAMES[1]);
      opt.dispose();
    } finally {
      setNativeSvd(lapack);
    }
  });

  test("untargeted parameters get AdamW; norms are not targets", () => {
    const { params, opt } = run(galoreEntry, { ...galoreDefaults, proj_type: "std" });
    const plain = makeParams(1);
    const adam = new AdamW([{ params: [plain[2]!], weightDecay: HYPER.weightDecay }], { lr: HYPER.lr });
    for (let s = 0; s < STEPS; s++) {
      setGrads([plain[2]!], [gradsAt(s)[2]!]);
      adam.update();
      adam.zeroGrad();
    }
    expect(Array.from(params[2]!.toArray())).toEqual(Array.from(plain[2]!.toArray()));
    opt.dispose();
    adam.dispose();
  });

  test("target picks modules by name: only q_proj projected", () => {
    const { opt } = run(galoreEntry, { ...galoreDefaults, proj_type: "std", target: "q_proj" }, 1);
    const { tensors } = opt.exportState();
    expect(tensors.get("0.exp_avg")?.shape).toEqual([3, 10]);
    expect(tensors.get("1.exp_avg")?.shape).toEqual([9, 5]);
    expect(tensors.has("1.projection")).toBe(false);
    opt.dispose();
  });
});

test("GaLore without a native SVD on a large matrix (randomised SVD) finds the right top-r subspace", () => {
  // G = A·B (rank 4, strong) + small noise, [300, 150]: past the exact-SVD limit.
  const [m, n, r] = [300, 150, 4];
  const A = randomArray(m * r, 11);
  const B = randomArray(r * n, 12);
  const noise = randomArray(m * n, 13, -0.01, 0.01);
  const g = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = noise[i * n + j]!;
      for (let k = 0; k < r; k++) s += A[i * r + k]! * B[k * n + j]!;
      g[i * n + j] = s;
    }
  const lapack = nativeSvd();
  setNativeSvd(null);
  const p = svdProjection(g, m, n, r, "right", 1).right!;
  setNativeSvd(lapack);
  // span(P) must be B's row space (up to the noise): each row of B projected onto it keeps its norm.
  let worst = 0;
  for (let k = 0; k < r; k++) {
    const b = B.subarray(k * n, (k + 1) * n);
    let kept = 0;
    for (let i = 0; i < r; i++) {
      let d = 0;
      for (let j = 0; j < n; j++) d += p[i * n + j]! * b[j]!;
      kept += d * d;
    }
    const total = b.reduce((s, x) => s + x * x, 0);
    worst = Math.max(worst, 1 - kept / total);
  }
  expect(worst).toBeLessThan(1e-4);
});

describe("APOLLO vs apollo_torch (f64 reference)", () => {
  const variants = [
    { projType: "std", scaleType: "channel", scaleFront: false },
    { projType: "std", scaleType: "tensor", scaleFront: true },
    { projType: "left", scaleType: "channel", scaleFront: false },
    { projType: "right", scaleType: "tensor", scaleFront: false },
  ] as const;
  for (const v of variants) {
    test(`${STEPS} steps with refreshes, ${JSON.stringify(v)}`, () => {
      const { params, start, opt } = run(apolloEntry, { ...apolloDefaults, proj_type: v.projType, scale_type: v.scaleType, scale_front: v.scaleFront });
      for (const i of [0, 1]) {
        const [m, n] = SHAPES[i] as readonly [number, number];
        const ref = new RefApollo(mat(start[i]!, m, n), HYPER, { ...v, scale: apolloDefaults.scale }, i + 1);
        for (let s = 0; s < STEPS; s++) ref.update(mat(gradsAt(s)[i]!, m, n));
        expectClose(deltaOf(params[i]!.toArray() as Float32Array, start[i]!), deltaOf(flat(ref.p), start[i]!), 2e-4, `${NAMES[i]}`);
      }
      opt.dispose();
    });
  }

  test("APOLLO-Mini (rank 1, tensor-wise) matches too, and the limiter bounds the update's growth", () => {
    const h = { ...HYPER, rank: 1 };
    const params = makeParams(1);
    const start = params.map((p) => Float64Array.from(p.toArray() as Float32Array));
    const opt = apolloEntry.build(groupsOf(params, h.weightDecay), settings({ ...apolloDefaults, rank: 1, scale: 128, scale_type: "tensor" }))._unsafeUnwrap();
    const ref = new RefApollo(mat(start[0]!, 6, 10), h, { projType: "std", scale: 128, scaleType: "tensor", scaleFront: false }, 1);
    for (let s = 0; s < STEPS; s++) {
      // A gradient 10x larger at step 3: the limiter lets the update grow at most 1.01x.
      const grads = gradsAt(s).map((g) => (s === 3 ? g.map((x) => x * 10) : g));
      setGrads(params, grads);
      opt.update();
      opt.zeroGrad();
      ref.update(mat(grads[0]!, 6, 10));
    }
    expectClose(deltaOf(params[0]!.toArray() as Float32Array, start[0]!), deltaOf(flat(ref.p), start[0]!), 2e-4, "apollo-mini");
    opt.dispose();
  });
});

describe("state", () => {
  test("state bytes: the formula, what is allocated, and below AdamW's", () => {
    for (const [entry, options] of [
      [galoreEntry, { ...galoreDefaults, proj_type: "std" }],
      [galoreEntry, { ...galoreDefaults, proj_type: "full" }],
      [apolloEntry, apolloDefaults],
    ] as const) {
      const { opt, params } = run(entry, options, 1);
      const held = [...opt.exportState().tensors.values()].reduce((s, t) => s + 4 * t.numel, 0);
      const formula = entry.stateBytes(groupsOf(params, 0), options as never);
      expect(held).toBe(formula);
      // q_proj [6, 10] r 3 std: moments [3, 10] + P [6, 3]; down_proj [9, 5]: [9, 3] + [3, 5]; norm: 2·5.
      if (options.proj_type === "std") expect(formula).toBe(8 * 30 + 4 * 18 + 8 * 27 + 4 * 15 + 8 * 5);
      expect(formula).toBeLessThan(8 * (60 + 45 + 5));
      opt.dispose();
    }
  });

  test("export then import into a fresh optimizer continues identically", () => {
    for (const entry of [galoreEntry, apolloEntry]) {
      const options = entry === galoreEntry ? { ...galoreDefaults, proj_type: "std" } : apolloDefaults;
      const a = run(entry, options, 3);
      const { meta, tensors } = a.opt.exportState();
      const host = new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: Float32Array.from(t.toArray() as Float32Array) }]));
      const b = makeParams(9);
      for (const [i, p] of b.entries()) p.backend.upload(p, a.params[i]!.toArray() as Float32Array);
      const opt2 = entry.build(groupsOf(b, HYPER.weightDecay), settings(options))._unsafeUnwrap();
      opt2.importState(JSON.parse(JSON.stringify(meta)), host)._unsafeUnwrap();
      for (const [ps, opt] of [
        [a.params, a.opt],
        [b, opt2],
      ] as const) {
        setGrads(ps, gradsAt(7));
        opt.lr = HYPER.lr;
        opt.update();
        opt.zeroGrad();
      }
      for (const [i, p] of b.entries()) expect(Array.from(p.toArray())).toEqual(Array.from(a.params[i]!.toArray()));
      expect(opt2.importState({ ...meta, hyper: { ...meta.hyper, rank: 5 } }, host)._unsafeUnwrapErr().message).toContain(
        "saved with rank 5 but this run uses rank 3",
      );
      a.opt.dispose();
      opt2.dispose();
    }
  });
});

describe("layer-wise mode", () => {
  for (const entry of [galoreEntry, apolloEntry]) {
    test(`${entry.name}: steps during backward, frees each gradient, same result as the normal mode`, () => {
      const base = entry === galoreEntry ? { ...galoreDefaults, proj_type: "std" } : apolloDefaults;
      const normal = run(entry, base, 1);
      const params = makeParams(1);
      const opt = entry.build(groupsOf(params, HYPER.weightDecay), settings({ ...base, layerwise: true }))._unsafeUnwrap();
      const before = params.map((p) => Array.from(p.toArray()));
      setGrads(params, gradsAt(0));
      // Already stepped, and no gradient is left.
      expect(params.every((p) => p.grad === null)).toBe(true);
      expect(params.map((p) => Array.from(p.toArray()))).not.toEqual(before);
      opt.update();
      for (const [i, p] of params.entries()) expect(Array.from(p.toArray())).toEqual(Array.from(normal.params[i]!.toArray()));
      opt.dispose();
      // Disposed: the hooks are gone, so a later backward leaves gradients alone.
      setGrads(params, gradsAt(1));
      expect(params.every((p) => p.grad !== null)).toBe(true);
      normal.opt.dispose();
    });
  }

  test("layer-wise with accumulation or clipping is a build error", () => {
    const params = makeParams(1);
    const o = { ...galoreDefaults, proj_type: "std", layerwise: true };
    expect(galoreEntry.build(groupsOf(params, 0), { ...settings(o), accumulation: 2 })._unsafeUnwrapErr().message).toContain("layerwise needs accumulation 1");
    expect(apolloEntry.build(groupsOf(params, 0), { ...settings({ ...apolloDefaults, layerwise: true }), clipNorm: 1 })._unsafeUnwrapErr().message).toContain(
      "layerwise cannot clip",
    );
  });
});
