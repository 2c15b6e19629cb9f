// Per-layer RoPE (ModelSpec.ropeVariants, HeadsConfig.rope): a layer that names a variant rotates with it,
// the others with spec.rope; a variant equal to spec.rope changes nothing; an unknown key is an error that
// names it. Gemma 3's tests check the real use against a float64 reference.
import { expect, test } from "bun:test";
import { Attention, type RopeSpec } from "../../../core/index.ts";
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
