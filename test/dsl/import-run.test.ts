// Every shipped LLaMA-Factory config, imported, checked against the plugins lft ships and run: the
// YAML is pointed at the shipped stories260K model, the identity demo data (a dataset_info.json in a
// scratch folder names it under the configs' dataset names) and 2 steps, then `lft import` makes the
// recipe, `lft check` must accept it against the plugins lft ships, and `lft` trains it. No config is
// skipped: every method, optimizer and stage a shipped config names is a built-in plugin.
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRegistry } from "../../core/index.ts";
import { checkRecipe } from "../../dsl/check.ts";
import { lftPlugin } from "../../dsl/commands/index.ts";
import { ExitCode } from "../../dsl/exit-codes.ts";
import { importLlamaFactory } from "../../dsl/import/llamafactory.ts";
import { parseRecipe } from "../../dsl/parse.ts";
import { cpuBackend } from "../../lft.ts";
import { builtinPlugins } from "../../plugins/index.ts";
import { createValueHead, saveValueHead } from "../../plugins/stages/index.ts";
import { IDENTITY, lft, REPO, STORIES, scratch } from "../plugins/runner/helpers.ts";

const configs = join(REPO, "test/fixtures/llamafactory-configs");
const { dir, cleanup } = scratch("import-run");
afterAll(cleanup);

// The configs' dataset names, all on the shipped demo data.
const data = join(dir, "data");
Bun.spawnSync(["mkdir", "-p", data]);
copyFileSync(IDENTITY, join(data, "identity.json"));
// The preference configs (rm, dpo, kto) read LLaMA-Factory's own demo sets, with their dataset_info entries.
const lfData = join(REPO, "test/fixtures/llamafactory-data");
const lfInfo = JSON.parse(readFileSync(join(lfData, "dataset_info.json"), "utf8")) as Record<string, { file_name: string }>;
for (const name of ["dpo_en_demo", "kto_en_demo"]) copyFileSync(join(lfData, lfInfo[name]!.file_name), join(data, lfInfo[name]!.file_name));
writeFileSync(join(data, "wiki.txt"), readFileSync(join(REPO, "examples/data/wiki.valid.txt"), "utf8").slice(0, 20_000));
writeFileSync(
  join(data, "dataset_info.json"),
  JSON.stringify({
    identity: { file_name: "identity.json" },
    alpaca_en_demo: { file_name: "identity.json" },
    c4_demo: { file_name: "wiki.txt", columns: { prompt: "text" } },
    dpo_en_demo: lfInfo.dpo_en_demo,
    kto_en_demo: lfInfo.kto_en_demo,
  }),
);

// PPO's reward model: a full model folder with a value head (the shipped model + a fresh head).
const rewardFull = join(dir, "reward-full");
Bun.spawnSync(["cp", "-r", STORIES, rewardFull]);
saveValueHead(createValueHead(64, 1, cpuBackend), rewardFull)._unsafeUnwrap();

/** The YAML with the model, data and length made tiny; `set` adds or replaces top-level keys. */
function tiny(yaml: string, name: string, set: Readonly<Record<string, string>> = {}): string {
  const values: Record<string, string> = {
    model_name_or_path: STORIES,
    template: "default",
    dataset_dir: data,
    cutoff_len: "64",
    max_samples: "16",
    max_steps: "2",
    per_device_train_batch_size: "2",
    gradient_accumulation_steps: "1",
    save_steps: "1000",
    output_dir: join(dir, "runs", name),
    ...set,
  };
  const lines = yaml.split("\n").filter((line) => !Object.keys(values).some((key) => line.startsWith(`${key}:`)));
  return [...lines, ...Object.entries(values).map(([k, v]) => `${k}: ${v}`), ""].join("\n");
}

/** Per config: keys that make it fit the tiny model, and edits to the imported recipe. */
const adjust: Readonly<Record<string, { set?: Record<string, string>; recipe?: (text: string) => string }>> = {
  // stories260K has 5 layers: 5 new blocks; lft expands the original itself instead of loading an expanded copy.
  "extras_llama_pro_llama3_freeze_sft.yaml": { set: { freeze_trainable_layers: "5" }, recipe: (t) => t.replace(", expanded = true", "") },
  // The pre-training config reads a text dataset; LoRA on the shipped model is checked the same way.
  "train_lora_qwen3_lora_pretrain.yaml": {},
  // PPO scores its rollouts with a reward model folder; 4 new tokens keep the rollouts short.
  "train_lora_llama3_lora_ppo.yaml": { set: { reward_model: rewardFull, reward_model_type: "full", max_new_tokens: "4" } },
};

const registry = createRegistry();
for (const plugin of [lftPlugin, ...builtinPlugins]) registry.use(plugin)._unsafeUnwrap();

interface Prepared {
  readonly name: string;
  readonly text: string;
  readonly problems: readonly string[];
}

