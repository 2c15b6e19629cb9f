// The phi3 family: the shared checks on the real Phi-3 tokenizer, fused qkv_proj / gate_up_proj equal to
// separate projections, and LongRoPE as transformers computes it: short factors within the original
// context, long ones past it, the attention factor on the rotated dims only (partial rotary included).
import { expect, test } from "bun:test";
import { ops, ropeParameters } from "../../../core/index.ts";
import { llama } from "../../../plugins/models/llama.ts";
import phi3Plugin, { phi3 } from "../../../plugins/models/phi3.ts";
import { expectClose, relError } from "../../helpers/compare.ts";
import { familyChecks, logitsOf, ROWS, randomFamilyModel, referenceError, smallConfig } from "./family-checks.ts";

familyChecks({
  family: phi3,
  plugin: phi3Plugin,
  ref: "phi3",
  tokenizerCheck: ["Hello world", [15043, 3186]],
  gradients: [
    ["model.layers.0.self_attn.qkv_proj.weight", [0, 8 * 32 + 5, 15 * 32 + 31]],
    ["model.layers.1.mlp.gate_up_proj.weight", [3, 64 * 32 + 7]],
  ],
});

test("fused qkv_proj and gate_up_proj give the logits of separate q/k/v and gate/up projections holding their slices", () => {
  const fused = randomFamilyModel(phi3, smallConfig(phi3), 4);
  expect(fused.getParameter("model.layers.0.self_attn.qkv_proj.weight")?.shape).toEqual([64, 32]);
  expect(fused.getParameter("model.layers.0.mlp.gate_up_proj.weight")?.shape).toEqual([128, 32]);
  // Llama's blocks over the same spec: separate projections.
  const sep = llama.build(fused.spec);
  for (const [name, t] of fused.namedParameters()) {
    const cut = (suffixes: string[], sizes: number[]) => {
      let at = 0;
      suffixes.forEach((n, i) => {
        sep.setParameter(name.replace(/[a-z_]+\.weight$/, `${n}.weight`), ops.slice(t, 0, at, at + sizes[i]!))._unsafeUnwrap();
        at += sizes[i]!;
      });
    };
    // qkv rows: 4 query heads of 8, then 2 key heads, then 2 value heads; gate_up: gate first.
    if (name.endsWith("qkv_proj.weight")) cut(["q_proj", "k_proj", "v_proj"], [32, 16, 16]);
    else if (name.endsWith("gate_up_proj.weight")) cut(["gate_proj", "up_proj"], [64, 64]);
    else sep.setParameter(name, ops.scale(t, 1))._unsafeUnwrap();
  }
  expect(sep.missingParameters()).toEqual([]);
  // Same products; GEMMs of other widths may block the sums differently: equal to f32 rounding (~1e-6).
  expect(relError(logitsOf(fused, ROWS), logitsOf(sep, ROWS))).toBeLessThan(1e-5);
  fused.dispose();
  sep.dispose();
});

test("LongRoPE frequencies: theta^(-2i/d) / short_factor within 4096 positions, / long_factor past them; attention factor sqrt(1 + ln 32 / ln 4096)", () => {
  const { rope } = phi3.fromConfig(phi3.tiny.config)._unsafeUnwrap();
  const { short_factor: short, long_factor: long } = phi3.tiny.config.rope_scaling as { short_factor: number[]; long_factor: number[] };
  const base = [0, 1, 2, 3].map((i) => 10000 ** (-i / 4));
  const within = ropeParameters(rope, 4096);
  const past = ropeParameters(rope, 4097);
  expectClose(
    within.invFreq,
    base.map((f, i) => f / short[i]!),
    1e-7,
    "short",
  );
  expectClose(
    past.invFreq,
    base.map((f, i) => f / long[i]!),
    1e-7,
    "long",
  );
  expect(within.attentionScaling).toBeCloseTo(Math.sqrt(1 + Math.log(32) / Math.log(4096)), 12);
  expect(past.attentionScaling).toBe(within.attentionScaling);
});

test("past a (tiny) original context the long factors apply in the forward, with partial rotary, as the reference computes", () => {
  const over = { original_max_position_embeddings: 5, max_position_embeddings: 40 };
  const scaling = { type: "longrope", short_factor: [1.5, 3.0], long_factor: [2.0, 7.0] };
  // head_dim 8 x 0.5: 4 rotated dims (2 frequencies); the attention factor must leave the other 4 alone.
  const config = smallConfig(phi3, { ...over, partial_rotary_factor: 0.5, rope_scaling: scaling });
  expect(phi3.fromConfig(config)._unsafeUnwrap().rope.rotaryDim).toBe(4);
  expect(referenceError(phi3, "phi3", config)).toBeLessThan(1e-4); // 7 tokens > 5: long factors
  expect(
    referenceError(
      phi3,
      "phi3",
      config,
      ROWS.map((r) => r.slice(0, 4)),
    ),
  ).toBeLessThan(1e-4); // short factors
  // The same model with the factors swapped differs: the choice between them is really made.
  const swapped = smallConfig(phi3, { ...over, partial_rotary_factor: 0.5, rope_scaling: { ...scaling, short_factor: scaling.long_factor } });
  const a = randomFamilyModel(phi3, config);
  const b = randomFamilyModel(phi3, swapped);
  const short = ROWS.map((r) => r.slice(0, 4));
  expect(relError(logitsOf(a, ROWS), logitsOf(b, ROWS))).toBeLessThan(1e-6);
  expect(relError(logitsOf(a, short), logitsOf(b, short))).toBeGreaterThan(1e-4);
  a.dispose();
  b.dispose();
});

test("su and yarn read as longrope, transformers 5's rope_parameters too; bad factor lists and dropout are refused together", () => {
  const c = phi3.tiny.config;
  const s = c.rope_scaling as Record<string, unknown>;
  const scalingOf = (cfg: Record<string, unknown>) => phi3.fromConfig(cfg)._unsafeUnwrap().rope.scaling;
  const want = scalingOf(c);
  expect(want?.type).toBe("longrope");
  expect(scalingOf({ ...c, rope_scaling: { ...s, type: "su" } })).toEqual(want);
  expect(scalingOf({ ...c, rope_scaling: { ...s, type: "yarn" } })).toEqual(want);
  expect(
    scalingOf({ ...c, rope_scaling: null, rope_theta: undefined, rope_parameters: { ...s, type: undefined, rope_type: "longrope", rope_theta: 10000.0 } }),
  ).toEqual(want);
  expect(scalingOf({ ...c, rope_scaling: null })).toBeNull();
  const e = phi3.fromConfig({ ...c, resid_pdrop: 0.1, rope_scaling: { ...s, long_factor: [1, 2] } })._unsafeUnwrapErr();
  expect(e.problems).toHaveLength(2);
  expect(e.message).toContain('"long_factor" must list 4 positive numbers (one per rotary frequency), got [1,2]');
  expect(e.message).toContain("resid_pdrop 0.1 is not supported");
});
