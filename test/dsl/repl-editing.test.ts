// REPL editing (issue 14, case 9): :save writes paths that resolve from the saved file's folder, a
// corrected dataset replaces the mistyped one, :reset/:undo/:drop, and Tab completes file paths.

import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { lftPlugin } from "../../dsl/commands/index.ts";
import { ExitCode } from "../../dsl/exit-codes.ts";
import { printRecipe } from "../../dsl/printer.ts";
import { complete } from "../../dsl/repl/completion.ts";
import { metaCommands } from "../../dsl/repl/meta.ts";
import { ReplState } from "../../dsl/repl/state.ts";
import { openSession } from "../../dsl/session.ts";
import fakeSuite from "./fixtures/fake-suite.ts";
import { captureIO } from "./helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "lft-repl-edit-"));
mkdirSync(join(dir, "models", "toy"), { recursive: true });
mkdirSync(join(dir, "data"));
writeFileSync(join(dir, "data", "d.json"), "[]");
writeFileSync(join(dir, "data", "e.json"), "[]");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function repl() {
  const io = captureIO(dir);
  const { session } = await openSession({ mode: "repl", io, core: lftPlugin, builtins: [fakeSuite], projectPlugins: false });
  return { state: new ReplState(session, dir), io };
}

const meta = (state: ReplState, line: string) => {
  const [name, ...args] = line.split(" ");
  return metaCommands[name!]!.run(args, state);
};

async function typed(state: ReplState, ...lines: string[]): Promise<void> {
  for (const line of lines) expect(await state.evaluate(line)).toBe(ExitCode.ok);
}

test(":save rewrites relative paths to resolve from the saved file's folder", async () => {
  const { state, io } = await repl();
  await typed(
    state,
    'let data = "data/e.json"',
    'let prompt = "hello"',
    'model llama "models/toy"',
    'dataset alpaca "data/d.json"',
    'dataset alpaca "${data}"',
    'dataset alpaca "not_a_file"',
  );
  expect(await meta(state, "save recipes/sub/r.lft")).toBe(ExitCode.ok);
  expect(io.err()).toBe("");
  const saved = readFileSync(join(dir, "recipes", "sub", "r.lft"), "utf8");
  expect(saved).toBe(
    'let data = "../../data/e.json"\nlet prompt = "hello"\nmodel llama "../../models/toy"\n' +
      'dataset alpaca "../../data/d.json"\ndataset alpaca "${data}"\ndataset alpaca "not_a_file"\n',
  );
  // Every moved path names the same file from the recipe's folder as it did from the REPL's.
  for (const moved of ["../../data/e.json", "../../models/toy", "../../data/d.json"]) {
    expect(resolve(dir, "recipes", "sub", moved)).toBe(resolve(dir, moved.slice(6)));
  }
  // Saved next to the REPL's folder, the paths stay as typed.
  expect(await meta(state, "save here.lft")).toBe(ExitCode.ok);
  expect(readFileSync(join(dir, "here.lft"), "utf8")).toBe(printRecipe(state.recipe));
});

test("a corrected dataset replaces the mistyped one; two real datasets are both kept", async () => {
  const { state, io } = await repl();
  await typed(state, 'model llama "models/toy"', 'dataset alpaca "data/dd.json"', 'dataset alpaca "data/d.json"');
  expect(io.out()).toContain("(replaces dataset 1, whose file does not exist)");
  expect(state.blocks("dataset").map((b) => b.source?.raw)).toEqual(["data/d.json"]);
  await typed(state, 'dataset alpaca "data/e.json"');
  expect(state.blocks("dataset").map((b) => b.source?.raw)).toEqual(["data/d.json", "data/e.json"]);
});

test(":drop removes the n-th block of a kind, or the last; bad requests say why", async () => {
  const { state, io } = await repl();
  await typed(state, 'model llama "models/toy"', 'dataset alpaca "data/d.json"', 'dataset alpaca "data/e.json"', "method lora { rank = 2 }");
  expect(await meta(state, "drop dataset 1")).toBe(ExitCode.ok);
  expect(state.blocks("dataset").map((b) => b.source?.raw)).toEqual(["data/e.json"]);
  expect(io.out()).toContain("dropped dataset 1");
  expect(await meta(state, "drop dataset 3")).toBe(ExitCode.usage);
  expect(io.err()).toContain("there is no dataset 3: the session has 1 (1 to 1)");
  expect(await meta(state, "drop eval")).toBe(ExitCode.usage);
  expect(io.err()).toContain("the session has no eval block");
  expect(await meta(state, "drop dataset x")).toBe(ExitCode.usage);
  expect(await meta(state, "drop method")).toBe(ExitCode.ok);
  expect(printRecipe(state.recipe)).toBe('model llama "models/toy"\ndataset alpaca "data/e.json"\n');
});

test(":undo takes back statements one at a time, :reset forgets them all (and :undo brings them back)", async () => {
  const { state, io } = await repl();
  expect(await meta(state, "undo")).toBe(ExitCode.ok);
  expect(io.out()).toContain("(nothing to undo)");
  await typed(state, 'model llama "models/toy"', 'dataset alpaca "data/d.json"', "method lora { rank = 2 }", "method lora { rank = 4 }");
  expect(await meta(state, "undo")).toBe(ExitCode.ok);
  expect(printRecipe(state.recipe)).toBe('model llama "models/toy"\ndataset alpaca "data/d.json"\nmethod lora { rank = 2 }\n');
  expect(await meta(state, "undo")).toBe(ExitCode.ok);
  expect(printRecipe(state.recipe)).toBe('model llama "models/toy"\ndataset alpaca "data/d.json"\n');
  expect(await meta(state, "reset")).toBe(ExitCode.ok);
  expect(state.recipe.statements).toEqual([]);
  expect(state.session.live.size).toBe(0);
  expect(await meta(state, "undo")).toBe(ExitCode.ok);
  expect(printRecipe(state.recipe)).toBe('model llama "models/toy"\ndataset alpaca "data/d.json"\n');
});

test("Tab inside a string completes file paths from the REPL's folder", async () => {
  const { state } = await repl();
  const ctx = { registry: state.session.registry, lets: [], commands: [], cwd: dir };
  expect(complete("", 'dataset alpaca "da', ctx)).toEqual([["data/"], "da"]);
  expect(complete("", 'dataset alpaca "data/', ctx)).toEqual([["data/d.json", "data/e.json"], "data/"]);
  expect(complete("", 'model llama "models/t', ctx)).toEqual([["models/toy/"], "models/t"]);
  expect(complete("", 'dataset alpaca "nothing/', ctx)).toEqual([[], "nothing/"]);
  // Outside a string, words complete as before.
  expect(complete("", 'dataset alpaca "data/d.json" { wei', ctx)[0]).toContain("weight");
});
