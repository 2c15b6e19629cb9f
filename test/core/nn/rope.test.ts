// RoPE scaling (linear, dynamic NTK, llama3) against the formulas written out here, and a model with each
// scaling against the float64 reference decoder fed those reference frequencies.
import { expect, test } from "bun:test";
import { type HfConfig, noGrad, ropeParameters, tensor, tidy } from "../../../core/index.ts";
import { llama } from "../../../plugins/models/llama.ts";
import { relError } from "../../helpers/compare.ts";
import { flat, plainInvFreq, randomModel, refConfigOf, TEST_CONFIG, weightsOf } from "./helpers.ts";
import { refForward } from "./ref-decoder.ts";

/** Meta's `apply_scaling` (llama-models, Llama 3.1) as published, for one list of frequencies. */
function metaApplyScaling(freqs: number[], factor: number, low: number, high: number, oldContext: number): number[] {
  const lowWavelen = oldContext / low;
  const highWavelen = oldContext / high;
  return freqs.map((freq) => {
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highWavelen) return freq;
    if (wavelen > lowWavelen) return freq / factor;
    const smooth = (oldContext / wavelen - low) / (high - low);
    return ((1 - smooth) * freq) / factor + smooth * freq;
  });
}

const f32 = (xs: number[]) => Float32Array.from(xs);

test("linear scaling divides every frequency by the factor", () => {
  const p = ropeParameters({ theta: 10000, rotaryDim: 64, maxPositionEmbeddings: 4096, scaling: { type: "linear", factor: 4 } });
  expect(relError(p.invFreq, f32(plainInvFreq(10000, 64).map((f) => f / 4)))).toBeLessThan(1e-7);
  expect(p.attentionScaling).toBe(1);
});

test("llama3 scaling matches Meta's apply_scaling for Llama 3.1 8B (theta 5e5, head 128, factor 8)", () => {
  const p = ropeParameters({
    theta: 500000,
    rotaryDim: 128,
    maxPositionEmbeddings: 131072,
    scaling: { type: "llama3", factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 },
  });
  const plain = plainInvFreq(500000, 128);
  expect(relError(p.invFreq, f32(metaApplyScaling(plain, 8, 1, 4, 8192)))).toBeLessThan(1e-7);
  // The three bands: high frequencies untouched, low ones divided by 8, a ramp between.
  expect(p.invFreq[0]).toBe(1);
  expect(p.invFreq[63]! / Math.fround(plain[63]!)).toBeCloseTo(1 / 8, 6);
  const ratios = [...p.invFreq].map((f, i) => f / plain[i]!);
  const ramp = ratios.filter((r) => r < 0.999999 && r > 0.125001);
  expect(ramp.length).toBeGreaterThan(0);
  expect(ratios.filter((r) => Math.abs(r - 1) < 1e-6).length + ratios.filter((r) => Math.abs(r - 0.125) < 1e-6).length + ramp.length).toBe(64);
});

test("dynamic NTK keeps the plain frequencies up to max_position_embeddings and grows the base past it", () => {
  const spec = { theta: 10000, rotaryDim: 32, maxPositionEmbeddings: 2048, scaling: { type: "dynamic" as const, factor: 2 } };
  expect(relError(ropeParameters(spec, 100).invFreq, f32(plainInvFreq(10000, 32)))).toBeLessThan(1e-7);
  expect(relError(ropeParameters(spec, 2048).invFreq, f32(plainInvFreq(10000, 32)))).toBeLessThan(1e-7);
  // seq 4096 = 2 x max with factor 2: base * (2 * 2 - 1)^(d / (d - 2)).
  const grown = 10000 * 3 ** (32 / 30);
  expect(relError(ropeParameters(spec, 4096).invFreq, f32(plainInvFreq(grown, 32)))).toBeLessThan(1e-6);
});

const SEQ = [[4, 8, 15, 16, 23, 35, 39]];

function modelVsReference(config: HfConfig, invFreq: number[]): number {
  const spec = llama.fromConfig(config)._unsafeUnwrap();
  const model = randomModel(spec, 21);
  const got = noGrad(() => tidy(() => model.forward(tensor(SEQ.flat(), [1, 7], { dtype: "i32" })).toArray()));
  const want = flat(refForward(refConfigOf(spec, invFreq), weightsOf(model), { ids: SEQ }));
  model.dispose();
  return relError(got, want);
}

