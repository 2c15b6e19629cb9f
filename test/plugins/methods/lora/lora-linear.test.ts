// LoraLinear against float64 references: the LoRA and DoRA forwards (with bias and with dropout masks),
// gradients of A, B and DoRA's magnitude by central differences, PEFT's initialisation, reproducible
// dropout (also under gradient checkpointing), and fuse = the adapted layer. Tolerances: outputs 1e-5
// relative (f32 kernels vs f64 reference on O(1) data); gradients 1e-4 (f32 accumulation over a few
// dozen terms against differences of the f64 reference, whose own error is ~1e-8).
import { expect, test } from "bun:test";
import { backward, MethodError, ops, TrainRng, tensor, tidy } from "../../../../core/index.ts";
import { LoraLinear, lora } from "../../../../plugins/methods/lora/index.ts";
import { randomModel, specOf } from "../../../core/nn/helpers.ts";
import { expectClose } from "../../../helpers/compare.ts";
import { numericGrad } from "../../../helpers/gradcheck.ts";
import { randomArray } from "../../../helpers/random.ts";
import { family, perturbTrainable } from "../helpers.ts";
import { doraNorm, linearOf, type RefLayer, refLayer, runtimeOf } from "./reference.ts";

const [n, inF, out, r] = [5, 7, 6, 3];
const x = randomArray(n * inF, 1);
const w = randomArray(out * inF, 2);
const bias = randomArray(out, 3);
const a = randomArray(r * inF, 4);
const b = randomArray(out * r, 5);
const m = randomArray(out, 6, 0.5, 2);
const proj = randomArray(n * out, 7);

/** A LoraLinear over a fresh Linear with the test's A, B (and m). */
function layer(o: { scale: number; dora?: boolean; dropout?: number; withBias?: boolean; seed?: bigint }) {
  const lin = linearOf(inF, out, w, o.withBias ? bias : undefined);
  const runtime = runtimeOf(o.seed ?? 0n);
  const l = LoraLinear.fromBase(lin, { rank: r, scale: o.scale, dropout: o.dropout ?? 0, dora: o.dora ?? false }, runtime, {
    kind: "none",
    seed: 0n,
    offset: 0n,
  });
  l.setParameter("lora_A.weight", tensor(a, [r, inF]))._unsafeUnwrap();
  l.setParameter("lora_B.weight", tensor(b, [out, r]))._unsafeUnwrap();
  if (o.dora) l.setParameter("lora_magnitude_vector", tensor(m, [out]))._unsafeUnwrap();
  return { lin, l, runtime };
}

const forward = (lin: ReturnType<typeof linearOf>) => tidy(() => lin.forward(tensor(x, [n, inF])).toArray());
const refOf = (scale: number, o: { withBias?: boolean; mask?: ArrayLike<number> } = {}): RefLayer => ({
  n,
  inF,
  out,
  r,
  scale,
  w,
  ...(o.withBias ? { bias } : {}),
  ...(o.mask ? { mask: o.mask } : {}),
});

test("LoRA forward is base(x) + scale·B·A·x (float64 reference), with and without bias", () => {
  for (const withBias of [false, true]) {
    const { lin } = layer({ scale: 2, withBias });
    expectClose(forward(lin), refLayer(refOf(2, { withBias }), x, a, b), 1e-5, `lora forward (bias ${withBias})`);
    lin.dispose();
  }
});

test("LoRA gradients of A and B match central differences of the float64 reference", () => {
  const { lin, l } = layer({ scale: 1.5, withBias: true });
  tidy(() => backward(lin.forward(tensor(x, [n, inF])), tensor(proj, [n, out])));
  const ref = refOf(1.5, { withBias: true });
  const f = (p: Float64Array[]) => refLayer(ref, x, p[0]!, p[1]!);
  const inputs = [Float64Array.from(a), Float64Array.from(b)];
  expectClose(l.lora_A.weight.grad!.toArray(), numericGrad(f, inputs, 0, proj), 1e-4, "dL/dA");
  expectClose(l.lora_B.weight.grad!.toArray(), numericGrad(f, inputs, 1, proj), 1e-4, "dL/dB");
  // The base stays frozen: a Linear's own weight is not trained by the adapter.
  expect(lin.weight.grad).toBeNull();
  lin.dispose();
});

