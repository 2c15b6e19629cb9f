// lft import on LLaMA-Factory's own example configs: each becomes a canonical recipe that passes
// lft check with the method and stage plugins present (and names them when absent), and every key
// left behind gets a warning at its YAML line.

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { checkRecipe } from "../../dsl/check.ts";
import { importLlamaFactory } from "../../dsl/import/llamafactory.ts";
import { parseRecipe } from "../../dsl/parse.ts";
import { printRecipe } from "../../dsl/printer.ts";
import { builtinPlugins } from "../../plugins/index.ts";
import { registryWith, repoRoot } from "./helpers.ts";

const dir = `${repoRoot}/test/fixtures/llamafactory-configs`;
const configs = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
const registry = registryWith();

function imported(name: string) {
  const text = readFileSync(`${dir}/${name}`, "utf8");
  return importLlamaFactory(text, name)._unsafeUnwrap();
}

describe("every LLaMA-Factory example config", () => {
  test("all eight fixtures are present", () => {
    expect(configs.length).toBe(8);
  });
  for (const name of configs) {
    test(`${name}: canonical, checks clean; without plugins only 'not available'`, () => {
      const { text, warnings } = imported(name);
      const recipe = parseRecipe(text, "out.lft")._unsafeUnwrap();
      expect(printRecipe(recipe)).toBe(text);
      const checked = checkRecipe(recipe, { registry, baseDir: "/" });
      expect(checked.isOk() ? [] : checked.error.map((d) => d.message)).toEqual([]);
      const bare = checkRecipe(recipe, { registry: registryWith([]), baseDir: "/" });
      expect(bare.isErr() && bare.error.every((d) => d.kind === "unavailable")).toBe(true);
      // Against the plugins lft ships today: nothing but names that have not arrived yet.
      const shipped = checkRecipe(recipe, { registry: registryWith(builtinPlugins), baseDir: "/" });
      expect(shipped.isOk() ? [] : shipped.error.filter((d) => d.kind !== "unavailable").map((d) => d.message)).toEqual([]);
      // Every warning names a key of the YAML at the line it is on.
      const lines = readFileSync(`${dir}/${name}`, "utf8").split("\n");
      for (const w of warnings) {
        const key = w.message.split(":")[0]!;
        expect(lines[w.span!.line - 1]).toStartWith(`${key}:`);
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
        'dataset "identity" { dir = "data", max_samples = 1000 }',
        'dataset "alpaca_en_demo" { dir = "data", max_samples = 1000 }',
        "",
        "method lora { rank = 8, targets = [all] }",
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
      "report_to",
      "ddp_timeout",
    ]);
    expect(warnings.every((w) => w.severity === "warning")).toBe(true);
  });

  test("DPO: the stage's beta and loss", () => {
    expect(imported("train_lora_qwen3_lora_dpo.yaml").text).toContain("train dpo for 3 epochs {\n  lr = 5e-6");
    expect(imported("train_lora_qwen3_lora_dpo.yaml").text).toContain("  beta = 0.1\n  loss = sigmoid\n");
  });

  test("DPO family and KTO keys: pref_*, dpo_label_smoothing, simpo_gamma, kto_* weights; ref_model carried, its adapters reported", () => {
    const dpo = importLlamaFactory(
      "model_name_or_path: m\nstage: dpo\npref_beta: 0.2\npref_loss: simpo\npref_ftx: 0.5\ndpo_label_smoothing: 0.1\nsimpo_gamma: 0.8\nref_model: other/model\nref_model_adapters: a\n",
      "d.yaml",
    )._unsafeUnwrap();
    expect(dpo.text).toContain(
      'train dpo {\n  beta = 0.2\n  loss = simpo\n  ftx = 0.5\n  label_smoothing = 0.1\n  simpo_gamma = 0.8\n  ref_model = "other/model"\n}',
    );
    expect(dpo.warnings.map((w) => `${w.span?.line} ${w.message.split(";")[0]}`)).toEqual([
      "9 ref_model_adapters: lft loads ref_model as a plain frozen model folder (no adapters on it, no quantisation)",
    ]);
    const kto = importLlamaFactory(
      "model_name_or_path: m\nstage: kto\npref_beta: 0.3\nkto_chosen_weight: 1.5\nkto_rejected_weight: 0.5\n",
      "k.yaml",
    )._unsafeUnwrap();
    expect(kto.text).toContain("train kto { beta = 0.3, desirable_weight = 1.5, undesirable_weight = 0.5 }");
    expect(kto.warnings).toEqual([]);
    const pair = importLlamaFactory("model_name_or_path: m\nstage: dpo\npref_loss: kto_pair\n", "p.yaml")._unsafeUnwrap();
    expect(pair.warnings[0]!.message).toStartWith("pref_loss: lft's dpo losses are sigmoid, hinge, ipo, orpo, simpo, bco_pair; kto_pair is not one");
    // Against the shipped plugins, each checks with the real stages' schemas.
    for (const { text } of [dpo, kto]) {
      const withData = `${text}\ndataset alpaca "d.json"\n`;
      const checked = checkRecipe(parseRecipe(withData, "out.lft")._unsafeUnwrap(), { registry: registryWith(builtinPlugins), baseDir: "/" });
      expect(checked.isOk() ? [] : checked.error.map((d) => d.message)).toEqual([]);
    }
  });

  test("full fine-tuning with GaLore or BAdam becomes that method; bf16 is not applied to trained weights", () => {
    const galore = imported("extras_galore_llama3_full_sft.yaml");
    expect(galore.text).toContain("method galore {\n  rank = 128\n  scale = 2\n  layerwise = true\n  targets = [all]\n}");
    expect(galore.text).not.toContain("dtype");
    expect(galore.warnings.find((w) => w.message.startsWith("pure_bf16:"))?.message).toBe(
      "pure_bf16: method galore trains the base weights, which lft keeps in f32; not carried over",
    );
    const badam = imported("extras_badam_llama3_full_sft.yaml");
    expect(badam.text).toContain("method badam { mode = layer, switch_mode = ascending, switch_interval = 50 }");
    expect(badam.warnings.find((w) => w.message.startsWith("badam_verbose"))?.span?.line).toBe(13);
    const full = imported("train_full_qwen3_full_sft.yaml");
    expect(full.text).toContain("method full\n");
    expect(full.warnings.find((w) => w.message.startsWith("deepspeed"))?.message).toBe("deepspeed: lft trains on one device");
  });

  test("pre-training keeps its stage and has no template", () => {
    const { text } = imported("train_lora_qwen3_lora_pretrain.yaml");
    expect(text).toContain('model "Qwen/Qwen3-4B-Instruct-2507" { dtype = bf16 }');
    expect(text).toContain("train pt for 3 epochs {");
  });
});

