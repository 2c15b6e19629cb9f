// `lft eval MODEL_DIR --task mmlu_test [--task-dir DIR] [--adapter DIR] [--template T] [--lang en|zh]
// [--n-shot 5] [--batch-size 4] [--save-dir DIR] [--seed 42] [--shuffle]`: LLaMA-Factory's
// `llamafactory-cli eval` (same option names): accuracy per category printed as LF prints it, written
// to eval_results.json (and LF's results.json / results.log) in the save folder, and recorded in the run
// store as a run of its own. Also `:eval` in the REPL, where MODEL_DIR may be left out to score the
// session's model as it is now (its adapter or the weights a `train` just changed).
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { resolve } from "node:path";
import { ok } from "neverthrow";
import type { CommandEntry, CommandIO, Registry, ResolvedRecipe } from "../../core/index.ts";
import { ExitCode, parseArgs, resolveModelPath, validateOptions } from "../../core/index.ts";
import { dropModelState, ensureModel, type ModelState, modelState, recordActionRun } from "../runner/index.ts";
import { choiceTokenIds, modelChoiceScorer } from "./choice-logits.ts";
import { isEvalLang } from "./eval-template.ts";
import { type BenchmarkSettings, type Progress, runBenchmark } from "./evaluate.ts";
import { scoreLines, storeMetrics, writeResults } from "./results.ts";
import { loadTask } from "./task.ts";

const usage =
  "[MODEL_DIR] --task NAME_SPLIT [--task-dir DIR] [--adapter DIR] [--template T] [--lang en|zh] [--n-shot 5] [--batch-size 4] [--save-dir DIR] [--seed 42] [--shuffle]";

const VALUES = ["--task", "--task-dir", "--adapter", "--template", "--lang", "--n-shot", "--batch-size", "--save-dir", "--seed"];

function integer(raw: string | undefined, name: string, fallback: number, min: number): number | string {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  return Number.isInteger(v) && v >= min ? v : `${name} must be an integer >= ${min}, got "${raw}"`;
}

/** The template LF picks: the named one, else the tokenizer's chat template (hf), else empty. */
function templateName(named: string | undefined, state: ModelState, registry: Registry): string {
  if (named !== undefined) return named;
  return state.tokenizer.chatTemplate !== null && registry.has("templates", "hf") ? "hf" : "empty";
}

