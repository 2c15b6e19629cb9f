// PEFT's adapter layout, byte for byte where PEFT fixes it (adapter_config.json as json.dumps(indent=2,
// sort_keys=True); tensor names as get_peft_model_state_dict leaves them), save -> load round trips with
// identical outputs (LoRA, DoRA, modules_to_save, PiSSA), unsupported configs refused by name, and
// `lft export --merge`: merged logits equal the adapted model's and the folder loads with loadModel.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CausalLM, loadModel, openCheckpoint, openSafetensors, writeSafetensors } from "../../../../core/index.ts";
import { exportMerged, exportPeftMerged, type LoraMethod, loadPeftAdapter, lora } from "../../../../plugins/methods/index.ts";
import { expectClose, relError } from "../../../helpers/compare.ts";
import { family, loadStories, logitsOf, perturbTrainable, registry, STORIES } from "../helpers.ts";

let root = "";
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "lft-peft-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A lora-adapted stories260K whose trainable tensors moved away from their init (as after training). */
function trained(options: Record<string, unknown>, seed = 1): { model: CausalLM; m: LoraMethod } {
  const model = loadStories();
  const m = lora.apply(model, options, family, { seed, baseModel: "examples/models/stories260K" })._unsafeUnwrap() as LoraMethod;
  perturbTrainable(model, seed + 100);
  m.training = false;
  return { model, m };
}

const CONFIG_TEXT = `{
  "alpha_pattern": {},
  "auto_mapping": null,
  "base_model_name_or_path": "examples/models/stories260K",
  "bias": "none",
  "fan_in_fan_out": false,
  "inference_mode": true,
  "init_lora_weights": true,
  "layer_replication": null,
  "layers_pattern": null,
  "layers_to_transform": null,
  "loftq_config": {},
  "lora_alpha": 8,
  "lora_dropout": 0.0,
  "megatron_config": null,
  "megatron_core": "megatron.core",
  "modules_to_save": null,
  "peft_type": "LORA",
  "r": 4,
  "rank_pattern": {},
  "revision": null,
  "target_modules": [
    "q_proj",
    "v_proj"
  ],
  "task_type": "CAUSAL_LM",
  "use_dora": false,
  "use_rslora": false
}`;