test("DoRA forward is m/‖W + s·B·A‖ ⊙ (W + s·B·A)·x + bias (float64 reference)", () => {
  const { lin } = layer({ scale: 2, dora: true, withBias: true });
  const norm = doraNorm(refOf(2), a, b);
  expectClose(forward(lin), refLayer(refOf(2, { withBias: true }), x, a, b, { m, norm }), 1e-5, "dora forward");
  lin.dispose();
});

test("DoRA gradients of m, A and B match central differences with the row norm held constant (PEFT detaches it)", () => {
  const { lin, l } = layer({ scale: 2, dora: true, withBias: true });
  tidy(() => backward(lin.forward(tensor(x, [n, inF])), tensor(proj, [n, out])));
  const ref = refOf(2, { withBias: true });
  const norm = doraNorm(ref, a, b);
  const f = (p: Float64Array[]) => refLayer(ref, x, p[0]!, p[1]!, { m: p[2]!, norm });
  const inputs = [Float64Array.from(a), Float64Array.from(b), Float64Array.from(m)];
  expectClose(l.lora_A.weight.grad!.toArray(), numericGrad(f, inputs, 0, proj), 1e-4, "dL/dA");
  expectClose(l.lora_B.weight.grad!.toArray(), numericGrad(f, inputs, 1, proj), 1e-4, "dL/dB");
  expectClose(l.magnitudeVector!.grad!.toArray(), numericGrad(f, inputs, 2, proj), 1e-4, "dL/dm");
  lin.dispose();
});

test("PEFT initialisation: A kaiming-uniform(a=sqrt(5)) in ±1/sqrt(in), B zero, each layer its own draw; DoRA starts at m = ‖W‖", () => {
  const lin1 = linearOf(inF, out, w);
  const lin2 = linearOf(inF, out, w);
  const cfg = { rank: r, scale: 2, dropout: 0, dora: true };
  const l1 = LoraLinear.fromBase(lin1, cfg, runtimeOf(), { kind: "kaiming", seed: 11n, offset: 0n });
  const l2 = LoraLinear.fromBase(lin2, cfg, runtimeOf(), { kind: "kaiming", seed: 11n, offset: 1n << 32n });
  const a1 = l1.lora_A.weight.toArray();
  const bound = 1 / Math.sqrt(inF);
  expect(a1.every((v) => Math.abs(v) <= bound)).toBe(true);
  expect(Math.max(...a1.map(Math.abs))).toBeGreaterThan(0.5 * bound);
  expect(l1.lora_B.weight.toArray().every((v) => v === 0)).toBe(true);
  expect([...a1]).not.toEqual([...l2.lora_A.weight.toArray()]);
  // Same seed and offset: the same draw.
  const lin3 = linearOf(inF, out, w);
  const l3 = LoraLinear.fromBase(lin3, cfg, runtimeOf(), { kind: "kaiming", seed: 11n, offset: 0n });
  expect([...l3.lora_A.weight.toArray()]).toEqual([...a1]);
  // m = row norms of W (B = 0), so the wrapped layer computes exactly what the base did.
  expectClose(l1.magnitudeVector!.toArray(), doraNorm(refOf(2), a1, new Float64Array(out * r)), 1e-6, "initial magnitude");
  expectClose(forward(lin1), refLayer(refOf(0), x, a, b), 1e-5, "DoRA at init = base");
  for (const l of [lin1, lin2, lin3]) l.dispose();
});