describe("inputs it cannot use", () => {
  test("broken YAML is reported at its place", () => {
    const result = importLlamaFactory("stage: sft\nbad: : :\n", "bad.yaml");
    expect(result.isErr() && result.error.map((d) => `${d.span?.line}:${d.span?.col} ${d.message}`)[0]).toBe(
      "2:6 Nested mappings are not allowed in compact mappings",
    );
  });

  test("a config without a model, or not a mapping", () => {
    expect(importLlamaFactory("stage: sft\n", "x.yaml")._unsafeUnwrapErr()[0]?.message).toBe("model_name_or_path is missing: a recipe needs its base model");
    expect(importLlamaFactory("- a\n- b\n", "x.yaml")._unsafeUnwrapErr()[0]?.message).toStartWith("expected a YAML mapping");
  });

  test("LoRA variants: PiSSA start, LoRA+ ratio, extra trained modules", () => {
    const { text } = importLlamaFactory(
      "model_name_or_path: m\nlora_target: q_proj,v_proj\npissa_init: true\nloraplus_lr_ratio: 16\nadditional_target: embed_tokens\n",
      "p.yaml",
    )._unsafeUnwrap();
    expect(text).toContain("method lora {\n  targets = [q_proj, v_proj]\n  loraplus_lr_ratio = 16\n  additional_target = [embed_tokens]\n  init = pissa\n}");
  });

  test("Adam's hyper-parameters become the adamw optimizer's options, and check against its schema", () => {
    const { text, warnings } = importLlamaFactory(
      "model_name_or_path: m\noptim: adamw_torch\nadam_beta2: 0.95\nadam_epsilon: 1.0e-6\n",
      "a.yaml",
    )._unsafeUnwrap();
    expect(warnings).toEqual([]);
    expect(text).toContain("train sft { optimizer = adamw, beta2 = 0.95, eps = 1e-6 }");
    const withData = `${text}\ndataset alpaca "d.json"\n`;
    const checked = checkRecipe(parseRecipe(withData, "out.lft")._unsafeUnwrap(), { registry, baseDir: "/" });
    expect(checked._unsafeUnwrap().recipe.actions[0]?.options).toMatchObject({ optimizer: "adamw", beta1: 0.9, beta2: 0.95, eps: 1e-6 });
  });

  test("an unknown key, a step count warmup, quantisation", () => {
    const { text, warnings } = importLlamaFactory("model_name_or_path: m\nwarmup_steps: 30\nquantization_bit: 4\nmystery: 1\n", "q.yaml")._unsafeUnwrap();
    expect(text).toContain("method qlora { bits = 4 }");
    expect(text).toContain("warmup = 30 steps");
    expect(warnings.map((w) => `${w.span?.line} ${w.message}`)).toEqual(["4 mystery: not carried over: lft has no equivalent setting"]);
  });
});
