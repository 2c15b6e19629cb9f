// Issue 15, recipe and option bounds: hostile recipes and configs get a located error at `lft check`
// (exit 1) and the same bound again where the run would have used them (the loader, the LoRA method,
// generate(), train()), instead of a stack overflow, a hang, a heap overrun or a silent success.
// Checks run in-process against the built-in plugins; one `lft` process checks the exit status and
// that no stack trace reaches the user.

import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRegistry, estimateModelSize, generate, loadModel, modelSizeProblem, ops, shuffledBatches, tensor, train } from "../../core/index.ts";
import { lftPlugin } from "../../dsl/commands/index.ts";
import { type Diagnostic, isError } from "../../dsl/diagnostics.ts";
import { ExitCode, exitCodeFor } from "../../dsl/exit-codes.ts";
import { importLlamaFactory } from "../../dsl/import/llamafactory.ts";
import { maxNesting, parseSource } from "../../dsl/parse.ts";
import { checkSource } from "../../dsl/pipeline.ts";
import { checkResources } from "../../dsl/resources.ts";
import { builtinPlugins } from "../../plugins/index.ts";
import { applyLora, loraOptions, loraSettings } from "../../plugins/methods/lora/index.ts";
import { adamw } from "../../plugins/optimizers/index.ts";
import { corpus, tinyRun } from "../core/train/tiny-run.ts";
import { repoRoot } from "../dsl/helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "lft-attack-recipes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const registry = createRegistry();
for (const p of [lftPlugin, ...builtinPlugins]) registry.use(p)._unsafeUnwrap();

const stories = `${repoRoot}/examples/models/stories260K`;
writeFileSync(join(dir, "d.json"), JSON.stringify([{ instruction: "hi", output: "hello" }]));

/** A copy of stories260K with config.json keys replaced (the weights stay: only the config lies). */
function modelWith(name: string, changes: Record<string, unknown>): string {
  const to = join(dir, name);
  mkdirSync(to, { recursive: true });
  for (const f of ["model.safetensors", "generation_config.json", "tokenizer.json", "tokenizer_config.json"]) {
    try {
      copyFileSync(join(stories, f), join(to, f));
    } catch {
      // Not every file is in every example model.
    }
  }
  const config = JSON.parse(readFileSync(join(stories, "config.json"), "utf8")) as Record<string, unknown>;
  writeFileSync(join(to, "config.json"), JSON.stringify({ ...config, ...changes }));
  return to;
}

/** `lft check` in-process: syntax, options, and the disk/model checks; every diagnostic and the exit status. */
async function check(text: string): Promise<{ problems: Diagnostic[]; code: number; shown: string }> {
  const result = await checkSource(text, "r.lft", registry, dir);
  const problems = result.isErr() ? result.error.filter(isError) : checkResources(result.value.recipe, result.value.checked.recipe, registry).filter(isError);
  const shown = problems.map((d) => `r.lft:${d.span?.line}:${d.span?.col}: ${d.message}`).join("\n");
  return { problems, code: exitCodeFor(problems), shown };
}

const train1 = (method = "method lora { rank = 4 }", tail = "") =>
  `model llama "${stories}"\ndataset alpaca "d.json"\n${method}\ntrain sft for 1 steps { output = "out" }${tail}\n`;

