// Muon against a float64 transcription of LLaMA-Factory's Muon (Moonlight's variant): Nesterov momentum,
// quintic Newton–Schulz on the wide orientation, lr · 0.2 · √max(rows, cols), decoupled decay; AdamW
// with eps outside the bias correction for embeddings, head and 1-D tensors. Five steps on small
// tensors (a tall, a wide, an embedding, a norm); f32 against f64 within 1e-4 (five NS iterations of
// f32 matmuls on entries of size ~1 lose a few ulps each). State bytes equal the formula.
import { describe, expect, test } from "bun:test";
import { buildGroups, optimizerFactory, type Tensor, tensor, tidy } from "../../../core/index.ts";
import { muonEntry, orthogonalise } from "../../../plugins/optimizers/index.ts";
import { randomArray } from "../../helpers/random.ts";
import { setGrads } from "./set-grads.ts";

type M = { r: number; c: number; d: Float64Array };
const mm = (a: M, b: M, tb = false): M => {
  const [r, k, c] = [a.r, a.c, tb ? b.r : b.c];
  const d = new Float64Array(r * c);
  for (let i = 0; i < r; i++)
    for (let j = 0; j < c; j++) {
      let s = 0;
      for (let x = 0; x < k; x++) s += a.d[i * k + x]! * (tb ? b.d[j * b.c + x]! : b.d[x * b.c + j]!);
      d[i * c + j] = s;
    }
  return { r, c, d };
};
const tr = (a: M): M => {
  const d = new Float64Array(a.r * a.c);
  for (let i = 0; i < a.r; i++) for (let j = 0; j < a.c; j++) d[j * a.r + i] = a.d[i * a.c + j]!;
  return { r: a.c, c: a.r, d };
};

function refNS(g: M, steps: number): M {
  let x = g.r > g.c ? tr(g) : { ...g, d: Float64Array.from(g.d) };
  const norm = Math.sqrt(x.d.reduce((s, v) => s + v * v, 0)) + 1e-7;
  x = { ...x, d: x.d.map((v) => v / norm) };
  for (let i = 0; i < steps; i++) {
    const a = mm(x, x, true);
    const aa = mm(a, a);
    const b = { ...a, d: a.d.map((v, j) => -4.775 * v + 2.0315 * aa.d[j]!) };
    const bx = mm(b, x);
    x = { ...x, d: x.d.map((v, j) => 3.4445 * v + bx.d[j]!) };
  }
  return g.r > g.c ? tr(x) : x;
}

const NAMES = ["model.layers.0.mlp.up_proj.weight", "model.layers.0.self_attn.o_proj.weight", "model.embed_tokens.weight", "model.norm.weight"];
const SHAPES = [[6, 3], [3, 5], [7, 3], [3]];
const n = (s: number[]) => s.reduce((a, b) => a * b, 1);

