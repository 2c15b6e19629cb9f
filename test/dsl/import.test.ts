// lft import on LLaMA-Factory's own example configs: each becomes a canonical recipe that passes
// lft check with the method and stage plugins present (and names them when absent), and every key
// left behind gets a warning at its YAML line.

import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { definePlugin } from "../../core/index.ts";
import { blockRules } from "../../dsl/blocks.ts";
import { checkRecipe } from "../../dsl/check.ts";
import { importLlamaFactory } from "../../dsl/import/llamafactory.ts";
import { parseRecipe } from "../../dsl/parse.ts";
import { printRecipe } from "../../dsl/printer.ts";
import { builtinPlugins } from "../../plugins/index.ts";
import methodsPlugin from "../../plugins/methods/index.ts";
import { ppoOptions } from "../../plugins/stages/index.ts";
import { fakeOptimizers } from "./fixtures/fake-optimizers.ts";
import { fakeData, fakeModels, fakeStages } from "./fixtures/fake-plugins.ts";
import { registryWith, repoRoot } from "./helpers.ts";

const dir = `${repoRoot}/test/fixtures/llamafactory-configs`;
const configs = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
// LLaMA-Factory examples lft cannot reproduce: import refuses them, naming the reason.
const refused: Readonly<Record<string, string>> = {
  "extras_dft_qwen2_full_sft.yaml": "use_dft_loss: lft's sft loss is plain cross-entropy (no DFT weighting)",
  "extras_fp8_llama3_fp8_fsdp_sft.yaml": "fp8: lft does not train in FP8",
  "extras_mod_llama3_full_sft.yaml": "mixture_of_depths: lft has no mixture-of-depths conversion",
  "extras_oft_llama3_oft_sft.yaml": 'the imported recipe would fail lft check (line 9 of the recipe): method "oft" is not available',
  "merge_lora_qwen3_gptq.yaml": "export_quantization_bit: lft cannot write a GPTQ-quantised export",
};
const shared = "/work/shared/fixtures/llamafactory-configs";
const sharedConfigs = existsSync(shared) ? readdirSync(shared).filter((f) => f.endsWith(".yaml")) : [];
// The real methods (full, freeze, lora, llama_pro) and stand-ins for what issue 11's other parts build.
// PPO with its real option schema (the imported ppo options are checked against it).
const ppoStand = definePlugin({ name: "ppo-stand-in", setup: (api) => void api.register.stages({ name: "ppo", doc: "PPO", options: ppoOptions }) });
const registry = registryWith([fakeModels, fakeData, fakeStages, ppoStand, methodsPlugin, fakeOptimizers]);

/** The recipe text alone: these small configs leave out what a full one has (a dataset), which lft check would ask for. */
const lfText = (yaml: string, file: string) => importLlamaFactory(yaml, file, { check: false });

function imported(name: string) {
  const text = readFileSync(`${dir}/${name}`, "utf8");
  return importLlamaFactory(text, name)._unsafeUnwrap();
}

describe("every LLaMA-Factory example config", () => {
  test("all thirty-four fixtures are present (LLaMA-Factory's examples and ones written from its documentation)", () => {
    expect(configs.length).toBe(34);
  });
  for (const [name, why] of Object.entries(refused)) {
    test(`${name}: refused with the reason, at the key`, () => {
      const problems = importLlamaFactory(readFileSync(`${dir}/${name}`, "utf8"), name)._unsafeUnwrapErr();
      expect(problems.map((d) => d.message).join("\n")).toContain(why);
    });
  }
  for (const name of sharedConfigs) {
    test(`shared ${name}: imports and lft check accepts it`, () => {
      const result = importLlamaFactory(readFileSync(`${shared}/${name}`, "utf8"), name);
      expect(result.isOk() ? [] : result.error.map((d) => d.message)).toEqual([]);
    });
  }
  for (const name of configs.filter((c) => refused[c] === undefined)) {
    test(`${name}: canonical, checks clean; without plugins only 'not available'`, () => {
      const { text, warnings } = imported(name);
      const recipe = parseRecipe(text, "out.lft")._unsafeUnwrap();
      expect(printRecipe(recipe)).toBe(text);
      const checked = checkRecipe(recipe, { registry: registryWith(builtinPlugins), baseDir: "/" });
      expect(checked.isOk() ? [] : checked.error.map((d) => d.message)).toEqual([]);
      const bare = checkRecipe(recipe, { registry: registryWith([]), baseDir: "/" });
      expect(bare.isOk() || bare.error.every((d) => d.kind === "unavailable")).toBe(true);
      // Against the plugins lft ships today: nothing but names that have not arrived yet.
      const shipped = checkRecipe(recipe, { registry: registryWith(builtinPlugins), baseDir: "/" });
      // (A name close to a registered one reads "unknown method ...; did you mean": qlora beside lora.)
      const notYet = (d: { kind: string; message: string }) => d.kind === "unavailable" || /^unknown (method|optimizer|stage) "/.test(d.message);
      expect(shipped.isOk() ? [] : shipped.error.filter((d) => !notYet(d)).map((d) => d.message)).toEqual([]);
      // Every warning names a key of the YAML at the line it is on.
      const lines = readFileSync(`${dir}/${name}`, "utf8").split("\n");
      // (A LLaMA-Factory default the YAML does not write, like top_k's 50, has no line.)
      for (const w of warnings) {
        const key = w.message.split(":")[0]!;
        if (w.span === undefined) expect(lines.some((l) => l.startsWith(`${key}:`))).toBe(false);
        else expect(lines[w.span.line - 1]).toStartWith(`${key}:`);
      }
    });
  }
});

