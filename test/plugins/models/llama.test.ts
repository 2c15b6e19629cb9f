// The llama family end to end on disk: make-tiny writes a real HF folder, loadModel reads it back
// (f32 or bf16 storage), save -> load keeps every tensor byte for byte, a broken checkpoint is refused
// with every problem named, and the tiny model generates through the real Llama 2 tokenizer.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CausalLM,
  createRegistry,
  generate,
  generationOptions,
  loadModel,
  noGrad,
  openCheckpoint,
  saveModel,
  tensor,
  tidy,
  writeCheckpoint,
} from "../../../core/index.ts";
import { loadTokenizer } from "../../../core/tokenizer/load.ts";
import { makeTiny } from "../../../plugins/commands/index.ts";
import llamaPlugin, { type LlamaForCausalLM, llama } from "../../../plugins/models/llama.ts";
import { relError } from "../../helpers/compare.ts";

const registry = createRegistry();
registry.use(llamaPlugin);
let root = "";
let tiny = "";

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "lft-llama-"));
  tiny = join(root, "tiny");
  makeTiny(llama, tiny, { seed: 3 })._unsafeUnwrap();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const logits = (m: CausalLM, ids: number[]) => noGrad(() => tidy(() => m.forward(tensor(ids, [1, ids.length], { dtype: "i32" })).toArray()));

test("make-tiny writes a Hugging Face llama folder: real config keys, safetensors, generation config, tokenizer", () => {
  for (const f of ["config.json", "model.safetensors", "generation_config.json", "tokenizer.json", "tokenizer_config.json"])
    expect(existsSync(join(tiny, f))).toBe(true);
  const config = JSON.parse(readFileSync(join(tiny, "config.json"), "utf8"));
  expect(config).toMatchObject({
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    hidden_size: 64,
    vocab_size: 32000,
    num_key_value_heads: 2,
    rope_theta: 10000,
  });
  expect(Object.keys(config)).toEqual([...Object.keys(config)].sort()); // written as transformers does: sorted keys
  expect(JSON.parse(readFileSync(join(tiny, "generation_config.json"), "utf8"))).toEqual({ bos_token_id: 1, eos_token_id: 2 });
  const ckpt = openCheckpoint(tiny)._unsafeUnwrap();
  expect(ckpt.names().length).toBe(1 + 2 * 9 + 2);
  expect(ckpt.info("model.embed_tokens.weight")._unsafeUnwrap()).toMatchObject({ dtype: "F32", shape: [32000, 64] });
  ckpt.close();
});

test("load -> save -> load keeps every tensor byte for byte and the same logits", () => {
  const a = loadModel(tiny, registry)._unsafeUnwrap();
  expect(a.family.name).toBe("llama");
  expect(a.warnings).toEqual([]);
  expect(a.model.parameters().every((t) => t.dtype === "f32" && t.requiresGrad)).toBe(true);
  const again = join(root, "again");
  saveModel(a.model, again, { generation: a.generation.raw })._unsafeUnwrap();
  expect(readFileSync(join(again, "config.json"), "utf8")).toBe(readFileSync(join(tiny, "config.json"), "utf8"));
  const [c1, c2] = [openCheckpoint(tiny)._unsafeUnwrap(), openCheckpoint(again)._unsafeUnwrap()];
  expect(c2.names()).toEqual(c1.names());
  for (const n of c1.names()) expect(Buffer.compare(c1.bytes(n)._unsafeUnwrap(), c2.bytes(n)._unsafeUnwrap())).toBe(0);
  c1.close();
  c2.close();
  const b = loadModel(again, registry)._unsafeUnwrap();
  const ids = [1, 450, 4996, 17354, 1701];
  expect(relError(logits(b.model, ids), logits(a.model, ids))).toBe(0);
  a.model.dispose();
  b.model.dispose();
});