describe("Muon", () => {
  test("orthogonalise matches the f64 Newton–Schulz, tall and wide", () => {
    for (const [r, c] of [
      [6, 3],
      [3, 5],
    ] as const) {
      const g = randomArray(r * c, r * 10 + c, -1, 1);
      const got = tidy(() => {
        const t = tensor(g, [r, c]);
        const x = orthogonalise(t, 5);
        const out = x.toArray() as Float32Array;
        x.dispose();
        return out;
      });
      const want = refNS({ r, c, d: Float64Array.from(g) }, 5);
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i]! - want.d[i]!)).toBeLessThan(1e-5);
      // Singular values are pushed toward 1 (the reference's S' ~ U(0.5, 1.5)): the Gram matrix's diagonal is O(1).
      const gram = mm(
        { r: Math.min(r, c), c: Math.max(r, c), d: r > c ? tr(want).d : want.d },
        { r: Math.min(r, c), c: Math.max(r, c), d: r > c ? tr(want).d : want.d },
        true,
      );
      for (let i = 0; i < gram.r; i++) expect(gram.d[i * gram.c + i]!).toBeGreaterThan(0.25);
    }
  });

  test("5 steps vs the f64 reference update; state bytes equal the formula", () => {
    const [lr, wd, mu, b1, b2, eps] = [0.02, 0.1, 0.95, 0.9, 0.95, 1e-3];
    const params: Record<string, Tensor> = Object.fromEntries(
      NAMES.map((name, i) => [name, tensor(randomArray(n(SHAPES[i]!), 50 + i, -1, 1), SHAPES[i]!, { requiresGrad: true, name })]),
    );
    const groups = buildGroups(params, { weightDecay: wd })._unsafeUnwrap();
    const opt = optimizerFactory(muonEntry, lr, { beta2: b2, eps })(groups, { totalSteps: 5 })._unsafeUnwrap();
    const list = groups.flatMap((g) => g.params);
    const names = groups.flatMap((g) => g.names);
    const decay = groups.flatMap((g) => g.params.map(() => g.weightDecay));
    const ref = list.map((p) => Float64Array.from(p.toArray() as Float32Array));
    const m = list.map((p) => new Float64Array(p.numel));
    const v = list.map((p) => new Float64Array(p.numel));
    for (let step = 1; step <= 5; step++) {
      tidy(() => {
        const grads = list.map((p, i) => randomArray(p.numel, 700 * step + i, -1, 1));
        setGrads(list, grads);
        opt.update();
        opt.zeroGrad();
        list.forEach((p, i) => {
          const g = grads[i]!;
          const w = ref[i]!;
          if (p.ndim === 2 && !names[i]!.includes("embed")) {
            for (let e = 0; e < g.length; e++) m[i]![e] = mu * m[i]![e]! + g[e]!;
            const u = Float64Array.from(g, (x, e) => x + mu * m[i]![e]!);
            const x = refNS({ r: p.shape[0]!, c: p.shape[1]!, d: u }, 5);
            const adj = lr * 0.2 * Math.sqrt(Math.max(p.shape[0]!, p.shape[1]!));
            for (let e = 0; e < w.length; e++) w[e] = w[e]! * (1 - lr * decay[i]!) - adj * x.d[e]!;
          } else {
            for (let e = 0; e < w.length; e++) {
              m[i]![e] = m[i]![e]! + (1 - b1) * (g[e]! - m[i]![e]!);
              v[i]![e] = v[i]![e]! + (1 - b2) * (g[e]! * g[e]! - v[i]![e]!);
              const scale = (1 - b1 ** step) / Math.sqrt(1 - b2 ** step);
              w[e] = w[e]! * (1 - lr * decay[i]!) - (lr / scale) * (m[i]![e]! / (eps + Math.sqrt(v[i]![e]!)));
            }
          }
          const got = p.toArray() as Float32Array;
          for (let e = 0; e < got.length; e++) expect(Math.abs(got[e]! - w[e]!)).toBeLessThan(1e-4);
        });
      });
    }
    const held = [...opt.exportState().tensors.values()].reduce((a, t) => a + t.numel * 4, 0);
    expect(held).toBe(4 * (18 + 15) + 8 * (21 + 3));
    expect(muonEntry.stateBytes(groups, {})).toBe(held);
    opt.dispose();
    for (const p of Object.values(params)) p.dispose();
  });

  test("bad options are refused by name", () => {
    const p = { "w.weight": tensor(randomArray(6, 1), [2, 3], { requiresGrad: true }) };
    const groups = buildGroups(p, { weightDecay: 0 })._unsafeUnwrap();
    const msg = (o: Record<string, unknown>) => optimizerFactory(muonEntry, 0.01, o)(groups, { totalSteps: 1 })._unsafeUnwrapErr().message;
    expect(msg({ momentum: 1 })).toMatch(/optimizer "muon": momentum must be in \[0, 1\), found 1/);
    expect(msg({ ns_steps: 0 })).toMatch(/ns_steps/);
    p["w.weight"].dispose();
  });
});