describe("what is carried over", () => {
  test("LoRA SFT: model, template, bf16, two datasets, lora, trainer settings", () => {
    const { text, warnings } = imported("train_lora_qwen3_lora_sft.yaml");
    expect(text).toBe(
      [
        "# Imported from train_lora_qwen3_lora_sft.yaml (a LLaMA-Factory config) by lft import.",
        "# Run: ./lft train_lora_qwen3_lora_sft.lft",
        "",
        'model "Qwen/Qwen3-4B-Instruct-2507" { template = qwen3_nothink, dtype = bf16 }',
        "",
        'dataset "identity" { max_samples = 1000 }',
        'dataset "alpaca_en_demo" { max_samples = 1000 }',
        "",
        "method lora { rank = 8, alpha = 16, targets = [all] }",
        "",
        "train sft for 3 epochs {",
        "  lr = 1e-4",
        "  scheduler = cosine",
        "  warmup = 10%",
        "  batch = 1",
        "  accumulate = 8",
        "  cutoff = 2048",
        "  save_every = 500",
        "  log_every = 10",
        '  output = "saves/qwen3-4b/lora/sft"',
        "}",
        "",
      ].join("\n"),
    );
    expect(warnings.map((w) => w.message.split(":")[0])).toEqual([
      "trust_remote_code",
      "preprocessing_num_workers",
      "dataloader_num_workers",
      "plot_loss",
      "overwrite_output_dir",
      "save_only_model",
      "ddp_timeout",
    ]);
    expect(warnings.every((w) => w.severity === "warning")).toBe(true);
  });

  test("DPO: the stage's beta and loss", () => {
    expect(imported("train_lora_qwen3_lora_dpo.yaml").text).toContain("train dpo for 3 epochs {\n  lr = 5e-6");
    expect(imported("train_lora_qwen3_lora_dpo.yaml").text).toContain("  beta = 0.1\n  loss = sigmoid\n");
  });

  test("DPO family and KTO keys: pref_*, dpo_label_smoothing, simpo_gamma, kto_* weights; ref_model carried, its adapters reported", () => {
    const dpo = lfText(
      "model_name_or_path: m\nstage: dpo\npref_beta: 0.2\npref_loss: simpo\npref_ftx: 0.5\ndpo_label_smoothing: 0.1\nsimpo_gamma: 0.8\nref_model: other/model\nref_model_adapters: a\n",
      "d.yaml",
    )._unsafeUnwrap();
    expect(dpo.text).toContain(
      'train dpo for 3 epochs {\n  scheduler = linear\n  batch = 8\n  cutoff = 2048\n  beta = 0.2\n  loss = simpo\n  ftx = 0.5\n  label_smoothing = 0.1\n  simpo_gamma = 0.8\n  ref_model = "other/model"\n}',
    );
    expect(dpo.warnings.map((w) => `${w.span?.line} ${w.message.split(";")[0]}`)).toEqual([
      "9 ref_model_adapters: lft loads ref_model as a plain frozen model folder (no adapters on it, no quantisation)",
    ]);
    const kto = lfText("model_name_or_path: m\nstage: kto\npref_beta: 0.3\nkto_chosen_weight: 1.5\nkto_rejected_weight: 0.5\n", "k.yaml")._unsafeUnwrap();
    expect(kto.text).toContain(
      "train kto for 3 epochs {\n  scheduler = linear\n  batch = 8\n  cutoff = 2048\n  beta = 0.3\n  desirable_weight = 1.5\n  undesirable_weight = 0.5\n}",
    );
    expect(kto.warnings).toEqual([]);
    const pair = lfText("model_name_or_path: m\nstage: dpo\npref_loss: kto_pair\n", "p.yaml")._unsafeUnwrap();
    expect(pair.warnings[0]!.message).toStartWith("pref_loss: lft's dpo losses are sigmoid, hinge, ipo, orpo, simpo, bco_pair; kto_pair is not one");
    // Against the shipped plugins, each checks with the real stages' schemas.
    for (const [{ text }, format] of [
      [dpo, "pairwise"],
      [kto, "kto"],
    ] as const) {
      const withData = `${text}\ndataset ${format} "d.json"\n`;
      const checked = checkRecipe(parseRecipe(withData, "out.lft")._unsafeUnwrap(), { registry: registryWith(builtinPlugins), baseDir: "/" });
      expect(checked.isOk() ? [] : checked.error.map((d) => d.message)).toEqual([]);
    }
  });

  test("full fine-tuning with GaLore or BAdam: method full, that optimizer with its options in the train block; bf16 is not applied to trained weights", () => {
    const galore = imported("extras_galore_llama3_full_sft.yaml");
    expect(galore.text).toContain("method full\n");
    expect(galore.text).toContain("  optimizer = galore\n  rank = 128\n  scale = 2\n  target = all\n  layerwise = true\n");
    expect(galore.text).not.toContain("dtype");
    expect(galore.warnings.find((w) => w.message.startsWith("pure_bf16:"))?.message).toBe(
      "pure_bf16: method full trains the base weights, which lft keeps in f32; not carried over",
    );
    const badam = imported("extras_badam_llama3_full_sft.yaml");
    expect(badam.text).toContain("  optimizer = badam\n  mode = layer\n  switch_mode = ascending\n  switch_interval = 50\n  verbose = 2\n");
    expect(badam.warnings.find((w) => w.message.startsWith("badam_"))).toBeUndefined();
    const full = imported("train_full_qwen3_full_sft.yaml");
    expect(full.text).toContain("method full\n");
    expect(full.warnings.find((w) => w.message.startsWith("deepspeed"))?.message).toStartWith("deepspeed: lft trains on one device");
  });

  test("pre-training keeps its stage and has no template", () => {
    const { text } = imported("train_lora_qwen3_lora_pretrain.yaml");
    expect(text).toContain('model "Qwen/Qwen3-4B-Instruct-2507" { dtype = bf16 }');
    expect(text).toContain("train pt for 3 epochs {");
  });
});