describe("the lexer and parser", () => {
  test("a valid recipe with a 2 MB string is accepted, escapes and all", async () => {
    const long = "a".repeat(2_000_000);
    const escaped = "x\\n".repeat(400_000);
    for (const s of [long, escaped]) {
      const r = await check(`model llama "${stories}"\nchat "hi" { system = "${s}" }\n`);
      expect(r.shown).toBe("");
    }
  });

  test("a recipe over 64 MiB is refused with its size, not lexed", () => {
    const huge = `# ${"x".repeat(65 * 1024 * 1024)}\n`;
    const t0 = performance.now();
    const { diagnostics } = parseSource(huge, "r.lft");
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.message).toMatch(/the recipe is 65\.0 MiB; recipes are at most 64 MiB/);
  });

  test("5000 nested lists (and braces, and a deep let) give one located 'nesting deeper than' error, exit 1", async () => {
    const cases = [
      `method lora { targets = ${"[".repeat(5000)}${"]".repeat(5000)} }\n`,
      `let x = ${"[".repeat(5000)}1${"]".repeat(5000)}\n`,
      `method lora ${"{".repeat(5000)}\n`,
      `model llama "${stories}"\nchat { system = ${"[".repeat(maxNesting + 1)}${"]".repeat(maxNesting + 1)} }\n`,
    ];
    for (const text of cases) {
      const r = await check(text);
      expect(r.code).toBe(ExitCode.recipeError);
      const deep = r.problems.filter((d) => d.message.startsWith(`nesting deeper than ${maxNesting} levels`));
      expect(deep).toHaveLength(1);
      expect(deep[0]!.span?.line).toBeGreaterThan(0);
      expect(r.shown).not.toContain("call stack");
    }
    // At the limit (the block's brace is a level) it parses, and fails for what it is: lists where names go.
    const atLimit = await check(`method lora { targets = ${"[".repeat(maxNesting - 1)}${"]".repeat(maxNesting - 1)} }\n`);
    expect(atLimit.shown).not.toContain("nesting deeper");
    expect(atLimit.code).toBe(ExitCode.recipeError);
  });
});