function prepare(name: string): Prepared {
  const fix = adjust[name] ?? {};
  const imported = importLlamaFactory(tiny(readFileSync(join(configs, name), "utf8"), name.replace(/\.yaml$/, ""), fix.set), name);
  if (imported.isErr()) return { name, text: "", problems: imported.error.map((d) => d.message) };
  const text = fix.recipe ? fix.recipe(imported.value.text) : imported.value.text;
  const checked = checkRecipe(parseRecipe(text, join(dir, "x.lft"))._unsafeUnwrap(), { registry, baseDir: dir });
  return { name, text, problems: checked.isOk() ? [] : checked.error.map((d) => d.message) };
}

// Training configs only: predict, eval, merge and chat configs have no train block to run, those import
// refuses are tested in import.test.ts, and the GPTQ one needs GPTQ weights lft cannot load.
const notTraining = /^(inference_|merge_lora_|extras_nlg_eval_|extras_(dft|fp8|mod|oft)_|train_qlora_llama3_lora_sft_gptq)|_eval\.yaml$/;
const prepared = readdirSync(configs)
  .filter((f) => f.endsWith(".yaml") && !notTraining.test(f))
  .sort()
  .map(prepare);

describe("each LLaMA-Factory config: imported, checked, trained 2 steps on the shipped model", () => {
  for (const p of prepared) {
    test(`${p.name}: lft check accepts it`, () => {
      expect(p.problems).toEqual([]);
    });
    test(`${p.name}: runs 2 steps`, async () => {
      const run = await lft(dir, `${p.name.replace(/\.yaml$/, "")}.lft`, p.text);
      expect(run.err).not.toMatch(/\n\s+at /);
      expect(run.code === ExitCode.ok ? "" : run.err).toBe("");
      expect(run.err).toContain("completed at step 2");
      expect(run.out).toMatch(/train (sft|pt|rm|dpo|kto|ppo): 2 steps/);
      const output = join(dir, "runs", p.name.replace(/\.yaml$/, ""));
      expect(existsSync(output)).toBe(true);
      if (p.name.includes("llama_pro")) {
        // The expanded model (5 + 5 layers) is what train wrote.
        expect(JSON.parse(readFileSync(join(output, "config.json"), "utf8")).num_hidden_layers).toBe(10);
        expect(run.out).toContain("method llama_pro:");
      }
    }, 60_000);
  }
});

test("the shipped configs cover every issue-11 method and optimizer and every preference stage", () => {
  const names = prepared.map((p) => p.name).join(" ");
  for (const key of ["llama_pro", "loraplus", "pissa", "galore", "apollo", "badam", "adam_mini", "muon", "qlora", "dpo", "kto", "reward", "ppo"])
    expect(names).toContain(key);
});

/** The YAML with some keys replaced or added and others removed (no training keys added). */
function retarget(yaml: string, set: Readonly<Record<string, string>>, drop: readonly string[] = []): string {
  const gone = [...Object.keys(set), ...drop];
  const lines = yaml.split("\n").filter((line) => !gone.some((key) => line.startsWith(`${key}:`)));
  return [...lines, ...Object.entries(set).map(([k, v]) => `${k}: ${v}`), ""].join("\n");
}

describe("configs that do not train: predict, eval and merge/export run on the shipped model", () => {
  const common = { model_name_or_path: STORIES, template: "default", dataset_dir: data };
  const cases: readonly { name: string; set: Record<string, string>; out: RegExp; file?: string }[] = [
    {
      name: "extras_nlg_eval_qwen3_lora_predict_greedy.yaml",
      set: { ...common, max_samples: "3", max_new_tokens: "4", output_dir: join(dir, "runs", "predict") },
      out: /predict/,
      file: join(dir, "runs", "predict", "generated_predictions.jsonl"),
    },
    { name: "train_lora_qwen3_lora_sft_eval.yaml", set: { ...common, max_samples: "4" }, out: /eval/ },
    {
      name: "merge_lora_qwen3_full_sft.yaml",
      set: { ...common, export_dir: join(dir, "runs", "exported") },
      out: /export/,
      file: join(dir, "runs", "exported", "config.json"),
    },
  ];
  for (const c of cases) {
    test(`${c.name}: imported, checked and run`, async () => {
      const yaml = retarget(readFileSync(join(configs, c.name), "utf8"), c.set, ["adapter_name_or_path"]);
      const imported = importLlamaFactory(yaml, c.name);
      expect(imported.isOk() ? [] : imported.error.map((d) => d.message)).toEqual([]);
      const text = imported._unsafeUnwrap().text;
      expect(text).not.toContain("train ");
      const run = await lft(dir, `${c.name.replace(/\.yaml$/, "")}.lft`, text);
      expect(run.code === ExitCode.ok ? "" : run.err).toBe("");
      expect(run.out).toMatch(c.out);
      if (c.file !== undefined) expect(existsSync(c.file)).toBe(true);
    }, 60_000);
  }
});