describe("issue 11's memory-efficient methods", () => {
  test("APOLLO, Adam-mini and Muon choose the optimizer; its options sit flat in the train block", () => {
    const apollo = imported("extras_apollo_llama3_full_sft.yaml");
    expect(apollo.text).toContain("method full\n");
    expect(apollo.text).toContain("  optimizer = apollo\n  rank = 128\n  scale = 32\n  scale_type = channel\n  target = all\n  layerwise = true\n");
    expect(imported("extras_adam_mini_qwen2_full_sft.yaml").text).toContain("  optimizer = adam_mini\n");
    expect(imported("extras_muon_qwen2_full_sft.yaml").text).toContain("  optimizer = muon\n");
    const all = lfText(
      [
        "model_name_or_path: m",
        "finetuning_type: full",
        "use_galore: true",
        "galore_rank: 8",
        "galore_update_interval: 10",
        "galore_scale: 0.25",
        "galore_proj_type: reverse_std",
        "galore_target: q_proj,v_proj",
        "galore_layerwise: false",
        "apollo_rank: 4",
        "optim: adamw_torch",
        "adam_beta2: 0.95",
        "",
      ].join("\n"),
      "g.yaml",
    )._unsafeUnwrap();
    expect(all.text).toContain(
      'train sft for 3 epochs {\n  scheduler = linear\n  batch = 8\n  cutoff = 2048\n  optimizer = galore\n  rank = 8\n  update_interval = 10\n  scale = 0.25\n  proj_type = reverse_std\n  target = "q_proj,v_proj"\n  layerwise = false\n}',
    );
    expect(all.warnings.map((w) => `${w.span?.line} ${w.message}`)).toEqual([
      "10 apollo_rank: use_apollo is not set, so the apollo optimizer is not used; not carried over",
      "11 optim: use_galore chooses the galore optimizer; not carried over",
      "12 adam_beta2: the galore optimizer's own settings apply; not carried over",
    ]);
  });

  test("BAdam's every option; APOLLO's projection options", () => {
    const badam = lfText(
      "model_name_or_path: m\nfinetuning_type: freeze\nuse_badam: true\nbadam_mode: ratio\nbadam_start_block: 1\nbadam_switch_mode: random\nbadam_switch_interval: 5\nbadam_update_ratio: 0.1\nbadam_mask_mode: scatter\nbadam_verbose: 1\n",
      "b.yaml",
    )._unsafeUnwrap();
    expect(badam.text).toContain(
      "  optimizer = badam\n  mode = ratio\n  start_block = 1\n  switch_mode = random\n  switch_interval = 5\n  update_ratio = 0.1\n  mask_mode = scatter\n  verbose = 1\n",
    );
    expect(badam.warnings).toEqual([]);
    const apollo = lfText(
      "model_name_or_path: m\nfinetuning_type: full\nuse_apollo: true\napollo_update_interval: 50\napollo_proj: random\napollo_proj_type: std\napollo_scale_front: true\n",
      "a.yaml",
    )._unsafeUnwrap();
    expect(apollo.text).toContain(
      "train sft for 3 epochs {\n  scheduler = linear\n  batch = 8\n  cutoff = 2048\n  optimizer = apollo\n  update_interval = 50\n  proj = random\n  proj_type = std\n  scale_front = true\n}",
    );
  });

  test("QLoRA: quantization_bit/type/double_quantization become method qlora's quant_type (nf4, fp4, int8), double_quant, LoRA options after", () => {
    const otfq = imported("train_qlora_qwen3_lora_sft_otfq.yaml");
    expect(otfq.text).toContain("method qlora {\n  quant_type = nf4\n  double_quant = true\n  rank = 8\n  alpha = 16\n  targets = [all]\n}");
    expect(otfq.warnings.find((w) => w.message.startsWith("quantization"))).toBeUndefined();
    expect(imported("train_qlora_qwen3_lora_sft_bnb_npu.yaml").text).toContain("  double_quant = false\n");
    const fp4 = lfText("model_name_or_path: m\nquantization_bit: 4\nquantization_type: fp4\nlora_rank: 16\n", "f.yaml")._unsafeUnwrap();
    expect(fp4.text).toContain("method qlora {\n  quant_type = fp4\n  double_quant = true\n  rank = 16\n  alpha = 32\n}");
    const int8 = lfText("model_name_or_path: m\nquantization_bit: 8\nquantization_type: nf4\n", "i.yaml")._unsafeUnwrap();
    expect(int8.text).toContain("method qlora { quant_type = int8, alpha = 16 }");
    expect(int8.warnings.map((w) => w.message)).toEqual(["quantization_type: applies to 4-bit quantisation only; not carried over"]);
  });

  test("LoRA+ and PiSSA configs keep their options", () => {
    expect(imported("extras_loraplus_llama3_lora_sft.yaml").text).toContain(
      "method lora {\n  rank = 8\n  alpha = 16\n  targets = [all]\n  loraplus_lr_ratio = 16\n}",
    );
    const pissa = imported("extras_pissa_llama3_lora_sft.yaml");
    expect(pissa.text).toContain("method lora {\n  rank = 8\n  alpha = 16\n  targets = [all]\n  init = pissa\n  pissa_iter = 16\n}");
    expect(pissa.warnings.find((w) => w.message.startsWith("pissa"))).toBeUndefined();
  });

  test("LLaMA Pro: freeze_trainable_layers blocks of the already-expanded model, with a comment on expanding in lft", () => {
    const { text, warnings } = imported("extras_llama_pro_llama3_freeze_sft.yaml");
    expect(text).toContain(
      [
        "# model_name_or_path is the model LLaMA-Factory's scripts/llama_pro.py expanded (expanded = true).",
        "# To let lft insert the blocks itself, point the model at the original and remove expanded.",
        "method llama_pro { expand = 8, expanded = true, modules = [all] }",
      ].join("\n"),
    );
    expect(warnings.find((w) => w.message.startsWith("freeze_") || w.message.startsWith("use_llama_pro"))).toBeUndefined();
  });
});

