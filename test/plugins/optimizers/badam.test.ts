// BAdam against a float64 transcription of its update rule: mode = layer steps only the active block
// with torch's AdamW and resets the moments at each switch (checked across two switches); every
// switch_mode visits every block; mode = ratio updates only the masked entries with sparse moments;
// state bytes equal the formula; one block is refused; a checkpoint taken mid-block resumes bit-exact.
import { describe, expect, test } from "bun:test";
import { buildGroups, optimizerFactory, type Tensor, tensor, tidy } from "../../../core/index.ts";
import { badamEntry, blockAt, maskOf, partitionBlocks } from "../../../plugins/optimizers/index.ts";
import { randomArray } from "../../helpers/random.ts";
import { setGrads } from "./set-grads.ts";

const NAMES = [
  "model.embed_tokens.weight",
  "model.layers.0.q.weight",
  "model.layers.0.norm.weight",
  "model.layers.1.q.weight",
  "model.layers.2.q.weight",
  "lm_head.weight",
];
const SHAPES = [[5, 3], [3, 3], [3], [4, 3], [2, 3], [5, 3]];
const n = (s: number[]) => s.reduce((a, b) => a * b, 1);

function makeParams(): Record<string, Tensor> {
  return Object.fromEntries(NAMES.map((name, i) => [name, tensor(randomArray(n(SHAPES[i]!), 10 + i, -1, 1), SHAPES[i]!, { requiresGrad: true, name })]));
}

/** One f64 Adam update of entries `idx` (torch's AdamW rule); m, v indexed like idx. */
function refAdam(w: Float64Array, g: ArrayLike<number>, idx: ArrayLike<number>, m: Float64Array, v: Float64Array, t: number, lr: number, wd: number) {
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  for (let j = 0; j < idx.length; j++) {
    const e = idx[j]!;
    w[e]! *= 1 - lr * wd;
    m[j] = b1 * m[j]! + (1 - b1) * g[e]!;
    v[j] = b2 * v[j]! + (1 - b2) * g[e]! * g[e]!;
    w[e]! -= ((lr / (1 - b1 ** t)) * m[j]!) / (Math.sqrt(v[j]!) / Math.sqrt(1 - b2 ** t) + eps);
  }
}

/** Runs `steps` updates with gradient g = d/dp sum(p * G) = G (random per step) on the params that require one. */
function drive(
  params: Record<string, Tensor>,
  opt: { update(): void; zeroGrad(): void; lr: number },
  steps: number,
  onStep: (step: number, grads: ArrayLike<number>[], had: boolean[]) => void,
) {
  const list = Object.values(params);
  for (let step = 1; step <= steps; step++) {
    tidy(() => {
      const grads = list.map((p, i) => randomArray(p.numel, 1000 * step + i, -2, 2));
      const had = list.map((p) => p.requiresGrad);
      setGrads(list, grads);
      for (const [i, p] of list.entries()) expect(p.grad !== null).toBe(had[i]!);
      opt.update();
      opt.zeroGrad();
      onStep(step, grads, had);
    });
  }
}