test("a LLaMA-Factory YAML nested 12000 deep says so at its line (lft import), not 'Maximum call stack'", () => {
  for (const yaml of [
    `stage: sft\nlora_target: ${"[".repeat(12_000)}${"]".repeat(12_000)}\n`,
    `stage: sft\nlr_scheduler_kwargs: ${"{a: ".repeat(12_000)}1${"}".repeat(12_000)}\n`,
  ]) {
    const problems = importLlamaFactory(yaml, "deep.yaml")._unsafeUnwrapErr();
    expect(problems[0]!.message).toMatch(/^nesting too deep: a LLaMA-Factory config's values are/);
    expect(problems[0]!.span?.line).toBe(2);
    expect(problems.map((d) => d.message).join("\n")).not.toContain("call stack");
  }
});

describe("counts are safe integers", () => {
  test("for 9007199254740993 steps is refused at its span; 2^53 - 1 passes", async () => {
    const r = await check(train1().replace("for 1 steps", "for 9007199254740993 steps"));
    expect(r.code).toBe(ExitCode.recipeError);
    expect(r.shown).toContain("r.lft:4:11: a step count must be at most 9007199254740991 (2^53 - 1), found 9007199254740993");
    expect((await check(train1().replace("for 1 steps", "for 9007199254740991 steps"))).shown).toBe("");
    for (const count of ["9007199254740993 steps", "1.5 steps", "1e300 tokens"]) {
      const key = count.endsWith("tokens") ? "cutoff" : "warmup";
      const unit = count.split(" ")[1];
      const written = await check(train1().replace('{ output = "out" }', `{ output = "out", ${key} = ${count} }`));
      expect(written.shown).toContain(`option "${key}": a count of ${unit} is a whole number of at most 9007199254740991`);
    }
    const epochs = await check(train1().replace("for 1 steps", "for 1e300 epochs"));
    expect(epochs.shown).toContain("an epoch count must be at most");
  });

  test("an integer option past 2^53 names the option (rank, batch, seed, max_samples, --set)", async () => {
    const big = "4611686018427387904";
    for (const [text, key] of [
      [train1(`method lora { rank = ${big}, targets = [all] }`), "rank"],
      [train1().replace('{ output = "out" }', `{ output = "out", batch = ${big} }`), "batch"],
      [train1().replace('{ output = "out" }', '{ output = "out", seed = 1e300 }'), "seed"],
      [train1().replace('"d.json"', `"d.json" { max_samples = ${big} }`), "max_samples"],
    ] as const) {
      const r = await check(text);
      expect(r.code).toBe(ExitCode.recipeError);
      expect(r.shown).toMatch(new RegExp(`option "${key}" expects a whole number of at most 9007199254740991`));
    }
  });
});

describe("model configs are bounded before anything is built", () => {
  test("num_hidden_layers = 1e6 is refused at check (key named) and by loadModel within a second", async () => {
    const model = modelWith("layers", { num_hidden_layers: 1_000_000 });
    const r = await check(`model llama "${model}"\nchat "hi"\n`);
    expect(r.code).toBe(ExitCode.recipeError);
    expect(r.shown).toMatch(/r\.lft:1:13: .*config\.json: num_hidden_layers = 1000000; lft builds models of at most 10000 layers/);
    const t0 = performance.now();
    const loaded = loadModel(model, registry);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(loaded._unsafeUnwrapErr().message).toMatch(/config\.json: key "num_hidden_layers": num_hidden_layers = 1000000/);
  });

  test("a config bigger than the machine's memory names the odd key; sizes past 2^53 are refused as sizes", async () => {
    const wide = modelWith("wide", { hidden_size: 8_000_000, intermediate_size: 172 });
    const r = await check(`model llama "${wide}"\nchat "hi"\n`);
    expect(r.code).toBe(ExitCode.recipeError);
    expect(r.shown).toMatch(/parameters \(.*hidden_size = 8000000.*\), .* as loaded, more than this machine's .* of memory \(look at "hidden_size"\)/);
    expect(r.shown).toContain("; dtype = bf16 in the model block halves the weights, method qlora stores them in 4 bits");
    expect(loadModel(wide, registry)._unsafeUnwrapErr().message).toMatch(/key "hidden_size": the config describes about/);
    expect(modelSizeProblem({ vocab_size: 2 ** 60, hidden_size: 64 }, { bytesPerParameter: 4 })).toEqual({
      key: "vocab_size",
      detail: `must be a positive whole number of at most 2^53 - 1, found ${2 ** 60}`,
    });
    // The estimate is a lower bound for a real model: stories260K's ~260K parameters, tied embeddings once.
    const real = estimateModelSize(JSON.parse(readFileSync(join(stories, "config.json"), "utf8")));
    expect("parameters" in real && real.parameters).toBeGreaterThan(200_000);
    expect("parameters" in real && real.parameters).toBeLessThanOrEqual(300_000);
    // Quantised loading counts half a byte a parameter: 100 GB of bf16 weights would fit a 64 GB machine as 4-bit.
    const big = { hidden_size: 8192, intermediate_size: 28672, num_hidden_layers: 80, num_attention_heads: 64, num_key_value_heads: 8, vocab_size: 128256 };
    expect(modelSizeProblem(big, { bytesPerParameter: 2, memoryBytes: 64 * 2 ** 30 })?.detail).toContain("more than this machine's 64.0 GiB");
    expect(modelSizeProblem(big, { bytesPerParameter: 0.5, memoryBytes: 64 * 2 ** 30 })).toBeUndefined();
  });
});

describe("adapter ranks fit the layers they target", () => {
  test("rank 1e6 is refused at check at the rank's span, and by the method at apply time without allocating", async () => {
    const r = await check(train1("method lora { rank = 1000000 }"));
    expect(r.code).toBe(ExitCode.recipeError);
    expect(r.shown).toMatch(
      /r\.lft:3:22: rank 1000000 is more than the layers can hold: the widest target, \w+, is \[\d+, \d+\], so rank is at most min\(in, out\) = 64/,
    );
    expect((await check(train1("method lora { rank = 64 }"))).shown).toBe("");
    const pissa = await check(train1("method lora { rank = 40, init = pissa, targets = [q_proj, k_proj] }"));
    expect(pissa.shown).toContain("PiSSA's rank is at most the smaller side of every target; k_proj is [32, 64], so rank is at most min(in, out) = 32");

    const loaded = loadModel(stories, registry)._unsafeUnwrap();
    const family = loaded.family;
    for (const rank of [1_000_000, 65, 2 ** 62]) {
      const t0 = performance.now();
      const settings = loraSettings({ ...defaults(), rank }, family);
      const applied = applyLora(loaded.model, settings, family);
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(applied._unsafeUnwrapErr().message).toMatch(new RegExp(`rank ${rank} exceeds the smaller side of every target .*min\\(in, out\\) = 64`));
    }
    expect(applyLora(loaded.model, loraSettings({ ...defaults(), rank: 64 }, family), family).isOk()).toBe(true);
    loaded.model.dispose();
  });
});

function defaults() {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(loraOptions)) if ("default" in v) o[k] = v.default;
  return o as Parameters<typeof loraSettings>[0];
}

describe("generation stays within the model's context", () => {
  test("chat { max_new_tokens = 1e9 } is refused at check; rope_scaling linear widens the bound", async () => {
    const r = await check(`model llama "${stories}"\nchat "hi" { max_new_tokens = 1e9 }\n`);
    expect(r.code).toBe(ExitCode.recipeError);
    expect(r.shown).toContain("r.lft:2:30: max_new_tokens = 1e9 does not fit the model's context of 512 positions (max_position_embeddings in");
    const predict = await check(`model llama "${stories}"\npredict alpaca "d.json" { max_new_tokens = 512 }\n`);
    expect(predict.shown).toContain("at most 511");
    expect((await check(`model llama "${stories}"\nchat "hi" { max_new_tokens = 511 }\n`)).shown).toBe("");
    const scaled = modelWith("scaled", { rope_scaling: { type: "linear", factor: 4 } });
    expect((await check(`model llama "${scaled}"\nchat "hi" { max_new_tokens = 2000 }\n`)).shown).toBe("");
    expect((await check(`model llama "${scaled}"\nchat "hi" { max_new_tokens = 2048 }\n`)).shown).toContain("context of 2048 positions");
  });

  test("generate() with maxNewTokens = 1e9 stops at the context, finish reason length; a prompt filling it is refused", () => {
    const short = modelWith("short", { max_position_embeddings: 16 });
    const loaded = loadModel(short, registry)._unsafeUnwrap();
    // Without the bound this would run for 1e9 steps: the callback stops a regression within the test's time.
    let seen = 0;
    const onToken = () => {
      if (++seen > 64) throw new Error("generated past the model's context");
    };
    const out = generate(loaded.model, [[1, 5, 7], [1]], { maxNewTokens: 1e9, eosTokenIds: [], onToken })._unsafeUnwrap();
    expect(out.tokens.map((t) => t.length)).toEqual([13, 15]);
    expect(out.finishReasons).toEqual(["length", "length"]);
    const full = generate(loaded.model, [Array.from({ length: 16 }, () => 1)], { maxNewTokens: 4 });
    expect(full._unsafeUnwrapErr().message).toContain("prompt 0 has 16 tokens, which fills the model's context of 16 positions");
    loaded.model.dispose();
  });
});

describe("outputs and messages", () => {
  test("the default output runs/<recipe> being a file is caught at check, before anything loads", async () => {
    mkdirSync(join(dir, "runs"), { recursive: true });
    writeFileSync(join(dir, "runs", "r"), "not a folder");
    const r = await check(train1().replace(' { output = "out" }', ""));
    expect(r.code).toBe(ExitCode.ioError);
    expect(r.shown).toContain(`r.lft:4:1: cannot write ${dir}/runs/r: ${dir}/runs/r is a file (the default output; set output = "<folder>"`);
    const named = await check(train1().replace('"out"', '"runs/r"'));
    expect(named.shown).toContain(`r.lft:4:34: cannot write ${dir}/runs/r: ${dir}/runs/r is a file`);
  });

  test("the NaN guard names the recipe's keys (lr, clip), not train()'s clipNorm", async () => {
    const run = tinyRun();
    const res = await train({
      params: run.params,
      optimizer: adamw({ lr: 1e-3 }),
      steps: 5,
      batches: shuffledBatches(corpus(10), { batchSize: 2 }),
      lossFn: (batch, ctx) => {
        const out = run.lossFn(batch, ctx);
        return { ...out, loss: ops.mul(out.loss, tensor([Number.NaN], [])) };
      },
      maxBadSteps: 2,
      progress: false,
    });
    const message = res._unsafeUnwrapErr().message;
    expect(message).toContain("Lower the learning rate (lr), clip gradients (clip in the train block)");
    expect(message).not.toContain("clipNorm");
    run.dispose();
  });
});

describe("the lft process", () => {
  test("lft check on a 5000-deep list exits 1 with the located error and no stack trace", () => {
    writeFileSync(join(dir, "deep.lft"), `method lora { targets = ${"[".repeat(5000)}${"]".repeat(5000)} }\n`);
    const run = Bun.spawnSync([process.execPath, `${repoRoot}/dsl/cli.ts`, "check", "deep.lft"], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
    const err = run.stderr.toString();
    expect(run.exitCode).toBe(ExitCode.recipeError);
    expect(err).toContain(`deep.lft:1:${24 + maxNesting}: nesting deeper than ${maxNesting} levels`);
    expect(err).not.toMatch(/call stack|failed unexpectedly|\n\s+at /);
  });
});
