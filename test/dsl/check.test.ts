// Semantic checks against a registry of fake plugins with real option schemas: the examples resolve
// to the expected run, and every kind of mistake is found, at the right place, all at once.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { checkRecipe } from "../../dsl/check.ts";
import type { Diagnostic } from "../../dsl/diagnostics.ts";
import { ExitCode, exitCodeFor } from "../../dsl/exit-codes.ts";
import { parseRecipe } from "../../dsl/parse.ts";
import type { ResolvedRecipe } from "../../dsl/recipe.ts";
import { builtinPlugins } from "../../plugins/index.ts";
import { sgdEntry } from "../../plugins/optimizers/index.ts";
import { fakeData, fakeModels } from "./fixtures/fake-plugins.ts";
import { examplesDir, registryWith } from "./helpers.ts";

const registry = registryWith();

function check(source: string, reg = registry): { resolved?: ResolvedRecipe; problems: Diagnostic[] } {
  const recipe = parseRecipe(source, "r.lft")._unsafeUnwrap();
  const result = checkRecipe(recipe, { registry: reg, baseDir: "/base" });
  return result.isOk() ? { resolved: result.value.recipe, problems: [...result.value.warnings] } : { problems: result.error };
}

const lines = (problems: readonly Diagnostic[]): string[] => problems.map((d) => `${d.span?.line}:${d.span?.col} ${d.message}`);

const prelude = 'model llama "m"\ndataset alpaca "d.json"\n';

describe("the examples check clean and resolve", () => {
  test("lora-sft.lft: bindings, percentages, defaults, mixing, actions in order", () => {
    const { resolved, problems } = check(readFileSync(`${examplesDir}/lora-sft.lft`, "utf8"));
    expect(problems).toEqual([]);
    expect(resolved?.model).toEqual({
      family: "qwen3",
      path: "models/Qwen3-0.6B",
      options: { dtype: "bf16", template: "qwen3_nothink", device: "auto", seed: 42, sliding_window: false },
    });
    expect(resolved?.datasets.map((d) => [d.source, d.options.weight, d.options.max_samples])).toEqual([
      ["data/identity.json", 4, undefined],
      ["data/alpaca_en_demo.json", 1, 1000],
    ]);
    expect(resolved?.method).toEqual({
      name: "lora",
      options: { rank: 8, alpha: 16, dropout: 0.05, targets: ["q_proj", "k_proj", "v_proj", "o_proj"], rslora: false, dora: false },
    });
    const [train, ...rest] = resolved?.actions ?? [];
    expect(train).toMatchObject({ action: "train", stage: "sft", duration: { amount: 3, unit: "epochs" } });
    expect(train?.options).toMatchObject({ lr: 1e-4, warmup: 0.1, holdout: 0.05, accumulate: 8, scheduler: "cosine", pack: false });
    expect(rest).toEqual([
      { action: "export", path: "runs/qwen3-lora-sft/merged", options: { merge: true } },
      { action: "chat", prompt: "Who are you?", options: { max_new_tokens: 256, temperature: 0.7, top_p: 1, seed: 42 } },
    ]);
  });

  test("pretrain-full.lft: a step count keeps its unit", () => {
    const { resolved, problems } = check(readFileSync(`${examplesDir}/pretrain-full.lft`, "utf8"));
    expect(problems).toEqual([]);
    const train = resolved?.actions[0];
    expect(train?.action === "train" && [train.duration, train.options.warmup, train.units]).toEqual([{ amount: 150, unit: "steps" }, 15, { warmup: "steps" }]);
  });

  test("dpo.lft: stage options validated with the stage's schema", () => {
    const { resolved, problems } = check(readFileSync(`${examplesDir}/dpo.lft`, "utf8"), registryWith(builtinPlugins));
    expect(problems).toEqual([]);
    expect(resolved?.datasets).toEqual([{ source: "dpo_en_demo", options: { weight: 1, split: "train", dir: "data" } }]);
    expect(resolved?.actions[0]?.options).toMatchObject({ beta: 0.1, loss: "sigmoid", ftx: 0, label_smoothing: 0, simpo_gamma: 0.5, lr: 3e-3 });
  });

  test("with no plugins, each needed name is 'not available', exit code 3", () => {
    const { problems } = check(readFileSync(`${examplesDir}/dpo.lft`, "utf8"), registryWith([]));
    expect(lines(problems)).toEqual([
      '10:7 model family "llama" is not available (no plugin registers it); known model families: (none)',
      '10:36 chat template "default" is not available (no plugin registers it); known chat templates: (none)',
      '16:8 method "lora" is not available (no plugin registers it); known methods: (none)',
      '19:7 stage "dpo" is not available (no plugin registers it); known stages: (none)',
      '30:9 dataset format "alpaca" is not available (no plugin registers it); known dataset formats: (none)',
    ]);
    expect(problems.every((d) => d.kind === "unavailable")).toBe(true);
    expect(exitCodeFor(problems)).toBe(ExitCode.notAvailable);
  });
});

