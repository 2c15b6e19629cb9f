// The fuzzer's end-to-end cases: a few inputs of each class through a real `./lft` process (recipes
// through `lft check`, dataset files through `lft data preview`, damaged model weights through `lft
// chat`), in a sandbox whose every file is fingerprinted before and after. A process must exit with a
// status from the table (never a signal, never a stack trace), say where a refused input is wrong, and
// change nothing in the sandbox but its own home folder.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeDataset } from "./dataset-inputs.ts";
import type { FuzzClass, Verdict } from "./harness.ts";
import type { Gen } from "./random.ts";
import { exampleRecipes, makeRecipe } from "./recipe-inputs.ts";
import { baseOf, mutateSafetensors } from "./safetensors-inputs.ts";
import { changedOutside, fingerprint, REPO_ROOT, runLft, STACK_TRACE } from "./sandbox.ts";

export const MODEL_DIR = join(REPO_ROOT, "examples/models/stories260K");

/** Exit statuses a refused input may give: 1 bad input, 3 not available, 4 plugin, 5 I/O, 6 run failed. */
const REFUSALS = new Set([1, 3, 4, 5, 6]);

interface ProcessInput {
  readonly how: string;
  /** Writes the input's files into the sandbox; returns the argv. */
  readonly setup: (sandbox: string) => string[];
  /** Text a refusal must contain to say where the problem is. */
  readonly where: string;
}

/** Runs one input in a fresh sandbox folder under `root`. */
async function runInSandbox(root: string, index: number, input: ProcessInput): Promise<Verdict> {
  const sandbox = join(root, `case-${index}`);
  const home = join(sandbox, "home");
  mkdirSync(home, { recursive: true });
  writeFileSync(join(sandbox, "bystander.txt"), "must not change\n");
  const argv = input.setup(sandbox);
  const before = fingerprint(sandbox);
  const r = await runLft(argv, sandbox, home);
  const changed = changedOutside(before, fingerprint(sandbox), ["home"]);
  const out = `${r.stderr}${r.stdout}`;
  if (r.timedOut) return { outcome: "refused", message: `timed out after ${Math.round(r.ms)} ms` };
  if (r.signal !== null || r.code === null) throw new Error(`lft ${argv.join(" ")} died of ${r.signal}\n${out}`);
  if (STACK_TRACE.test(`\n${r.stderr}\n`)) throw new Error(`lft ${argv.join(" ")} printed a stack trace (exit ${r.code})\n${r.stderr}`);
  if (changed.length > 0) return { outcome: "data-lost", detail: `lft ${argv.join(" ")} changed the sandbox: ${changed.join(", ")}` };
  if (r.code === 0) return { outcome: "accepted" };
  if (!REFUSALS.has(r.code)) throw new Error(`lft ${argv.join(" ")} exited ${r.code}, not a status from the table\n${out}`);
  return { outcome: "refused", message: `exit ${r.code}: ${r.stderr.trim() || r.stdout.trim()}` };
}

function processClass(name: string, root: string, make: (g: Gen) => ProcessInput): FuzzClass<ProcessInput> {
  return {
    name,
    make,
    try: (input, index) => runInSandbox(join(root, name), index, input),
    located: (message, input) => message.includes(input.where),
    show: (input) => input.how,
    hangMs: 30_000,
  };
}

export function recipeProcessClass(root: string): FuzzClass<ProcessInput> {
  const examples = exampleRecipes();
  return processClass("recipes-process", root, (g) => {
    const recipe = makeRecipe(g, examples);
    return {
      how: `lft check fuzz.lft (${recipe.how}):\n${recipe.text}`,
      where: "fuzz.lft:",
      setup: (sandbox) => {
        writeFileSync(join(sandbox, "fuzz.lft"), recipe.text);
        return ["check", "fuzz.lft"];
      },
    };
  });
}

export function datasetProcessClass(root: string): FuzzClass<ProcessInput> {
  return processClass("dataset-rows-process", root, (g) => {
    const d = makeDataset(g);
    return {
      how: `lft data preview fuzz --stage ${d.stage} (${d.shape}, ${d.file}):\n${new TextDecoder().decode(d.bytes).slice(0, 1500)}`,
      where: d.file,
      setup: (sandbox) => {
        writeFileSync(join(sandbox, d.file), d.bytes);
        writeFileSync(join(sandbox, "dataset_info.json"), JSON.stringify({ fuzz: { file_name: d.file, ...d.entry } }));
        return ["data", "preview", "fuzz", "--dataset-dir", ".", "--model", MODEL_DIR, "--stage", d.stage, "--count", "2"];
      },
    };
  });
}

export function safetensorsProcessClass(root: string): FuzzClass<ProcessInput> {
  const base = baseOf(readFileSync(join(MODEL_DIR, "model.safetensors")));
  return processClass("safetensors-header-process", root, (g) => {
    const m = mutateSafetensors(g, base);
    return {
      how: `lft chat model --prompt hi (model.safetensors: ${m.how})`,
      where: "model.safetensors",
      setup: (sandbox) => {
        cpSync(MODEL_DIR, join(sandbox, "model"), { recursive: true });
        writeFileSync(join(sandbox, "model/model.safetensors"), m.bytes);
        return ["chat", "model", "--prompt", "hi", "--max-tokens", "2"];
      },
    };
  });
}
