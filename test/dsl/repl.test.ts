// The REPL's session logic without a terminal: statements build a recipe that always checks clean,
// actions reach the runner, `:commands` inspect the live model, completion knows the context.

import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lftPlugin } from "../../dsl/commands/index.ts";
import { ExitCode } from "../../dsl/exit-codes.ts";
import { printRecipe } from "../../dsl/printer.ts";
import { complete } from "../../dsl/repl/completion.ts";
import { appendHistory, historyPath, loadHistory } from "../../dsl/repl/history.ts";
import { metaCommands } from "../../dsl/repl/meta.ts";
import { openDepth } from "../../dsl/repl/repl.ts";
import { ReplState } from "../../dsl/repl/state.ts";
import { openSession } from "../../dsl/session.ts";
import { cpuBackend } from "../../lft.ts";
import { runLog } from "./fixtures/fake-runner.ts";
import fakeSuite from "./fixtures/fake-suite.ts";
import { captureIO, registryWith } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "lft-repl-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function repl(withPlugins = true) {
  const io = captureIO(dir);
  const { session } = await openSession({ mode: "repl", io, core: lftPlugin, builtins: withPlugins ? [fakeSuite] : [], projectPlugins: false });
  return { state: new ReplState(session, dir), io };
}

const meta = (state: ReplState, line: string) => {
  const [name, ...args] = line.split(" ");
  return metaCommands[name!]!.run(args, state);
};

beforeEach(() => {
  runLog.length = 0;
});

describe("statements", () => {
  test("declarations accumulate, replace (model, method, let) or add (dataset); :recipe prints them", async () => {
    const { state, io } = await repl();
    for (const line of [
      'let base = "models/a"',
      'model llama "${base}"',
      'dataset alpaca "one.json"',
      "method lora { rank = 4 }",
      'model qwen3 "${base}"',
      'dataset alpaca "two.json"',
      "method lora { rank = 8 }",
    ]) {
      expect(await state.evaluate(line)).toBe(ExitCode.ok);
    }
    expect(io.err()).toBe("");
    expect(printRecipe(state.recipe)).toBe(
      'let base = "models/a"\nmodel qwen3 "${base}"\ndataset alpaca "one.json"\nmethod lora { rank = 8 }\ndataset alpaca "two.json"\n',
    );
    // The runner saw each change and reloaded only when the model or method changed.
    expect(runLog).toEqual(["load models/a", "load models/a + lora", "load models/a + lora"]);
  });

  test("`train 20 steps` reuses the last train's stage and options; actions are logged", async () => {
    const { state, io } = await repl();
    await state.evaluate('model llama "m"\ndataset alpaca "d"\nmethod lora');
    expect(await state.evaluate("train sft for 1 epoch { lr = 1e-3 }")).toBe(ExitCode.ok);
    expect(await state.evaluate("train 20 steps")).toBe(ExitCode.ok);
    expect(runLog.filter((l) => l.startsWith("train"))).toEqual(["train sft 1 epochs", "train sft 20 steps"]);
    expect(printRecipe(state.recipe)).toContain("train sft for 20 steps { lr = 1e-3 }\n");
    expect(io.out()).toContain("ran train\n");
  });

  test("a mistake is reported with its input's line and caret, and changes nothing", async () => {
    const { state, io } = await repl();
    await state.evaluate('model llama "m"');
    expect(await state.evaluate("method lora {\n  rnak = 8\n}")).toBe(ExitCode.recipeError);
    expect(io.err()).toBe(
      '<repl:2>:2:3: method "lora": unknown option "rnak"; did you mean "rank"? known options: alpha, dora, dropout, rank, rslora, targets\n 2 |   rnak = 8\n   |   ^^^^\n1 error\n',
    );
    expect(await state.evaluate("modle x")).toBe(ExitCode.recipeError);
    expect(printRecipe(state.recipe)).toBe('model llama "m"\n');
  });

  test("without a runner: declarations are kept with one note; an action says it cannot run", async () => {
    const { state, io } = await repl(false);
    expect(await state.evaluate("let a = 1")).toBe(ExitCode.ok);
    expect(await state.evaluate("let b = 2")).toBe(ExitCode.ok);
    expect(io.out()).toBe("(no runner plugin is loaded: statements are checked and kept, :recipe shows them)\n");
    expect(await state.evaluate('model "m"')).toBe(ExitCode.ok);
    expect(await state.evaluate('chat "hi"')).toBe(ExitCode.notAvailable);
    expect(io.err()).toContain("the recipe is valid, but nothing can run it: no loaded plugin handles runRecipe (needed for: chat)");
    expect(await state.evaluate('model llama "m"')).toBe(ExitCode.notAvailable);
  });

  test("use loads a plugin package and says what it registered", async () => {
    const { state, io } = await repl(false);
    expect(await state.evaluate(`use "${join(import.meta.dir, "fixtures/fake-no-runner.ts")}"`)).toBe(ExitCode.ok);
    expect(io.out()).toContain("loaded fake-no-runner: models llama, qwen3; datasets alpaca, sharegpt, text;");
    expect(await state.evaluate('use "./nowhere.ts"')).toBe(ExitCode.pluginError);
    expect(io.err()).toContain('use "./nowhere.ts": plugin package "./nowhere.ts" not found');
  });
});