describe("mistakes, all reported together", () => {
  test("option keys, types, ranges and enums of a plugin's schema", () => {
    const { problems } = check(
      `${prelude}method lora {\n  rnak = 8\n  alpha = "16"\n  dropout = 2\n  targets = [q_proj, 3]\n}\ntrain sft { scheduler = cosin, batch = 0 }`,
    );
    expect(lines(problems)).toEqual([
      '4:3 method "lora": unknown option "rnak"; did you mean "rank"? known options: alpha, dora, dropout, rank, rslora, targets',
      '5:11 method "lora": option "alpha" expects a finite number, found string "16"',
      '6:13 method "lora": option "dropout" must be in [0, 0.9], found 2',
      '7:22 method "lora": option "targets[1]" expects a string, found number 3',
      '9:25 train "sft": option "scheduler" must be one of "constant", "linear", "cosine", found string "cosin"; did you mean "cosine"?',
      '9:40 train "sft": option "batch" must be >= 1, found 0',
    ]);
    expect(exitCodeFor(problems)).toBe(ExitCode.recipeError);
  });

  test("a misspelt method, stage or family gets a did-you-mean over what is registered", () => {
    const { problems } = check('model lama "m"\ndataset alpaca "d"\nmethod lroa\ntrain sfft');
    expect(lines(problems)).toEqual([
      '1:7 unknown model family "lama"; did you mean "llama"? known model families: llama, qwen3',
      '3:8 unknown method "lroa"; did you mean "lora"? known methods: freeze, full, lora, qlora',
      '4:7 unknown stage "sfft"; did you mean "sft"? known stages: dpo, kto, pt, rm, sft',
    ]);
  });

  test("options of an unregistered entry are not judged; lft's own still are", () => {
    const { problems } = check(`${prelude}method vera { anything = 1 }\ntrain sft { bacth = 2 }`);
    expect(lines(problems)).toEqual([
      '3:8 method "vera" is not available (no plugin registers it); known methods: freeze, full, lora, qlora',
      '4:13 train "sft": unknown option "bacth"; did you mean "batch"? known options: accumulate, batch, beta1, beta2, checkpointing, clip, collectives, cutoff, early_stopping_steps, eps, eval_every, greater_is_better, holdout, load_best_model_at_end, log_every, lr, metric_for_best_model, min_lr, moe_aux_loss_coef, neat_packing, optimizer, output, pack, packing, report_to, resume, save_every, save_total_limit, scheduler, seed, warmup, weight_decay, zero',
    ]);
  });

  test("a block without a family accepts any family's options, and still catches typos", () => {
    expect(check('model "m" { sliding_window = true }').problems).toEqual([]);
    expect(lines(check('model "m" { sliding_windo = true }').problems)[0]).toStartWith(
      '1:13 model: unknown option "sliding_windo"; did you mean "sliding_window"?',
    );
  });

  test("units belong to the options that take them; fractions stay within 100%", () => {
    const { problems } = check(`${prelude}method full\ntrain sft { lr = 3 epochs, warmup = 150%, holdout = 2, cutoff = 512 tokens, save_every = 100 steps }`);
    expect(lines(problems)).toEqual([
      '4:18 option "lr" takes a plain number or a percentage, not epochs',
      '4:37 option "warmup" is a fraction of the run, at most 1 (100%), found 1.5; for a step count write warmup = 2 steps',
      '4:53 train "sft": option "holdout" must be in [0, 1], found 2',
    ]);
  });

  test("durations: positive, whole steps", () => {
    expect(lines(check(`${prelude}method full\ntrain sft for 0.5 steps`).problems)).toEqual([
      "4:11 a step count must be a whole number, found 0.5 (fractional epochs are fine: 0.5 epochs)",
    ]);
    expect(check(`${prelude}method full\ntrain sft for 0.5 epochs`).problems).toEqual([]);
  });

  test("let bindings: unknown, duplicate, unused, lists inside strings", () => {
    const { problems } = check('let a = "x"\nlet a = "y"\nlet t = [q]\nlet unused = 1\nmodel "${b}/${t}"\ndataset "${ab}"');
    expect(lines(problems)).toEqual([
      "1:5 let a is never used",
      "2:5 a is already bound by the let on line 1",
      "4:5 let unused is never used",
      '5:8 ${b} is not defined; did you mean "a" or "t"?',
      "5:13 ${t} is a list and cannot be put inside a string",
      '6:10 ${ab} is not defined; did you mean "a"?',
    ]);
    expect(problems.filter((d) => d.severity === "warning").length).toBe(2);
  });

  test("a reference keeps its value's type; escapes decode", () => {
    const { resolved, problems } = check(
      `let r = 16\nlet w = 10%\n${prelude}method lora { rank = \${r} }\ntrain sft { warmup = \${w}, output = "runs/\\\${r}\\t\${r}" }`,
    );
    expect(problems).toEqual([]);
    expect(resolved?.method?.options.rank).toBe(16);
    expect(resolved?.actions[0]?.options).toMatchObject({ warmup: 0.1, output: "runs/${r}\t16" });
  });

  test("structure: actions need a model; train needs data and a method; one model", () => {
    expect(lines(check('train sft\nmodel "a"\nmodel "b"').problems)).toEqual([
      "1:1 train needs a method block (method full trains every parameter; method lora trains adapters)",
      '1:1 train needs at least one dataset block: dataset <format> "<file>"',
      "3:1 a recipe has one model block; the first is on line 2",
    ]);
    expect(lines(check("chat").problems)).toEqual(['1:1 chat needs a model block first: model <family> "<directory>"']);
  });

  test("an option set twice", () => {
    expect(lines(check('model "m" { dtype = f32, dtype = bf16 }').problems)).toEqual(['1:26 option "dtype" is set twice (first on line 1)']);
  });

  test("registry references inside lft's options: templates, metrics, device", () => {
    const { problems } = check('model "m" { template = qwen3_nothnk, device = gpu }\neval "e" { metrics = [accuracy, bleu] }');
    expect(lines(problems)).toEqual([
      '1:24 unknown chat template "qwen3_nothnk"; did you mean "qwen3_nothink"? known chat templates: chatml, llama3, qwen3_nothink',
      '1:47 backend "gpu" is not available (no plugin registers it); known backends: auto',
      '2:33 metric "bleu" is not available (no plugin registers it); known metrics: accuracy',
    ]);
  });

  test("a plugin option that shadows one of lft's is the plugin's error", () => {
    const shadow = registryWith([fakeModels, fakeData]);
    shadow
      .use({
        ...fakeModels,
        name: "shadowing",
        setup: (api) => api.register.methods({ name: "sneaky", doc: "d", options: { lr: { type: "number", doc: "x" } } }),
      })
      ._unsafeUnwrap();
    const { problems } = check(`${prelude}method sneaky`, shadow);
    expect(problems).toEqual([]);
    shadow
      .use({
        ...fakeModels,
        name: "shadowing-stage",
        setup: (api) => api.register.stages({ name: "odd", doc: "d", options: { lr: { type: "number", doc: "x" } } }),
      })
      ._unsafeUnwrap();
    const bad = check(`${prelude}method sneaky\ntrain odd`, shadow).problems;
    expect(lines(bad)).toEqual(['4:7 stage "odd" (plugin "shadowing-stage") declares option "lr", which train blocks already have; the plugin must rename it']);
    expect(exitCodeFor(bad)).toBe(ExitCode.pluginError);
  });
});