test("dropout acts on the adapter's input only, with the mask drawn at the offset reserved from the bound stream", () => {
  const p = 0.4;
  for (const dora of [false, true]) {
    const { lin, runtime } = layer({ scale: 2, dora, dropout: p, withBias: true });
    const rng = new TrainRng(9n, 5n);
    runtime.bound = rng;
    runtime.epoch = 1;
    const y1 = forward(lin);
    expect(rng.position).toBe(5n + BigInt(Math.ceil((n * inF) / 4)));
    // The mask the layer used: dropout of ones at the reserved (seed, offset).
    const mask = tidy(() => ops.dropout(tensor(new Float32Array(n * inF).fill(1), [n * inF]), { p, seed: 9n, offset: 5n }).toArray());
    expect(mask.some((v) => v === 0) && mask.some((v) => v !== 0)).toBe(true);
    const ref = refOf(2, { withBias: true, mask });
    const dref = dora ? { m, norm: doraNorm(refOf(2), a, b) } : undefined;
    expectClose(y1, refLayer(ref, x, a, b, dref), 1e-5, `dropout forward (dora ${dora})`);
    // Same epoch (a recomputation): the same mask; next epoch: a new one.
    expect([...forward(lin)]).toEqual([...y1]);
    runtime.epoch = 2;
    expect([...forward(lin)]).not.toEqual([...y1]);
    // Not training: no dropout at all.
    runtime.training = false;
    expectClose(forward(lin), refLayer(refOf(2, { withBias: true }), x, a, b, dref), 1e-5, "eval forward");
    lin.dispose();
  }
});

test("without a bound stream every call draws fresh masks, reproducibly from the method's seed", () => {
  const first = layer({ scale: 2, dropout: 0.5, seed: 4n });
  const y1 = forward(first.lin);
  const y2 = forward(first.lin);
  expect([...y2]).not.toEqual([...y1]);
  const again = layer({ scale: 2, dropout: 0.5, seed: 4n });
  expect([...forward(again.lin)]).toEqual([...y1]);
  first.lin.dispose();
  again.lin.dispose();
});

test("gradient checkpointing with LoRA dropout gives the gradients of the plain run when beginForward fixes the masks", () => {
  const grads = (checkpointing: boolean): Float32Array[] => {
    const model = randomModel(specOf(), 3);
    const applied = lora.apply(model, { rank: 4, dropout: 0.3, targets: ["all"] }, family, { seed: 5 })._unsafeUnwrap();
    perturbTrainable(model, 8);
    model.gradientCheckpointing = checkpointing;
    applied.beginForward(new TrainRng(21n));
    const ids = tensor([1, 5, 9, 13, 2, 7], [1, 6], { dtype: "i32" });
    tidy(() => {
      const y = model.forward(ids);
      backward(ops.mean(ops.mul(y, y)));
    });
    const out = Object.values(applied.params).map((t) => t.grad!.toArray() as Float32Array);
    model.dispose();
    return out;
  };
  const plain = grads(false);
  const recomputed = grads(true);
  expect(plain.length).toBe(2 * 7 * 2);
  for (const [i, g] of plain.entries()) expectClose(recomputed[i]!, g, 1e-6, `grad ${i}`);
  // The masks matter: with dropout the A gradients differ from a run with other masks.
  expect(plain.some((g) => g.some((v) => v !== 0))).toBe(true);
});

test("LoRA dropout under gradient checkpointing without beginForward is refused (the recomputation would draw other masks)", () => {
  const model = randomModel(specOf(), 3);
  lora.apply(model, { rank: 2, dropout: 0.1 }, family)._unsafeUnwrap();
  model.gradientCheckpointing = true;
  const ids = tensor([1, 5, 9], [1, 3], { dtype: "i32" });
  expect(() => tidy(() => backward(ops.mean(model.forward(ids))))).toThrow(MethodError);
  model.dispose();
});

test("fuse writes W + s·B·A (DoRA: rescaled rows) into the base weight: the plain layer then computes the adapted output", () => {
  for (const dora of [false, true]) {
    const { lin, l } = layer({ scale: 2, dora, withBias: true });
    const adapted = forward(lin);
    l.fuse();
    expect(lin.adapter).toBeNull();
    expect(l.lora_A.namedParameters()).toEqual([]);
    expectClose(forward(lin), adapted, 1e-5, `fused (dora ${dora})`);
    lin.dispose();
  }
  // A half-precision base stays half precision.
  const lin = linearOf(inF, out, w);
  lin.setParameter("weight", tensor(w, [out, inF], { dtype: "bf16" }))._unsafeUnwrap();
  const l = LoraLinear.fromBase(lin, { rank: r, scale: 1, dropout: 0, dora: false }, runtimeOf(), { kind: "kaiming", seed: 1n, offset: 0n });
  l.fuse();
  expect(lin.weight.dtype).toBe("bf16");
  lin.dispose();
});