describe("combinations LLaMA-Factory refuses are errors at the key's line", () => {
  const problems = (yaml: string) =>
    lfText(`model_name_or_path: m\n${yaml}`, "x.yaml")
      ._unsafeUnwrapErr()
      .map((d) => `${d.span?.line} ${d.message}`);

  test("GaLore, APOLLO or BAdam with LoRA; two optimizers", () => {
    expect(problems("finetuning_type: lora\nuse_galore: true\n")).toEqual([
      "3 use_galore: galore optimizes the base weights and cannot be combined with finetuning_type lora (LLaMA-Factory refuses this too); use finetuning_type full or freeze",
    ]);
    expect(problems("use_badam: true\n")[0]).toStartWith("2 use_badam: badam optimizes the base weights");
    expect(problems("finetuning_type: full\nuse_galore: true\nuse_muon: true\n")).toEqual([
      "4 use_muon: use_galore already chose the galore optimizer; a run uses one optimizer (LLaMA-Factory refuses this too)",
    ]);
  });

  test("quantisation: only with LoRA, 4 or 8 bits, nf4/fp4, bitsandbytes, not with PiSSA", () => {
    expect(problems("finetuning_type: full\nquantization_bit: 4\n")).toEqual([
      "3 quantization_bit: quantised training is QLoRA: it needs finetuning_type lora, not full (lft keeps weights that train in f32)",
    ]);
    expect(problems("quantization_bit: 2\n")).toEqual(["2 quantization_bit: lft's QLoRA quantises to 4 bits (nf4, fp4) or 8 bits (int8), not 2"]);
    expect(problems("quantization_bit: 4\nquantization_type: int4\n")).toEqual(["3 quantization_type: 4-bit quantisation is nf4 or fp4, not int4"]);
    expect(problems("quantization_bit: 4\nquantization_method: hqq\n")).toEqual([
      "3 quantization_method: lft quantises as bitsandbytes does (bnb); hqq is not supported",
    ]);
    expect(problems("quantization_bit: 4\npissa_init: true\n")).toEqual([
      "3 pissa_init: PiSSA cannot start from a quantised model's weights (LLaMA-Factory refuses this too); drop quantization_bit or pissa_init",
    ]);
  });

  test("LoRA-only keys with another method; LLaMA Pro with full or LoRA", () => {
    expect(problems("finetuning_type: freeze\nloraplus_lr_ratio: 16\nuse_dora: true\n")).toEqual([
      "3 loraplus_lr_ratio: only valid with finetuning_type lora, not freeze",
      "4 use_dora: only valid with finetuning_type lora, not freeze",
    ]);
    expect(problems("finetuning_type: full\nuse_llama_pro: true\n")[0]).toStartWith("3 use_llama_pro: LLaMA Pro trains only the inserted blocks");
    expect(problems("finetuning_type: lora\nuse_llama_pro: true\nfreeze_trainable_layers: 4\n")[0]).toStartWith(
      "3 use_llama_pro: lft's llama_pro trains the inserted blocks whole",
    );
    expect(problems("finetuning_type: freeze\nuse_llama_pro: true\nfreeze_trainable_layers: -2\n")).toEqual([
      "4 freeze_trainable_layers: with use_llama_pro it counts the inserted blocks, a whole number >= 1, not -2",
    ]);
  });
});

