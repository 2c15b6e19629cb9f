// Per-layer RoPE (ModelSpec.ropeVariants, HeadsConfig.rope): a layer that names a variant rotates with it,
// the others with spec.rope; a variant equal to spec.rope changes nothing; an unknown key is an error that
// names it; a length-dependent variant is rebuilt per forward and recomputed with the layer. Gemma 3's
// tests check the real use against a float64 reference.
import { expect, test } from "bun:test";
import { Attention, backward, ops, type RopeSpec, tensor, tidy } from "../../../core/index.ts";
import { LlamaForCausalLM, llama, llamaAttentionConfig } from "../../../plugins/models/llama.ts";
import { type LlamaSpec, readLlamaConfig } from "../../../plugins/models/llama-config.ts";
import { relError } from "../../helpers/compare.ts";
import { logitsOf, ROWS, smallConfig } from "../../plugins/models/family-checks.ts";
import { randomize } from "./helpers.ts";

const SPEC = readLlamaConfig(smallConfig(llama), "llama")._unsafeUnwrap();

/** The small llama with layer 0 rotated by variant `key` (when given) of `variants`. */
function modelWith(variants: Record<string, RopeSpec> | undefined, key?: string) {
  const spec: LlamaSpec = variants ? { ...SPEC, ropeVariants: variants } : SPEC;
  const attention = (s: LlamaSpec, layer: number) => new Attention(llamaAttentionConfig(s, layer, layer === 0 && key ? { rope: key } : {}), layer);
  return randomize(new LlamaForCausalLM(spec, { attention }), 3);
}

test("a layer naming a variant rotates with it; a variant equal to spec.rope changes nothing", () => {
  const plain = modelWith(undefined);
  const rope = SPEC.rope;
  const same = modelWith({ local: rope }, "local");
  const other = modelWith({ local: { ...rope, theta: 7 } }, "local");
  const unused = modelWith({ local: { ...rope, theta: 7 } });
  const base = logitsOf(plain, ROWS);
  expect(relError(logitsOf(same, ROWS), base)).toBe(0);
  expect(relError(logitsOf(unused, ROWS), base)).toBe(0);
  expect(relError(logitsOf(other, ROWS), base)).toBeGreaterThan(1e-3);
  for (const m of [plain, same, other, unused]) m.dispose();
});

test("a layer naming a variant the spec does not define is an error naming both", () => {
  const model = modelWith({ local: SPEC.rope }, "global");
  expect(() => logitsOf(model, ROWS)).toThrow(`the layer names RoPE variant "global" but the model defines local`);
  model.dispose();
});

test("a length-dependent variant (dynamic NTK) named by every layer equals the model whose own RoPE it is, also recomputed", () => {
  // max_position_embeddings 4 < 7 positions: the dynamic base grows with this forward's length.
  const dynamic: RopeSpec = { ...SPEC.rope, maxPositionEmbeddings: 4, scaling: { type: "dynamic", factor: 2 } };
  const own = randomize(new LlamaForCausalLM({ ...SPEC, rope: dynamic }), 3);
  const named = randomize(
    new LlamaForCausalLM({ ...SPEC, ropeVariants: { long: dynamic } }, { attention: (s, i) => new Attention(llamaAttentionConfig(s, i, { rope: "long" }), i) }),
    3,
  );
  const want = logitsOf(own, ROWS);
  expect(relError(logitsOf(named, ROWS), want)).toBe(0);
  const plain = modelWith(undefined);
  expect(relError(want, logitsOf(plain, ROWS))).toBeGreaterThan(1e-4);
  plain.dispose();
  const lossAndGrads = (m: LlamaForCausalLM, checkpointing: boolean) => {
    m.gradientCheckpointing = checkpointing;
    const loss = tidy(() => {
      const ids = tensor(ROWS.flat(), [2, 7], { dtype: "i32" });
      const l = ops.mean(m.forward(ids));
      backward(l);
      return l.item();
    });
    const grads = m.namedParameters().map(([, t]) => t.grad!.toArray());
    for (const t of m.parameters()) {
      t.grad?.dispose();
      t.grad = null;
    }
    return { loss, grads };
  };
  const a = lossAndGrads(own, false);
  const b = lossAndGrads(named, true);
  expect(b.loss).toBe(a.loss);
  for (const [i, g] of b.grads.entries()) expect(relError(g, a.grads[i]!)).toBe(0);
  own.dispose();
  named.dispose();
});