describe("the chosen optimizer's own options", () => {
  const withSgd = registryWith();
  withSgd.use({ ...fakeModels, name: "more-optimizers", setup: (api) => api.register.optimizers(sgdEntry) })._unsafeUnwrap();
  const train = (body: string, reg = withSgd) => check(`${prelude}method full\ntrain sft { ${body} }`, reg);

  test("join the train block's: validated, defaults filled in, beside lft's options", () => {
    const adam = train("beta2 = 0.95, weight_decay = 0.1");
    expect(adam.problems).toEqual([]);
    expect(adam.resolved?.actions[0]?.options).toMatchObject({ optimizer: "adamw", beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.1 });
    const sgd = train("optimizer = sgd, momentum = 0.5, nesterov = true");
    expect(sgd.problems).toEqual([]);
    expect(sgd.resolved?.actions[0]?.options).toMatchObject({ optimizer: "sgd", momentum: 0.5, dampening: 0, nesterov: true });
    expect(sgd.resolved?.actions[0]?.options).not.toHaveProperty("beta1");
  });

  test("another optimizer's option is unknown, at its key, with a did-you-mean over the chosen one's", () => {
    expect(lines(train("optimizer = sgd, beta2 = 0.9").problems)).toEqual([
      '4:30 train "sft": unknown option "beta2"; known options: accumulate, batch, checkpointing, clip, collectives, cutoff, dampening, early_stopping_steps, eval_every, greater_is_better, holdout, load_best_model_at_end, log_every, lr, metric_for_best_model, min_lr, moe_aux_loss_coef, momentum, neat_packing, nesterov, optimizer, output, pack, packing, report_to, resume, save_every, save_total_limit, scheduler, seed, warmup, weight_decay, zero',
    ]);
    expect(lines(train("optimizer = sgd, momentun = 0.9").problems)[0]).toStartWith('4:30 train "sft": unknown option "momentun"; did you mean "momentum"?');
    expect(lines(train("momentum = 0.9").problems)[0]).toStartWith(
      '4:13 train "sft": unknown option "momentum"; known options: accumulate, batch, beta1, beta2,',
    );
    expect(lines(train("beta1 = 2").problems)).toEqual(['4:21 train "sft": option "beta1" must be in [0, 1], found 2']);
  });

  test("an optimizer nobody registers: its name is the error, its options are not judged", () => {
    expect(lines(train("optimizer = lion, whatever = 1").problems)).toEqual([
      '4:25 optimizer "lion" is not available (no plugin registers it); known optimizers: adamw, sgd',
    ]);
  });

  test("an optimizer option that clashes with lft's or the stage's is the plugin's error", () => {
    const reg = registryWith();
    const odd = { type: "number", doc: "x" } as const;
    reg
      .use({ ...fakeModels, name: "clashing", setup: (api) => api.register.optimizers({ ...sgdEntry, name: "odd", options: { lr: odd, beta: odd } }) })
      ._unsafeUnwrap();
    const bad = lines(check(`${prelude}method full\ntrain dpo { optimizer = odd }`, reg).problems);
    expect(bad).toEqual([
      '4:25 optimizer "odd" (plugin "clashing") declares option "beta", which stage "dpo" also declares; the plugin must rename it',
      '4:25 optimizer "odd" (plugin "clashing") declares option "lr", which train blocks already have; the plugin must rename it',
    ]);
  });
});