describe("inputs it cannot use", () => {
  test("broken YAML is reported at its place", () => {
    const result = lfText("stage: sft\nbad: : :\n", "bad.yaml");
    expect(result.isErr() && result.error.map((d) => `${d.span?.line}:${d.span?.col} ${d.message}`)[0]).toBe(
      "2:6 Nested mappings are not allowed in compact mappings",
    );
  });

  test("a config without a model, or not a mapping", () => {
    expect(lfText("stage: sft\n", "x.yaml")._unsafeUnwrapErr()[0]?.message).toBe("model_name_or_path is missing: a recipe needs its base model");
    expect(lfText("- a\n- b\n", "x.yaml")._unsafeUnwrapErr()[0]?.message).toStartWith("expected a YAML mapping");
  });

  test("LoRA variants: PiSSA start, LoRA+ ratio, extra trained modules", () => {
    const { text } = lfText(
      "model_name_or_path: m\nlora_target: q_proj,v_proj\npissa_init: true\nloraplus_lr_ratio: 16\nadditional_target: embed_tokens\n",
      "p.yaml",
    )._unsafeUnwrap();
    expect(text).toContain(
      "method lora {\n  alpha = 16\n  targets = [q_proj, v_proj]\n  loraplus_lr_ratio = 16\n  additional_target = [embed_tokens]\n  init = pissa\n}",
    );
  });

  test("Adam's hyper-parameters become the adamw optimizer's options, and check against its schema", () => {
    const { text, warnings } = lfText("model_name_or_path: m\noptim: adamw_torch\nadam_beta2: 0.95\nadam_epsilon: 1.0e-6\n", "a.yaml")._unsafeUnwrap();
    expect(warnings).toEqual([]);
    expect(text).toContain(
      "train sft for 3 epochs {\n  scheduler = linear\n  batch = 8\n  cutoff = 2048\n  optimizer = adamw\n  beta2 = 0.95\n  eps = 1e-6\n}",
    );
    const withData = `${text}\ndataset alpaca "d.json"\n`;
    const checked = checkRecipe(parseRecipe(withData, "out.lft")._unsafeUnwrap(), { registry, baseDir: "/" });
    expect(checked._unsafeUnwrap().recipe.actions[0]?.options).toMatchObject({ optimizer: "adamw", beta1: 0.9, beta2: 0.95, eps: 1e-6 });
  });

  test("an unknown key, a step count warmup, quantisation", () => {
    const { text, warnings } = lfText("model_name_or_path: m\nwarmup_steps: 30\nquantization_bit: 4\nmystery: 1\n", "q.yaml")._unsafeUnwrap();
    expect(text).toContain("method qlora { quant_type = nf4, double_quant = true, alpha = 16 }");
    expect(text).toContain("warmup = 30 steps");
    expect(warnings.map((w) => `${w.span?.line} ${w.message}`)).toEqual([
      "4 mystery: not an argument of LLaMA-Factory or of the Hugging Face trainer that lft knows (LLaMA-Factory refuses unknown keys); not carried over",
    ]);
  });
});