test("a model with each rope_scaling type matches the reference given that type's frequencies", () => {
  const plain = plainInvFreq(10000, 8);
  // linear
  expect(
    modelVsReference(
      { ...TEST_CONFIG, rope_scaling: { type: "linear", factor: 3 } },
      plain.map((f) => f / 3),
    ),
  ).toBeLessThan(1e-4);
  // llama3 with bands chosen so the 4 frequencies (wavelengths 6.3, 63, 628, 6283) hit all three branches
  const l3 = { rope_type: "llama3", factor: 4, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 };
  expect(modelVsReference({ ...TEST_CONFIG, rope_scaling: l3 }, metaApplyScaling(plain, 4, 1, 4, 64))).toBeLessThan(1e-4);
  // dynamic: 7 positions past a max of 4 grow the base to theta * (2 * 7 / 4 - 1)^(8 / 6)
  const dyn = { ...TEST_CONFIG, max_position_embeddings: 4, rope_scaling: { type: "dynamic", factor: 2 } };
  expect(modelVsReference(dyn, plainInvFreq(10000 * ((2 * 7) / 4 - 1) ** (8 / 6), 8))).toBeLessThan(1e-4);
  // ... and the scaling is not a no-op: with plain frequencies the reference disagrees.
  expect(modelVsReference(dyn, plain)).toBeGreaterThan(1e-3);
});

test("transformers 5 rope_parameters are read like rope_theta + rope_scaling", () => {
  const { rope_theta: _t, ...rest } = TEST_CONFIG as Record<string, unknown>;
  const spec = llama.fromConfig({ ...rest, rope_parameters: { rope_type: "linear", rope_theta: 500000, factor: 2 } })._unsafeUnwrap();
  expect(spec.rope).toEqual({ theta: 500000, rotaryDim: 8, maxPositionEmbeddings: 64, scaling: { type: "linear", factor: 2 } });
});

/** gpt-oss's published YaRN (its reference model's concentration and inv_freq): a linear ramp over pair index. */
function gptOssYarn(base: number, headDim: number, factor: number, initialContext: number, alpha: number, beta: number) {
  const half = headDim / 2;
  const low = (half * Math.log(initialContext / (beta * 2 * Math.PI))) / Math.log(base);
  const high = (half * Math.log(initialContext / (alpha * 2 * Math.PI))) / Math.log(base);
  const inv = Array.from({ length: half }, (_, i) => {
    const freq = base ** (i / half);
    const mask = 1 - Math.min(1, Math.max(0, (i - low) / (high - low)));
    return (1 / (factor * freq)) * (1 - mask) + (1 / freq) * mask;
  });
  return { inv, concentration: 0.1 * Math.log(factor) + 1 };
}

test("YaRN without truncation matches gpt-oss's published frequencies and concentration", () => {
  const yarn = {
    type: "yarn",
    factor: 32,
    originalMaxPositionEmbeddings: 4096,
    betaFast: 32,
    betaSlow: 1,
    truncate: false,
    attentionFactor: 0.1 * Math.log(32) + 1,
  } as const;
  const p = ropeParameters({ theta: 150000, rotaryDim: 64, maxPositionEmbeddings: 131072, scaling: yarn });
  const want = gptOssYarn(150000, 64, 32, 4096, 1, 32);
  expect(relError(p.invFreq, f32(want.inv))).toBeLessThan(1e-7);
  expect(p.attentionScaling).toBeCloseTo(want.concentration, 12);
  // High frequencies keep their value, low ones are divided by the factor.
  const plain = plainInvFreq(150000, 64);
  expect(p.invFreq[0]! / plain[0]!).toBeCloseTo(1, 6);
  expect(p.invFreq[31]! / plain[31]!).toBeCloseTo(1 / 32, 6);
  // Truncation floors/ceils the ramp's ends, which moves the frequencies inside it.
  const truncated = ropeParameters({ theta: 150000, rotaryDim: 64, maxPositionEmbeddings: 131072, scaling: { ...yarn, truncate: true } });
  expect(relError(truncated.invFreq, p.invFreq)).toBeGreaterThan(1e-4);
});
