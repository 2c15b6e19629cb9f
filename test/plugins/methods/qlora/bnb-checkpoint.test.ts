// bitsandbytes 4-bit checkpoints: written from the stories260K model in transformers' layout, read back
// through loadModel's stored-form hook to the very weights an in-process quantisation gives; corrupt ones
// (wrong absmax length, bad quant_type) are errors naming the file and the tensor.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Linear, loadModel, openCheckpoint, type SafetensorsEntry, writeCheckpoint } from "../../../../core/index.ts";
import { bnb4bitStoredForm, qlora, quantizeLinears, writeBnb4bitModel } from "../../../../plugins/methods/qlora/index.ts";
import { family, loadStories, logitsOf, registry, STORIES } from "../helpers.ts";

let root = "";
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "lft-bnb-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(name: string, type: "nf4" | "fp4", doubleQuant: boolean): string {
  const dir = join(root, name);
  const model = loadStories();
  writeBnb4bitModel(model, dir, type, doubleQuant)._unsafeUnwrap();
  copyFileSync(join(STORIES, "tokenizer.json"), join(dir, "tokenizer.json"));
  model.dispose();
  return dir;
}

type RawEntry = Extract<SafetensorsEntry, { data: Uint8Array }>;

/** Rewrites a checkpoint with `edit` applied to its entries. */
function rewrite(dir: string, edit: (entries: RawEntry[]) => RawEntry[]): void {
  const ckpt = openCheckpoint(dir)._unsafeUnwrap();
  const entries: RawEntry[] = ckpt.names().map((name) => {
    const info = ckpt.info(name)._unsafeUnwrap();
    return { name, dtype: info.dtype, shape: [...info.shape], data: ckpt.bytes(name)._unsafeUnwrap().slice() };
  });
  ckpt.close();
  writeCheckpoint(dir, edit(entries))._unsafeUnwrap();
}

for (const [type, dq] of [
  ["nf4", true],
  ["fp4", false],
] as const) {
  test(`${type}${dq ? " double-quantised" : ""}: written as transformers does, read back to the same weights`, () => {
    const dir = write(`${type}-${dq}`, type, dq);
    const cfg = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    expect(cfg.quantization_config).toMatchObject({
      quant_method: "bitsandbytes",
      load_in_4bit: true,
      bnb_4bit_quant_type: type,
      bnb_4bit_use_double_quant: dq,
    });
    const ckpt = openCheckpoint(dir)._unsafeUnwrap();
    const q = "model.layers.0.self_attn.q_proj.weight";
    expect(ckpt.info(q)._unsafeUnwrap()).toMatchObject({ dtype: "U8", shape: [(64 * 64) / 2, 1] });
    expect(ckpt.info(`${q}.absmax`)._unsafeUnwrap()).toMatchObject({ dtype: dq ? "U8" : "F32", shape: [64] });
    expect(ckpt.has(`${q}.nested_absmax`)).toBe(dq);
    const state = JSON.parse(new TextDecoder().decode(ckpt.bytes(`${q}.quant_state.bitsandbytes__${type}`)._unsafeUnwrap()));
    expect(state).toMatchObject({ quant_type: type, blocksize: 64, shape: [64, 64], dtype: "float32" });
    ckpt.close();

    const loaded = loadModel(dir, registry, { storedForm: bnb4bitStoredForm() })._unsafeUnwrap();
    expect(loaded.warnings).toEqual([]);
    const frozen = loaded.model.namedModules().filter(([, m]) => m instanceof Linear && m.frozen).length;
    expect(frozen).toBe(35);
    const reference = loadStories();
    quantizeLinears(reference, { type, doubleQuant: dq })._unsafeUnwrap();
    expect(Array.from(logitsOf(loaded.model))).toEqual(Array.from(logitsOf(reference)));
    // and LoRA goes on top of it
    const applied = qlora.apply(loaded.model, { rank: 2, quant_type: type, double_quant: dq }, family)._unsafeUnwrap();
    expect(applied.counts.trainable).toBeGreaterThan(0);
    loaded.model.dispose();
    reference.dispose();
  });
}

test("a wrong absmax length names the file and the tensor", () => {
  const dir = write("bad-absmax", "nf4", true);
  const name = "model.layers.1.mlp.up_proj.weight.absmax";
  rewrite(dir, (entries) => entries.map((e) => (e.name === name ? { ...e, shape: [e.data.length - 1], data: e.data.slice(1) } : e)));
  const r = loadModel(dir, registry, { storedForm: bnb4bitStoredForm() });
  expect(r.isErr()).toBe(true);
  const msg = r._unsafeUnwrapErr().message;
  expect(msg).toContain("model.safetensors");
  expect(msg).toContain(`tensor "${name}"`);
  expect(msg).toMatch(/expected \d+ values of U8/);
});

test("a bad quant_type names the file and the tensor", () => {
  const dir = write("bad-type", "nf4", false);
  const name = "model.layers.2.self_attn.v_proj.weight.quant_state.bitsandbytes__nf4";
  rewrite(dir, (entries) =>
    entries.map((e) => {
      if (e.name !== name) return e;
      const json = new TextEncoder().encode(new TextDecoder().decode(e.data).replace('"nf4"', '"nf5"'));
      return { ...e, shape: [json.length], data: json };
    }),
  );
  const msg = loadModel(dir, registry, { storedForm: bnb4bitStoredForm() })._unsafeUnwrapErr().message;
  expect(msg).toContain("model.safetensors");
  expect(msg).toContain(`tensor "${name}"`);
  expect(msg).toContain('quant_type "nf5" is not nf4 or fp4');
});