describe("issue 13: predict, eval, merge and chat configs; LF defaults; keys lft has", () => {
  test("predict-only: predict blocks with max_samples, eval batch, greedy decoding and the predictions file; lft check accepts it", () => {
    const { text } = imported("extras_nlg_eval_qwen3_lora_predict_greedy.yaml");
    expect(text).toContain(
      'predict "identity" {\n  batch = 2\n  max_samples = 20\n  max_new_tokens = 128\n  temperature = 0\n  output = "saves/qwen3-4b/lora/predict/generated_predictions.jsonl"\n}',
    );
    expect(text).not.toContain("train ");
  });
  test("merge: the adapter loaded, export merges; eval-only: an eval block; inference: chat with LLaMA-Factory's sampling defaults", () => {
    expect(imported("merge_lora_qwen3_lora_sft.yaml").text).toContain(
      'adapter = "saves/qwen3-4b/lora/sft"\n}\n\nexport "saves/qwen3_sft_merged" { merge = true }\n',
    );
    expect(imported("train_lora_qwen3_lora_sft_eval.yaml").text).toContain('eval "identity" { batch = 4, max_samples = 100 }');
    const chat = imported("inference_qwen3.yaml");
    expect(chat.text).toContain("chat { max_new_tokens = 1024, temperature = 0.95, top_p = 0.7 }");
    expect(chat.warnings.some((w) => w.message.startsWith("top_k: lft samples with temperature and top_p only"))).toBe(true);
  });
  test("mask_history, gradient_checkpointing, cosine_with_min_lr's min_lr_rate, alpha = 2 x rank are carried over, not warned", () => {
    const { text, warnings } = imported("train_lora_qwen3_lora_sft_mask_history.yaml");
    expect(text).toContain("method lora { rank = 16, alpha = 32, targets = [q_proj, v_proj] }");
    expect(text).toContain("  scheduler = cosine\n  min_lr = 1e-5\n");
    expect(text).toContain("  mask_history = true\n  checkpointing = true\n");
    expect(warnings.map((w) => w.message.split(":")[0]).sort()).toEqual(["per_device_eval_batch_size", "trust_remote_code"]);
  });
  test("train_on_prompt on sft; lr_scheduler_kwargs lft has no equivalent for is a warning, never a crash", () => {
    const { text, warnings } = lfText(
      "model_name_or_path: m\ntrain_on_prompt: true\nlr_scheduler_type: cosine\nlr_scheduler_kwargs:\n  num_cycles: 2\n",
      "t.yaml",
    )._unsafeUnwrap();
    expect(text).toContain("  train_on_prompt = true\n");
    expect(warnings.map((w) => w.message)).toEqual([
      "lr_scheduler_kwargs: lft's cosine schedule has no num_cycles (only cosine_with_min_lr's min_lr / min_lr_rate are carried over); not carried over",
    ]);
    expect(lfText("model_name_or_path: m\nstage: dpo\ntrain_on_prompt: true\n", "t.yaml")._unsafeUnwrapErr()[0]!.message).toStartWith(
      "train_on_prompt: only the sft stage",
    );
  });
  test("packing and neat_packing keep LLaMA-Factory's two meanings as two options", () => {
    expect(lfText("model_name_or_path: m\nstage: sft\npacking: true\n", "p.yaml")._unsafeUnwrap().text).toContain("  packing = true\n");
    const neat = lfText("model_name_or_path: m\nstage: sft\nneat_packing: true\npacking: true\n", "p.yaml")._unsafeUnwrap().text;
    expect(neat).toContain("  neat_packing = true\n");
    expect(neat).not.toContain("  packing = true");
  });
  test("lft check accepts packing and neat_packing (skipped while the recipe language lacks them)", () => {
    const known = Object.keys(blockRules.train.options);
    for (const option of ["packing", "neat_packing"]) {
      if (!known.includes(option)) {
        console.log(`skipped: the train block has no "${option}" option in this branch (the parity branch adds it)`);
        continue;
      }
      const yaml = `model_name_or_path: m\ndataset: identity\n${option}: true\n`;
      expect(importLlamaFactory(yaml, "p.yaml").isOk()).toBe(true);
    }
  });
  test("what LLaMA-Factory refuses or lft cannot do: benchmark eval, predict without generation; constant schedules have no warmup", () => {
    const messages = (yaml: string) =>
      lfText(`model_name_or_path: m\n${yaml}`, "x.yaml")
        ._unsafeUnwrapErr()
        .map((d) => `${d.span?.line} ${d.message}`);
    expect(messages("task: mmlu_test\nn_shot: 5\n")[0]).toStartWith("2 task: this is a llamafactory-cli eval config (MMLU, C-Eval, CMMLU");
    expect(messages("do_predict: true\neval_dataset: d\n")).toEqual([
      "2 do_predict: predictions are only written with predict_with_generate: true (LLaMA-Factory refuses this too)",
    ]);
    expect(messages("do_predict: true\npredict_with_generate: true\n")[0]).toStartWith("2 do_predict: predicting needs eval_dataset");
    const constant = lfText("model_name_or_path: m\nstage: sft\nlr_scheduler_type: constant\nwarmup_ratio: 0.1\n", "c.yaml")._unsafeUnwrap();
    expect(constant.text).not.toContain("warmup");
    expect(constant.warnings.map((w) => w.message)).toEqual([
      "warmup_ratio: the Hugging Face constant schedule has no warmup (constant_with_warmup has); not carried over",
    ]);
    const chat = lfText("model_name_or_path: m\ndo_eval: true\neval_dataset: d\nquantization_bit: 4\n", "q.yaml")._unsafeUnwrap();
    expect(chat.text).toContain('eval "d" { batch = 8 }');
    expect(chat.warnings.some((w) => w.message.startsWith("quantization_bit: lft quantises a model for QLoRA training only"))).toBe(true);
  });

  test("a config lft check would refuse is an error naming the reason", () => {
    const problems = importLlamaFactory("model_name_or_path: m\nstage: ppo\ndataset: d\n", "p.yaml")._unsafeUnwrapErr();
    expect(problems[0]!.message).toStartWith("the imported recipe would fail lft check");
    expect(problems[0]!.message).toContain("train ppo needs a reward source");
  });
});