function encoderFor(name: string, state: ModelState, registry: Registry) {
  const entry = registry.get("templates", name);
  if (entry.isErr()) return `template ${name}: ${entry.error.message}`;
  const options = validateOptions(entry.value.options ?? {}, {}, `chat template "${name}"`);
  if (options.isErr()) return options.error.map((e) => e.message).join("; ");
  const encoder = entry.value.create(state.tokenizer, options.value);
  return encoder.isErr() ? `template ${name}: ${encoder.error}` : encoder.value;
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

/** Progress on stderr: a bar rewritten in place on a terminal, a line per finished subject otherwise. */
function progress(io: CommandIO): (p: Progress) => void {
  const tty = process.stderr.isTTY === true;
  return (p) => {
    if (!tty && !p.subjectDone) return;
    const width = 30;
    const filled = p.total > 0 ? Math.round((p.done / p.total) * width) : width;
    io.stderr(`${tty ? "\r" : ""}[${"#".repeat(filled)}${".".repeat(width - filled)}] ${p.done}/${p.total} questions (${p.subject.name})${tty ? "" : "\n"}`);
  };
}

export const evalCommand: CommandEntry = {
  name: "eval",
  doc: "score a model on a multiple-choice benchmark in LLaMA-Factory's layout (MMLU, C-Eval, CMMLU): accuracy per category",
  usage,
  scope: "both",
  async run(argv, io, session) {
    const fail = (code: number, message: string) => {
      io.stderr(`lft eval: ${message}\n${code === ExitCode.usage ? `usage: lft eval ${usage}\n` : ""}`);
      return code;
    };
    const parsed = parseArgs(argv, { positional: [0, 1], values: VALUES, flags: ["--shuffle"] });
    if (parsed.isErr()) return fail(ExitCode.usage, parsed.error);
    const args = parsed.value;
    if (args.flags.has("--help")) {
      io.stdout(`usage: lft eval ${usage}\n`);
      return ExitCode.ok;
    }
    const pick = (k: string) => args.values.get(k);
    const task = pick("--task");
    if (task === undefined) return fail(ExitCode.usage, "--task is required (e.g. --task mmlu_test)");
    const lang = pick("--lang") ?? "en";
    if (!isEvalLang(lang)) return fail(ExitCode.usage, `--lang must be en or zh, got "${lang}"`);
    const nShot = integer(pick("--n-shot"), "--n-shot", 5, 0);
    const batchSize = integer(pick("--batch-size"), "--batch-size", 4, 1);
    const seed = integer(pick("--seed"), "--seed", 42, 0);
    for (const v of [nShot, batchSize, seed]) if (typeof v === "string") return fail(ExitCode.usage, v);
    const settings: BenchmarkSettings = {
      nShot: nShot as number,
      lang,
      batchSize: batchSize as number,
      seed: seed as number,
      shuffle: args.flags.has("--shuffle"),
    };

    const taskDir = resolve(io.cwd, pick("--task-dir") ?? "evaluation");
    const loaded = loadTask(taskDir, task);
    if (loaded.isErr()) return fail(loaded.error.message.startsWith('task "') ? ExitCode.usage : ExitCode.ioError, loaded.error.message);

    const saveDir = resolve(io.cwd, pick("--save-dir") ?? `runs/eval/${task}-${stamp()}`);
    if (existsSync(saveDir) && readdirSync(saveDir).length > 0)
      return fail(ExitCode.ioError, `--save-dir ${saveDir} already exists and is not empty; name another one (results are never overwritten)`);

    // A local folder, or a hub id (`org/name[@rev]`) from the cache or downloaded, as a model block's path.
    const folder = async (p: string | undefined) => (p === undefined ? ok(undefined) : resolveModelPath(session.registry, p, io.cwd, io));
    const modelPath = await folder(args.positional[0]);
    const adapterPath = await folder(pick("--adapter"));
    if (modelPath.isErr()) return fail(ExitCode.ioError, modelPath.error.message);
    if (adapterPath.isErr()) return fail(ExitCode.ioError, adapterPath.error.message);
    const modelDir = modelPath.value;
    const adapter = adapterPath.value;
    // In the REPL without MODEL_DIR: the session's loaded model, kept loaded afterwards.
    const sessionLive = (session as { live?: Map<string, unknown> }).live;
    const current = modelDir === undefined && sessionLive !== undefined ? modelState(sessionLive) : undefined;
    if (modelDir === undefined && current === undefined)
      return fail(
        ExitCode.usage,
        session.mode === "repl" ? "no model is loaded in this session: give MODEL_DIR or run a model statement first" : "MODEL_DIR is required",
      );
    if (current !== undefined && adapter !== undefined) return fail(ExitCode.usage, "--adapter needs MODEL_DIR (the session's model has its adapters already)");
    const recipe: ResolvedRecipe = {
      file: "lft eval",
      baseDir: io.cwd,
      uses: [],
      model: { path: modelDir ?? current!.dir, options: { device: "auto", seed: 42, ...(adapter === undefined ? {} : { adapter }) } },
      datasets: [],
      actions: [],
    };
    const startedAt = Date.now();
    const live = new Map<string, unknown>();
    const quiet: CommandIO = { ...io, stdout: (t) => io.stderr(t) };
    const state = current !== undefined ? ok(current) : ensureModel(recipe, recipe.model!, session.registry, live, quiet);
    if (state.isErr()) return fail(ExitCode.runFailed, state.error.message);
    try {
      const m = state.value;
      // The REPL's model after a `train`: the template that run used, bound with its options.
      const trained = pick("--template") === undefined ? m.lastRun?.encoder : undefined;
      const template = trained?.name ?? templateName(pick("--template"), m, session.registry);
      const encoder = trained ?? encoderFor(template, m, session.registry);
      if (typeof encoder === "string") return fail(ExitCode.notAvailable, encoder);
      let choiceIds: number[];
      try {
        choiceIds = choiceTokenIds(m.tokenizer);
      } catch (e) {
        return fail(ExitCode.runFailed, (e as Error).message);
      }
      const scorer = modelChoiceScorer(m.model, m.backend, encoder.padId, choiceIds);
      const was = m.method?.applied.training;
      if (m.method) m.method.applied.training = false;
      // The REPL's session aborts its controller on Ctrl-C; the command line's Ctrl-C ends the process.
      const signal = (session as { controller?: AbortController }).controller?.signal;
      let results: Awaited<ReturnType<typeof runBenchmark>>;
      try {
        results = await runBenchmark(loaded.value, encoder, scorer, { ...settings, maxPromptTokens: m.spec.rope.maxPositionEmbeddings }, progress(io), signal);
      } catch (e) {
        // A forward that fails (out of memory on the device, a kernel's check) ends the command, not the session.
        return fail(ExitCode.runFailed, `scoring failed: ${(e as Error).message}`);
      } finally {
        if (m.method && was !== undefined) m.method.applied.training = was;
      }
      if (process.stderr.isTTY === true) io.stderr("\n");
      if (results.isErr()) return fail(results.error.message === "interrupted" ? ExitCode.interrupted : ExitCode.runFailed, results.error.message);

      io.stdout(`${scoreLines(results.value)}\n`);
      const header = {
        task,
        model: current !== undefined ? current.dir : modelDir!,
        ...(current !== undefined && current.history.length > 0 ? { changes: current.history } : {}),
        adapter: adapter ?? null,
        template,
        lang,
        nShot: settings.nShot,
        shuffle: settings.shuffle,
        seed: settings.seed,
      };
      let files: string[];
      try {
        mkdirSync(saveDir, { recursive: true });
        files = writeResults(saveDir, header, results.value);
      } catch (e) {
        return fail(ExitCode.ioError, `cannot write the results to ${saveDir}: ${(e as Error).message}`);
      }
      io.stderr(`wrote ${files.join(", ")}\n`);
      const recorded = recordActionRun({
        kind: "eval",
        recipe,
        cwd: io.cwd,
        source: task,
        metrics: storeMetrics(task, results.value),
        artifacts: files.map((path) => ({ kind: "eval", path })),
        startedAt,
      });
      if (recorded.isErr()) io.stderr(`lft eval: warning: not recorded in the run store: ${recorded.error.message}\n`);
      else io.stderr(`recorded as run ${recorded.value}\n`);
      return ExitCode.ok;
    } finally {
      // Only what this command loaded: the session's model stays.
      dropModelState(live);
    }
  },
};