test("dtype bf16 keeps the matrices in bf16 (frozen) and norms in f32, with close logits", () => {
  const f = loadModel(tiny, registry)._unsafeUnwrap();
  const h = loadModel(tiny, registry, { dtype: "bf16" })._unsafeUnwrap();
  expect(h.model.getParameter("model.layers.0.mlp.up_proj.weight")!.dtype).toBe("bf16");
  expect(h.model.getParameter("model.embed_tokens.weight")!.dtype).toBe("bf16");
  expect(h.model.getParameter("model.norm.weight")!.dtype).toBe("f32");
  expect(
    h.model
      .trainableParameters()
      .map(([n]) => n)
      .every((n) => n.endsWith("layernorm.weight") || n === "model.norm.weight"),
  ).toBe(true);
  const ids = [1, 15043, 3186];
  // bf16 keeps 8 mantissa bits: ~0.4% per weight, averaging down over the sums.
  expect(relError(logits(h.model, ids), logits(f.model, ids))).toBeLessThan(2e-2);
  // Saved as bf16, then loaded "auto": the half storage survives the trip.
  const halfDir = join(root, "half");
  saveModel(h.model, halfDir)._unsafeUnwrap();
  const auto = loadModel(halfDir, registry, { dtype: "auto" })._unsafeUnwrap();
  expect(auto.model.getParameter("lm_head.weight")!.dtype).toBe("bf16");
  expect(relError(logits(auto.model, ids), logits(h.model, ids))).toBe(0);
  for (const m of [f, h, auto]) m.model.dispose();
});

test("a broken checkpoint is refused with every missing and misshapen tensor named", () => {
  const bad = join(root, "bad");
  const a = loadModel(tiny, registry)._unsafeUnwrap();
  const entries = a.model.namedParameters().flatMap(([name, t]) => {
    if (name === "model.layers.1.mlp.up_proj.weight" || name === "model.norm.weight") return [];
    if (name === "model.layers.0.self_attn.k_proj.weight") return [{ name, data: tensor(new Float32Array(64 * 64), [64, 64]) }];
    return [{ name, data: t }];
  });
  writeCheckpoint(bad, entries)._unsafeUnwrap();
  writeFileSync(join(bad, "config.json"), readFileSync(join(tiny, "config.json")));
  const e = loadModel(bad, registry)._unsafeUnwrapErr() as Error & { problems: string[] };
  expect(e.problems).toHaveLength(3);
  expect(e.problems.join("\n")).toContain('tensor "model.layers.0.self_attn.k_proj.weight" has shape [64, 64], the model expects [32, 64]');
  expect(e.problems.join("\n")).toContain('tensor "model.layers.1.mlp.up_proj.weight" (shape [176, 64]) is missing');
  expect(e.problems.join("\n")).toContain('tensor "model.norm.weight" (shape [64]) is missing');
  a.model.dispose();
});

test("old checkpoints' rotary_emb.inv_freq buffers are dropped, a stored lm_head of a tied model is ignored", () => {
  const dir = join(root, "tied");
  const cfg = { ...llama.tiny.config, tie_word_embeddings: true };
  const a = loadModel(tiny, registry)._unsafeUnwrap();
  const entries = [
    ...a.model.namedParameters().map(([name, data]) => ({ name, data })),
    { name: "model.layers.0.self_attn.rotary_emb.inv_freq", data: tensor(new Float32Array(8)) },
  ];
  writeCheckpoint(dir, entries)._unsafeUnwrap();
  writeFileSync(join(dir, "config.json"), JSON.stringify(cfg));
  const t = loadModel(dir, registry)._unsafeUnwrap();
  expect(t.warnings).toEqual([]);
  expect((t.model as LlamaForCausalLM).lm_head).toBeNull();
  expect(t.model.getParameter("lm_head.weight")).toBeUndefined();
  a.model.dispose();
  t.model.dispose();
});

test("an unknown model_type is refused naming the known ones", () => {
  const dir = join(root, "mamba");
  writeCheckpoint(dir, [{ name: "x", data: tensor([1]) }])._unsafeUnwrap();
  writeFileSync(join(dir, "config.json"), JSON.stringify({ model_type: "mamba" }));
  expect(loadModel(dir, registry)._unsafeUnwrapErr().message).toBe(`${join(dir, "config.json")}: no model family reads model_type "mamba" (known: llama)`);
});

test("the tiny model generates through its real tokenizer, greedy and with the generation config's EOS", () => {
  const { model, spec, generation } = loadModel(tiny, registry)._unsafeUnwrap();
  const tok = loadTokenizer(tiny)._unsafeUnwrap();
  const prompt = tok.encode("Once upon a time");
  expect(prompt[0]).toBe(1); // BOS from the tokenizer's post-processor
  const o = { ...generationOptions(generation, spec), maxNewTokens: 6, tokenizer: tok };
  expect(o.eosTokenIds).toEqual([2]);
  const r = generate(model, [prompt], o)._unsafeUnwrap();
  expect(r.tokens[0]!.length).toBe(6);
  expect(r.texts![0]).toBe(tok.decode(r.tokens[0]!));
  expect(generate(model, [prompt], { ...o, useCache: false })._unsafeUnwrap().tokens).toEqual(r.tokens);
  model.dispose();
});