describe("checkpoint retention, best checkpoint and early stopping", () => {
  test("save_total_limit, load_best_model_at_end, metric_for_best_model, greater_is_better, early_stopping_steps are carried over", () => {
    const yaml =
      "model_name_or_path: m\nstage: sft\nval_size: 0.1\neval_steps: 50\nsave_steps: 50\nsave_total_limit: 2\nload_best_model_at_end: true\nmetric_for_best_model: accuracy\ngreater_is_better: true\nearly_stopping_steps: 3\n";
    const r = lfText(yaml, "b.yaml")._unsafeUnwrap();
    expect(r.text).toContain(
      '  save_total_limit = 2\n  load_best_model_at_end = true\n  metric_for_best_model = "eval_accuracy"\n  greater_is_better = true\n  early_stopping_steps = 3\n',
    );
    expect(r.warnings.map((w) => w.message).filter((m) => /save_total_limit|best_model|greater_is|early_stopping/.test(m))).toEqual([]);
    const plain = lfText("model_name_or_path: m\nmetric_for_best_model: eval_loss\n", "c.yaml")._unsafeUnwrap();
    expect(plain.text).toContain('metric_for_best_model = "eval_loss"');
  });
});

// Every key of LLaMA-Factory's argument classes (hparams/*_args.py at hiyouga/LLaMA-Factory ff6d4d1) and the
// Hugging Face trainer keys LF users set.
const LF_KEYS = [
  "_kt_adapter_artifact_path _kt_config_handle _kt_inference_config accelerator_config adam_beta1 adam_beta2",
  "adam_epsilon adapter_folder adapter_name_or_path add_special_tokens add_tokens additional_target",
  "advanced_config apollo_layerwise apollo_proj apollo_proj_type apollo_rank apollo_scale apollo_scale_front",
  "apollo_scale_type apollo_target apollo_update_interval asft_alpha audio_sampling_rate",
  "average_tokens_across_devices badam_mask_mode badam_mode badam_start_block badam_switch_interval",
  "badam_switch_mode badam_update_ratio badam_verbose batch_eval_metrics batch_size bf16 bf16_full_eval",
  "block_diag_attn buffer_size cache_dir compute_accuracy compute_dtype create_new_adapter crop_to_patches",
  "cutoff_len data_seed data_shared_file_system dataloader_drop_last dataloader_num_workers",
  "dataloader_persistent_workers dataloader_pin_memory dataloader_prefetch_factor dataset dataset_dir ddp_backend",
  "ddp_broadcast_buffers ddp_bucket_cap_mb ddp_find_unused_parameters ddp_timeout deepspeed default_system",
  "device_map disable_gradient_checkpointing disable_shuffling disable_tqdm do_eval do_predict do_sample do_train",
  "double_quantization download_mode dpo_label_smoothing eaft_alpha early_stopping_steps enable_liger_kernel",
  "enable_thinking enable_torch_profiler eval_accumulation_steps eval_dataset eval_delay eval_num_beams",
  "eval_on_each_dataset eval_on_start eval_steps eval_strategy evaluation_strategy export_device export_dir",
  "export_hub_model_id export_legacy_format export_quantization_bit export_quantization_dataset",
  "export_quantization_maxlen export_quantization_nsamples export_size finetuning_type flash_attn fp16",
  "fp16_full_eval fp8 fp8_backend fp8_enable_fsdp_float8_all_gather freeze_extra_modules freeze_language_model",
  "freeze_multi_modal_projector freeze_trainable_layers freeze_trainable_modules freeze_vision_tower fsdp",
  "fsdp_config full_determinism galore_layerwise galore_proj_type galore_rank galore_scale galore_target",
  "galore_update_interval generation_config generation_max_length generation_num_beams",
  "gradient_accumulation_steps gradient_checkpointing gradient_checkpointing_kwargs greater_is_better",
  "group_by_length hf_hub_token hub_model_id hub_private_repo hub_strategy hub_token hyper_parallel_args",
  "hyper_parallel_cp_size ignore_data_skip ignore_pad_token_for_loss image_do_pan_and_scan image_max_pixels",
  "image_min_pixels include_effective_tokens_per_second include_inputs_for_metrics include_num_input_tokens_seen",
  "include_tokens_per_second infer_backend infer_dtype init_special_tokens interleave_probs jit_mode_eval",
  "kt_cpu_activation kt_expert_checkpoint_path kt_lora_expert_intermediate_size kt_lora_expert_num",
  "kt_non_expert_weight_path kt_use_lora_experts kt_weight_path kto_chosen_weight kto_rejected_weight label_names",
  "label_smoothing_factor lang ld_alpha learning_rate length_column_name length_penalty load_best_model_at_end",
  "local_rank log_level log_level_replica logging_dir logging_first_step logging_nan_inf_filter logging_steps",
  "logging_strategy lora_alpha lora_dropout lora_rank lora_target loraplus_lr_embedding loraplus_lr_ratio",
  "low_cpu_mem_usage lr_scheduler_kwargs lr_scheduler_type mask_history master_addr master_port max_grad_norm",
  "max_length max_new_tokens max_samples max_steps media_dir megatron_bridge_args metric_for_best_model",
  "mix_strategy mixture_of_depths model_max_length model_name_or_path model_revision module_dropout",
  "moe_aux_loss_coef ms_hub_token n_shot neat_packing neftune_noise_alpha new_special_tokens_config num_beams",
  "num_train_epochs offload_folder oft_block_size oft_rank oft_target om_hub_token optim optim_args",
  "optim_target_modules output_dir overwrite_cache overwrite_output_dir packing past_index",
  "per_device_eval_batch_size per_device_train_batch_size pissa_convert pissa_init pissa_iter plot_loss",
  "ppo_buffer_size ppo_epochs ppo_score_norm ppo_target ppo_whiten_rewards predict_with_generate",
  "prediction_loss_only pref_bco_weight pref_beta pref_ftx pref_loss preprocessing_batch_size",
  "preprocessing_num_workers preserve_thinking print_param_status profile_modules profiler_active_steps",
  "profiler_output_dir profiler_profile_memory profiler_record_shapes profiler_repeat profiler_wait_steps",
  "profiler_warmup_steps profiler_with_stack pure_bf16 push_to_hub quantization_bit quantization_device_map",
  "quantization_method quantization_type ray_init_kwargs ray_num_workers ref_model ref_model_adapters",
  "ref_model_quantization_bit remove_unused_columns repetition_penalty report_to resize_vocab",
  "restore_callback_states_from_checkpoint resume_from_checkpoint reward_model reward_model_adapters",
  "reward_model_quantization_bit reward_model_type rope_scaling run_name save_dir save_on_each_node",
  "save_only_model save_safetensors save_steps save_strategy save_total_limit seed sglang_config",
  "sglang_lora_backend sglang_maxlen sglang_mem_fraction sglang_tp_size shift_attn simpo_gamma",
  "skip_memory_metrics skip_special_tokens sortish_sampler split_special_tokens stage streaming swanlab_api_key",
  "swanlab_lark_secret swanlab_lark_webhook_url swanlab_logdir swanlab_mode swanlab_project swanlab_run_name",
  "swanlab_workspace task task_dir temperature template tf32 tokenized_path tool_format top_k top_p torch_compile",
  "torch_compile_backend torch_compile_mode torch_empty_cache_steps train_from_scratch train_on_prompt",
  "trust_remote_code upcast_layernorm upcast_lmhead_output use_adam_mini use_apollo use_asft_loss",
  "use_audio_in_video use_badam use_cpu use_dft_loss use_dora use_eaft_loss use_fast_tokenizer use_galore",
  "use_hyper_parallel use_kt use_kv_cache use_liger_kernel use_llama_pro use_mca use_megatron_bridge use_muon",
  "use_reentrant_gc use_rslora use_swanlab use_unsloth use_unsloth_gc use_v1_kernels val_size video_fps",
  "video_max_pixels video_maxlen video_min_pixels vllm_config vllm_enforce_eager vllm_gpu_util vllm_max_lora_rank",
  "vllm_maxlen warmup_ratio warmup_steps weight_decay",
]
  .join(" ")
  .split(" ");