describe(":commands", () => {
  test(":params, :modules, :memory show the live model and the allocator", async () => {
    const { state, io } = await repl();
    expect(meta(state, "params")).toBe(ExitCode.ok);
    expect(io.out()).toBe("no model is loaded (a runner plugin loads it when the session has a model block)\n");
    const before = cpuBackend.allocator.stats().liveBytes;
    await state.evaluate('model llama "m"\nmethod lora { rank = 2, targets = [q_proj] }');
    // 64×16 ×2 + 2 layers × (4×16×16 + 32×16) base, + 2 layers × (2×16 + 16×2) lora
    const base = 2 * 64 * 16 + 2 * (4 * 16 * 16 + 32 * 16);
    const lora = 2 * (2 * 16 + 16 * 2);
    expect(cpuBackend.allocator.stats().liveBytes - before).toBeGreaterThanOrEqual((base + lora) * 4);
    meta(state, "params");
    expect(io.out()).toContain(`${((base + lora) / 1e3).toFixed(1)}K parameters (${base + lora}) in 16 tensors`);
    expect(io.out()).toContain(`trainable ${lora} (${((100 * lora) / (base + lora)).toFixed(2)}%)`);
    meta(state, "params lora_A");
    expect(io.out()).toContain("  model.layers.0.self_attn.q_proj.lora_A.weight  [2, 16] f32  trainable\n");
    meta(state, "modules");
    expect(io.out()).toContain("  model  ");
    expect(io.out()).toContain("    layers  ");
    expect(io.out()).toContain("      0-1  (2 ×,");
    meta(state, "memory");
    const stats = cpuBackend.allocator.stats();
    expect(io.out()).toContain(`cpu: live `);
    expect(io.out()).toContain(`(${stats.liveBytes} bytes) in ${stats.liveBlocks} blocks, peak `);
  });

  test(":save writes what :recipe prints", async () => {
    const { state } = await repl();
    await state.evaluate('model llama "m"\ndataset alpaca "d"');
    expect(meta(state, "save session.lft")).toBe(ExitCode.ok);
    expect(readFileSync(join(dir, "session.lft"), "utf8")).toBe('model llama "m"\ndataset alpaca "d"\n');
    expect(meta(state, "save")).toBe(ExitCode.usage);
  });
});

describe("input and completion", () => {
  test("braces and brackets decide when a block is complete; strings and comments do not count", () => {
    expect(openDepth("method lora {")).toBe(1);
    expect(openDepth('method lora { t = [a, "}"  # ]')).toBe(2);
    expect(openDepth("method lora { t = [a] }")).toBe(0);
  });

  test("keywords, registry names, option names, values, ${lets} and :commands", () => {
    const registry = registryWith();
    const ctx = { registry, lets: ["base", "lr"], commands: ["help", "params", "hello"] };
    expect(complete("", "met", ctx)).toEqual([["method"], "met"]);
    expect(complete("", "method l", ctx)).toEqual([["lora"], "l"]);
    expect(complete("", "train ", ctx)[0]).toEqual(["dpo", "kto", "pt", "rm", "sft"]);
    expect(complete("method lora {", "  ra", ctx)).toEqual([["rank"], "ra"]);
    expect(complete("train dpo {", "  lo", ctx)).toEqual([["load_best_model_at_end", "log_every", "loss"], "lo"]);
    expect(complete("", "train dpo { loss = s", ctx)).toEqual([["sigmoid", "simpo"], "s"]);
    expect(complete("", 'model "m" { template = ', ctx)[0]).toEqual(["chatml", "llama3", "qwen3_nothink"]);
    expect(complete("", "method lora { rslora = ", ctx)[0]).toEqual(["false", "true"]);
    expect(complete("", "model x ${b", ctx)).toEqual([["${base}"], "${b"]);
    expect(complete("", ":pa", ctx)).toEqual([[":params"], ":pa"]);
  });

  test("history: LFT_HISTORY names the file; most recent first; one line per input line", () => {
    const path = historyPath({ LFT_HISTORY: join(dir, "hist") });
    expect(path).toBe(join(dir, "hist"));
    expect(historyPath({})).toEndWith("/.lft_history");
    expect(loadHistory(path)).toEqual([]);
    appendHistory(path, "let a = 1");
    appendHistory(path, "   ");
    appendHistory(path, ":params");
    expect(loadHistory(path)).toEqual([":params", "let a = 1"]);
    expect(appendHistory(join(dir, "missing-dir", "h"), "x")).toBe(false);
  });
});