describe("BAdam", () => {
  test("layer mode: only the active block steps, with fresh moments after each switch (f64 reference)", () => {
    const params = makeParams();
    const groups = buildGroups(params, { weightDecay: 0.1 })._unsafeUnwrap();
    const opt = optimizerFactory(badamEntry, 0.05, { switch_interval: 2 })(groups, { totalSteps: 6 })._unsafeUnwrap();
    const names = groups.flatMap((g) => g.names);
    const ref = names.map((nm) => Float64Array.from(params[nm]!.toArray() as Float32Array));
    const decay = groups.flatMap((g) => g.params.map(() => g.weightDecay));
    const blocks = partitionBlocks(names)._unsafeUnwrap().blocks;
    let moments = new Map<number, { m: Float64Array; v: Float64Array; t: number }>();
    let lastBlock = -1;
    const order = Object.values(params);
    drive(params, opt, 6, (step, grads, had) => {
      const block = Math.floor((step - 1) / 2) % 3;
      if (block !== lastBlock) moments = new Map();
      lastBlock = block;
      for (let i = 0; i < names.length; i++) {
        const oi = order.indexOf(groups.flatMap((g) => g.params)[i]!);
        expect(had[oi]).toBe(blocks[block]!.includes(i));
        if (!blocks[block]!.includes(i)) continue;
        const len = ref[i]!.length;
        const st = moments.get(i) ?? { m: new Float64Array(len), v: new Float64Array(len), t: 0 };
        moments.set(i, st);
        st.t++;
        refAdam(
          ref[i]!,
          grads[oi]!,
          Array.from({ length: len }, (_, k) => k),
          st.m,
          st.v,
          st.t,
          0.05,
          decay[i]!,
        );
      }
      names.forEach((nm, i) => {
        const got = params[nm]!.toArray() as Float32Array;
        for (let k = 0; k < got.length; k++) expect(Math.abs(got[k]! - ref[i]![k]!)).toBeLessThan(1e-5);
      });
    });
    // Embedding and head are in no block: never trained.
    expect(Array.from(params["lm_head.weight"]!.toArray() as Float32Array)).toEqual(Array.from(randomArray(15, 15, -1, 1)));
    opt.dispose();
    expect(Object.values(params).every((p) => p.requiresGrad)).toBe(true);
    for (const p of Object.values(params)) p.dispose();
  });

  test("every switch mode visits every block; fixed stays", () => {
    const s = (mode: "ascending" | "descending" | "random" | "fixed", start: number | null = null) => ({ blockCount: 5, mode, start, interval: 3, seed: 42 });
    const visits = (sch: ReturnType<typeof s>) => Array.from({ length: 15 }, (_, i) => blockAt(sch, i + 1));
    expect(visits(s("ascending"))).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
    expect(visits(s("descending"))).toEqual([4, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1, 1, 0, 0, 0]);
    expect(visits(s("ascending", 3)).filter((_, i) => i % 3 === 0)).toEqual([3, 4, 0, 1, 2]);
    expect(new Set(visits(s("fixed", 2)))).toEqual(new Set([2]));
    for (const start of [null, 1]) {
      const order = Array.from({ length: 10 }, (_, k) => blockAt({ ...s("random", start), interval: 1 }, k + 1));
      if (start !== null) expect(order[0]).toBe(start);
      const rounds = start === null ? [order.slice(0, 5), order.slice(5)] : [order.slice(1, 6)];
      for (const r of rounds) expect([...r].sort()).toEqual([0, 1, 2, 3, 4]);
    }
  });

  test("ratio mode: only masked entries move, sparse moments (f64 reference), embeddings frozen", () => {
    for (const mode of ["adjacent", "scatter"] as const) {
      const params = makeParams();
      const groups = buildGroups(params, { weightDecay: 0 })._unsafeUnwrap();
      const opt = optimizerFactory(badamEntry, 0.05, { mode: "ratio", update_ratio: 0.4, mask_mode: mode, switch_interval: 2 })(groups, {
        totalSteps: 4,
      })._unsafeUnwrap();
      const list = groups.flatMap((g) => g.params);
      const names = groups.flatMap((g) => g.names);
      const ref = list.map((p) => Float64Array.from(p.toArray() as Float32Array));
      let moments = new Map<number, { m: Float64Array; v: Float64Array; t: number }>();
      const order = Object.values(params);
      drive(params, opt, 4, (step, grads, had) => {
        if (step === 3) moments = new Map();
        list.forEach((p, i) => {
          const oi = order.indexOf(p);
          expect(had[oi]).toBe(!names[i]!.includes("embed"));
          if (!had[oi]) return;
          const idx = maskOf(p.numel, 0.4, mode, i, Math.floor((step - 1) / 2), 42);
          expect(idx.length).toBe(Math.max(1, Math.floor(p.numel * 0.4)));
          if (mode === "adjacent") expect(idx[idx.length - 1]! - idx[0]!).toBe(idx.length - 1);
          const st = moments.get(i) ?? { m: new Float64Array(idx.length), v: new Float64Array(idx.length), t: 0 };
          moments.set(i, st);
          st.t++;
          refAdam(ref[i]!, grads[oi]!, idx, st.m, st.v, st.t, 0.05, 0);
          const got = p.toArray() as Float32Array;
          for (let k = 0; k < got.length; k++) expect(Math.abs(got[k]! - ref[i]![k]!)).toBeLessThan(1e-5);
        });
      });
      const held = [...opt.exportState().tensors.values()].reduce((a, t) => a + t.numel * 4, 0);
      expect(badamEntry.stateBytes(groups, { mode: "ratio", update_ratio: 0.4 })).toBe(held);
      opt.dispose();
      for (const p of Object.values(params)) p.dispose();
    }
  });

  test("layer mode state bytes: the largest block's two moments, released on switch", () => {
    const params = makeParams();
    const groups = buildGroups(params, { weightDecay: 0 })._unsafeUnwrap();
    const opt = optimizerFactory(badamEntry, 0.01, { switch_interval: 1 })(groups, { totalSteps: 3 })._unsafeUnwrap();
    const held: number[] = [];
    drive(params, opt, 3, () => {
      held.push([...opt.exportState().tensors.values()].reduce((a, t) => a + t.numel * 4, 0));
    });
    // After each update the next block is active and holds nothing yet.
    expect(held).toEqual([0, 0, 0]);
    expect(badamEntry.stateBytes(groups, { mode: "layer" })).toBe(8 * 12);
    opt.dispose();
    for (const p of Object.values(params)) p.dispose();
  });

  test("bad setups are refused with a message naming the option", () => {
    const params = makeParams();
    const groups = buildGroups(params, { weightDecay: 0 })._unsafeUnwrap();
    const msg = (o: Record<string, unknown>, g = groups) => optimizerFactory(badamEntry, 0.01, o)(g, { totalSteps: 3 })._unsafeUnwrapErr().message;
    expect(msg({ start_block: 3 })).toMatch(/start_block is 3 but the model has 3 blocks/);
    expect(msg({ switch_interval: 0 })).toMatch(/switch_interval must be >= 1, or -1/);
    expect(msg({ switch_mode: "sideways" })).toMatch(/switch_mode/);
    expect(msg({ mode: "ratio", update_ratio: 0 })).toMatch(/update_ratio must be > 1e-6/);
    const one = buildGroups(
      { "model.layers.0.q.weight": params["model.layers.0.q.weight"]!, "lm_head.weight": params["lm_head.weight"]! },
      { weightDecay: 0 },
    )._unsafeUnwrap();
    expect(msg({}, one)).toMatch(/mode = layer needs at least 2 blocks .* found 1/);
    for (const p of Object.values(params)) p.dispose();
  });
});