describe("every LLaMA-Factory argument is mapped, warned with its reason, or refused", () => {
  test(`${LF_KEYS.length} keys, each as true, a number, a word and a mapping: never "unknown", never a crash`, () => {
    const unknown: string[] = [];
    for (const key of LF_KEYS) {
      for (const value of ["true", "1", "x", "\n  a: 1"]) {
        const result = lfText(`model_name_or_path: m\n${key}: ${value}\n`, "k.yaml");
        const messages = result.isOk() ? result.value.warnings.map((w) => w.message) : result.error.map((d) => d.message);
        if (messages.some((m) => m.startsWith(`${key}: not an argument`))) unknown.push(`${key}: ${value.trim()}`);
      }
    }
    expect(unknown).toEqual([]);
  });
  test("a key LLaMA-Factory does not have is named as such", () => {
    const { warnings } = lfText("model_name_or_path: m\nlearning_rat: 1\n", "k.yaml")._unsafeUnwrap();
    expect(warnings.find((w) => w.message.startsWith("learning_rat:"))?.message).toStartWith("learning_rat: not an argument of LLaMA-Factory");
  });
});

test("report_to: tensorboard becomes the train option; other trackers are warned", () => {
  const tb = importLlamaFactory("model_name_or_path: m\ndataset: d\nreport_to: tensorboard,wandb\n", "t.yaml", { check: false })._unsafeUnwrap();
  expect(tb.text).toContain("report_to = tensorboard");
  expect(tb.warnings.map((w) => w.message)).toContainEqual(expect.stringContaining("wandb: not carried over"));
  const none = importLlamaFactory("model_name_or_path: m\ndataset: d\nreport_to: none\n", "n.yaml", { check: false })._unsafeUnwrap();
  expect(none.text).not.toContain("report_to");
  expect(none.warnings.filter((w) => w.message.startsWith("report_to"))).toEqual([]);
});

test("moe_aux_loss_coef becomes the train option of the same name, which lft check accepts", () => {
  const yaml = "model_name_or_path: m\ndataset: identity\nmoe_aux_loss_coef: 0.001\n";
  expect(lfText(yaml, "m.yaml")._unsafeUnwrap().text).toContain("  moe_aux_loss_coef = 0.001\n");
  expect(importLlamaFactory(yaml, "m.yaml").isOk()).toBe(true);
  expect(lfText("model_name_or_path: m\ndataset: identity\nmoe_aux_loss_coef: 0\n", "m.yaml")._unsafeUnwrap().text).not.toContain("moe_aux_loss_coef");
});