test("adapter_config.json is PEFT's LoraConfig as json.dumps(indent=2, sort_keys=True) writes it", () => {
  const { model, m } = trained({ rank: 4, alpha: 8, targets: ["v_proj", "q_proj"] });
  const dir = join(root, "config");
  const files = m.saveTrainable(dir)._unsafeUnwrap();
  expect(files).toEqual([join(dir, "adapter_config.json"), join(dir, "adapter_model.safetensors")]);
  expect(readFileSync(join(dir, "adapter_config.json"), "utf8")).toBe(CONFIG_TEXT);
  model.dispose();
  // Floats keep Python's repr: 0.05 and 16.0-style values, and the lists lft was given.
  const other = trained({
    rank: 2,
    alpha: 4,
    dropout: 0.05,
    rslora: true,
    dora: true,
    targets: ["all"],
    init: "gaussian",
    additional_target: ["embed_tokens"],
  });
  const dir2 = join(root, "config2");
  other.m.saveTrainable(dir2)._unsafeUnwrap();
  const text = readFileSync(join(dir2, "adapter_config.json"), "utf8");
  expect(text).toContain('  "lora_dropout": 0.05,\n');
  const cfg = JSON.parse(text);
  expect(cfg).toMatchObject({ r: 2, lora_alpha: 4, use_rslora: true, use_dora: true, init_lora_weights: "gaussian", modules_to_save: ["embed_tokens"] });
  expect(cfg.target_modules).toEqual(["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]);
  other.model.dispose();
});

test("adapter_model.safetensors holds PEFT's key names: lora_A/B.weight, DoRA's lora_magnitude_vector, modules_to_save by module path", () => {
  const { model, m } = trained({ rank: 4, targets: ["q_proj", "down_proj"], dora: true, additional_target: ["embed_tokens"] });
  const dir = join(root, "keys");
  m.saveTrainable(dir)._unsafeUnwrap();
  const file = openSafetensors(join(dir, "adapter_model.safetensors"))._unsafeUnwrap();
  expect(file.metadata).toEqual({ format: "pt" });
  const expected = [
    "base_model.model.model.embed_tokens.weight",
    ...[0, 1, 2, 3, 4].flatMap((i) =>
      ["mlp.down_proj", "self_attn.q_proj"].flatMap((p) =>
        ["lora_A.weight", "lora_B.weight", "lora_magnitude_vector"].map((s) => `base_model.model.model.layers.${i}.${p}.${s}`),
      ),
    ),
  ].sort();
  expect([...file.names()].sort()).toEqual(expected);
  expect(file.info("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")._unsafeUnwrap()).toMatchObject({ dtype: "F32", shape: [4, 64] });
  expect(file.info("base_model.model.model.layers.0.mlp.down_proj.lora_A.weight")._unsafeUnwrap().shape).toEqual([4, 172]);
  expect(file.info("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight")._unsafeUnwrap().shape).toEqual([64, 4]);
  expect(file.info("base_model.model.model.layers.3.mlp.down_proj.lora_magnitude_vector")._unsafeUnwrap().shape).toEqual([64]);
  expect(file.info("base_model.model.model.embed_tokens.weight")._unsafeUnwrap().shape).toEqual([512, 64]);
  // The stored values are the live ones.
  const live = m.adapters.get("model.layers.2.self_attn.q_proj")!.lora_B.weight.toArray();
  expect([...file.tensor("base_model.model.model.layers.2.self_attn.q_proj.lora_B.weight")._unsafeUnwrap().toArray()]).toEqual([...live]);
  file.close();
  model.dispose();
});

test("save -> load onto a fresh base gives identical logits: LoRA, rsLoRA + DoRA, modules_to_save", () => {
  const cases: Record<string, unknown>[] = [
    { rank: 4, alpha: 8, targets: ["q_proj", "v_proj"] },
    { rank: 3, alpha: 5, rslora: true, dora: true, targets: ["all"], additional_target: ["embed_tokens"] },
  ];
  cases.forEach((options, i) => {
    const { model, m } = trained(options, 10 + i);
    const want = logitsOf(model);
    const dir = join(root, `roundtrip-${i}`);
    m.saveTrainable(dir)._unsafeUnwrap();
    const fresh = loadStories();
    expect(relError(logitsOf(fresh), want)).toBeGreaterThan(1e-3);
    const loaded = lora.load!(fresh, dir, family)._unsafeUnwrap() as LoraMethod;
    expect(loaded.adapters.size).toBe(m.adapters.size);
    expect(relError(logitsOf(fresh), want)).toBe(0);
    // Loaded for inference: nothing trains, no dropout.
    expect(Object.keys(loaded.params)).toEqual([]);
    expect(loaded.training).toBe(false);
    // ... unless asked to continue training.
    const again = loadStories();
    const cont = loadPeftAdapter(again, dir, family, { trainable: true })._unsafeUnwrap();
    expect(Object.keys(cont.params).sort()).toEqual(Object.keys(m.params).sort());
    for (const x of [model, fresh, again]) x.dispose();
  });
});

test("PiSSA: the base keeps the residual, and the saved adapter (rank 2r, converted as PEFT does) applies to the untouched base", () => {
  const model = loadStories();
  const before = logitsOf(model);
  const q = model.getParameter("model.layers.1.self_attn.q_proj.weight")!.toArray();
  const m = lora.apply(model, { rank: 4, alpha: 8, init: "pissa", pissa_iter: -1, targets: ["q_proj", "up_proj"] }, family)._unsafeUnwrap() as LoraMethod;
  m.training = false;
  // W_res + scale·B·A = W at step 0: the model computes what it did.
  expectClose(logitsOf(model), before, 1e-5, "logits after PiSSA init");
  expect(relError(model.getParameter("model.layers.1.self_attn.q_proj.weight")!.toArray(), q)).toBeGreaterThan(0.1);
  perturbTrainable(model, 5, 0.02);
  const want = logitsOf(model);
  const dir = join(root, "pissa");
  m.saveTrainable(dir)._unsafeUnwrap();
  const cfg = JSON.parse(readFileSync(join(dir, "adapter_config.json"), "utf8"));
  expect(cfg).toMatchObject({ r: 8, lora_alpha: 16, init_lora_weights: true });
  const file = openSafetensors(join(dir, "adapter_model.safetensors"))._unsafeUnwrap();
  expect(file.info("base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight")._unsafeUnwrap().shape).toEqual([8, 64]);
  file.close();
  const fresh = loadStories();
  lora.load!(fresh, dir, family)._unsafeUnwrap();
  expectClose(logitsOf(fresh), want, 1e-4, "converted PiSSA adapter on the original base");
  model.dispose();
  fresh.dispose();
});

test('an unconverted PiSSA adapter (init_lora_weights "pissa") gets its residual base rebuilt on load', () => {
  const model = loadStories();
  const m = lora.apply(model, { rank: 2, alpha: 4, init: "pissa", pissa_iter: -1, targets: ["v_proj"] }, family)._unsafeUnwrap() as LoraMethod;
  m.training = false;
  perturbTrainable(model, 6, 0.02);
  const want = logitsOf(model);
  // What PEFT saves without conversion: the trained A, B at rank r, relative to the residual base.
  const dir = join(root, "pissa-raw");
  mkdirSync(dir, { recursive: true });
  writeSafetensors(
    join(dir, "adapter_model.safetensors"),
    [...m.adapters].flatMap(([p, l]) => [
      { name: `base_model.model.${p}.lora_A.weight`, data: l.lora_A.weight },
      { name: `base_model.model.${p}.lora_B.weight`, data: l.lora_B.weight },
    ]),
    { format: "pt" },
  )._unsafeUnwrap();
  writeFileSync(
    join(dir, "adapter_config.json"),
    JSON.stringify({ peft_type: "LORA", r: 2, lora_alpha: 4, target_modules: ["v_proj"], init_lora_weights: "pissa", task_type: "CAUSAL_LM" }),
  );
  const fresh = loadStories();
  lora.load!(fresh, dir, family)._unsafeUnwrap();
  expectClose(logitsOf(fresh), want, 1e-4, "raw PiSSA adapter");
  model.dispose();
  fresh.dispose();
});

test("adapters lft cannot reproduce are refused by name, before the model changes", () => {
  const { model, m } = trained({ rank: 2, targets: ["q_proj"] });
  const good = join(root, "good");
  m.saveTrainable(good)._unsafeUnwrap();
  model.dispose();
  const variant = (name: string, edit: (cfg: Record<string, unknown>) => void, weights = true) => {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    const cfg = JSON.parse(readFileSync(join(good, "adapter_config.json"), "utf8"));
    edit(cfg);
    writeFileSync(join(dir, "adapter_config.json"), JSON.stringify(cfg));
    if (weights) writeFileSync(join(dir, "adapter_model.safetensors"), readFileSync(join(good, "adapter_model.safetensors")));
    const base = loadStories();
    const r = loadPeftAdapter(base, dir, family);
    const adapted = base.namedModules().some(([, mod]) => (mod as { adapter?: unknown }).adapter);
    base.dispose();
    expect(adapted).toBe(false);
    return r._unsafeUnwrapErr().message;
  };
  expect(variant("ia3", (c) => (c.peft_type = "IA3"))).toContain('peft_type is "IA3"');
  expect(variant("bias", (c) => (c.bias = "all"))).toContain('bias "all"');
  expect(variant("rank-pattern", (c) => (c.rank_pattern = { q_proj: 4 }))).toContain("rank_pattern");
  expect(variant("olora", (c) => (c.init_lora_weights = "olora"))).toContain('init_lora_weights "olora"');
  expect(variant("rank", (c) => (c.r = 3))).toContain("expected [3, 64]");
  expect(variant("more-targets", (c) => (c.target_modules = ["q_proj", "k_proj"]))).toContain(
    'missing tensor "base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight"',
  );
  expect(variant("fewer-targets", (c) => (c.target_modules = ["k_proj"]))).toContain("this model has no place for");
  expect(variant("typo", (c) => (c.target_modules = ["q_prj"]))).toContain('did you mean "q_proj"');
  expect(variant("bin", () => {}, false)).toContain("no adapter_model.safetensors");
});

test("a target_modules pattern (PEFT's string form) matches whole module paths", () => {
  const { model, m } = trained({ rank: 2, targets: ["q_proj", "k_proj"] });
  const want = logitsOf(model);
  const dir = join(root, "pattern");
  m.saveTrainable(dir)._unsafeUnwrap();
  const cfg = JSON.parse(readFileSync(join(dir, "adapter_config.json"), "utf8"));
  cfg.target_modules = String.raw`.*\.self_attn\.(q|k)_proj`;
  writeFileSync(join(dir, "adapter_config.json"), JSON.stringify(cfg));
  const fresh = loadStories();
  const loaded = lora.load!(fresh, dir, family)._unsafeUnwrap() as LoraMethod;
  expect(loaded.adapters.size).toBe(10);
  expect(relError(logitsOf(fresh), want)).toBe(0);
  model.dispose();
  fresh.dispose();
});

test("export --merge: merged logits equal the adapted model's, and the sharded folder loads with loadModel", () => {
  const { model, m } = trained({ rank: 4, alpha: 8, dora: true, targets: ["all"], additional_target: ["norm"] }, 3);
  const want = logitsOf(model);
  const out = join(root, "merged");
  const exported = exportMerged(m, out, { baseDir: STORIES, maxShardBytes: 300_000 })._unsafeUnwrap();
  expect(model.namedModules().some(([, mod]) => (mod as { adapter?: unknown }).adapter)).toBe(false);
  // The merged in-memory model and the folder agree with the adapted model to f32 rounding.
  expectClose(logitsOf(model), want, 1e-5, "merged in memory");
  expect(existsSync(join(out, "model.safetensors.index.json"))).toBe(true);
  expect(exported.files.filter((f) => /model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length).toBeGreaterThan(1);
  for (const f of ["tokenizer.json", "tokenizer_config.json", "config.json", "generation_config.json"]) expect(existsSync(join(out, f))).toBe(true);
  expect(JSON.parse(readFileSync(join(out, "config.json"), "utf8"))).toEqual(JSON.parse(readFileSync(join(STORIES, "config.json"), "utf8")));
  const ckpt = openCheckpoint(out)._unsafeUnwrap();
  expect(ckpt.names().some((n) => n.includes("lora"))).toBe(false);
  ckpt.close();
  const reloaded = loadModel(out, registry)._unsafeUnwrap();
  expect(reloaded.warnings).toEqual([]);
  expectClose(logitsOf(reloaded.model), want, 1e-5, "merged folder");
  expect(m.saveTrainable(join(root, "after-merge")).isErr()).toBe(true);
  model.dispose();
  reloaded.model.dispose();
});

test("export --merge from folders: base + PEFT adapter -> a checkpoint with the adapted model's logits", () => {
  const { model, m } = trained({ rank: 2, alpha: 4, targets: ["q_proj", "v_proj", "down_proj"] }, 4);
  const want = logitsOf(model);
  const adapterDir = join(root, "for-export");
  m.saveTrainable(adapterDir)._unsafeUnwrap();
  const out = join(root, "merged-from-folders");
  exportPeftMerged(STORIES, adapterDir, out, registry)._unsafeUnwrap();
  expect(JSON.parse(readFileSync(join(out, "generation_config.json"), "utf8"))).toEqual(
    JSON.parse(readFileSync(join(STORIES, "generation_config.json"), "utf8")),
  );
  const merged = loadModel(out, registry)._unsafeUnwrap().model;
  expectClose(logitsOf(merged), want, 1e-5, "merged from folders");
  model.dispose();
  merged.dispose();
});
