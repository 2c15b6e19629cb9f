// Predicted vs measured memory for the planner's accuracy test and bench/plan.ts: each case is a small
// recipe (a make-tiny model or the shipped stories260K, synthetic rows longer than the cutoff so every
// batch is exactly batch x cutoff tokens, 2 steps), planned with planMemory and run in-process with
// the CPU allocator's peak reset first; the measured peak is the allocator's peak minus what was live
// before the run.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { main } from "../../dsl/cli.ts";
import { checkSource } from "../../dsl/pipeline.ts";
import {
  type CommandIO,
  cpuBackend,
  createRegistry,
  familyByName,
  type MemoryPlan,
  planInputFromRecipe,
  planMemory,
  type Registry,
  recipeModelConfig,
} from "../../lft.ts";
import { makeTiny } from "../../plugins/commands/tiny-model.ts";
import { builtinPlugins } from "../../plugins/index.ts";
import { previewRecipeSamples } from "../../plugins/runner/index.ts";

export const REPO = resolve(import.meta.dir, "../..");
export const STORIES = join(REPO, "examples/models/stories260K");

export interface PlanCase {
  readonly name: string;
  /** `stories` (the shipped 260K model) or a make-tiny family (`llama`, `qwen3`, ...). */
  readonly model: string;
  /** The method block, as written (`method lora { rank = 8 }`), or "" for none (full). */
  readonly method: string;
  readonly stage: "sft" | "dpo" | "rm";
  readonly batch: number;
  readonly cutoff: number;
  readonly recompute: boolean;
  /** Extra train options as written (`optimizer = galore, rank = 4`). */
  readonly train?: string;
  /** Model block options (`dtype = bf16`). */
  readonly modelOptions?: string;
}

export interface PlanMeasurement {
  readonly case: string;
  readonly predictedBytes: number;
  readonly measuredBytes: number;
  /** measured / predicted - 1. */
  readonly error: number;
  readonly parts: MemoryPlan["parts"];
}

export function planRegistry(): Registry {
  const r = createRegistry();
  for (const p of builtinPlugins) r.use(p)._unsafeUnwrap();
  return r;
}

const SENTENCE = "The quick brown fox jumps over the lazy dog while the little cat watches from the warm window. ";

/** A scratch folder with tiny models made on demand and rows long enough for any cutoff used here. */
export class PlanBench {
  readonly dir = mkdtempSync(join(tmpdir(), "lft-plan-"));
  readonly registry = planRegistry();
  private readonly models = new Map<string, string>();

  constructor() {
    const long = SENTENCE.repeat(40);
    const rows = Array.from({ length: 64 }, (_, i) => ({ instruction: `Question ${i}: ${SENTENCE.repeat(3)}`, input: "", output: long }));
    writeFileSync(join(this.dir, "sft.json"), JSON.stringify(rows));
    const pairs = Array.from({ length: 64 }, (_, i) => ({
      conversations: [{ from: "human", value: `Question ${i}: ${SENTENCE.repeat(3)}` }],
      chosen: { from: "gpt", value: long },
      rejected: { from: "gpt", value: `No. ${long}` },
    }));
    writeFileSync(join(this.dir, "pairs.json"), JSON.stringify(pairs));
    writeFileSync(
      join(this.dir, "dataset_info.json"),
      JSON.stringify({
        pairs: {
          file_name: "pairs.json",
          ranking: true,
          formatting: "sharegpt",
          columns: { messages: "conversations", chosen: "chosen", rejected: "rejected" },
        },
      }),
    );
  }

  modelDir(model: string): string {
    if (model === "stories") return STORIES;
    const known = this.models.get(model);
    if (known) return known;
    const fam = familyByName(this.registry, model)._unsafeUnwrap();
    const dir = join(this.dir, `tiny-${model}`);
    mkdirSync(dir, { recursive: true });
    makeTiny(fam, dir, { seed: 3 })._unsafeUnwrap();
    this.models.set(model, dir);
    return dir;
  }

  recipe(c: PlanCase, out: string): string {
    const dir = this.modelDir(c.model);
    const family = c.model === "stories" ? "llama" : c.model;
    const template = c.model === "stories" ? "template = default" : "";
    const opts = [template, c.modelOptions ?? ""].filter((s) => s).join(", ");
    const data = c.stage === "sft" ? `dataset alpaca "${join(this.dir, "sft.json")}"` : `dataset "pairs" { dir = "${this.dir}" }`;
    const train = [`batch = ${c.batch}`, `cutoff = ${c.cutoff}`, `checkpointing = ${c.recompute}`, "lr = 1e-4", `output = "${out}"`, c.train ?? ""]
      .filter((s) => s)
      .join(", ");
    return `model ${family} "${dir}" { ${opts} }\n${data}\n${c.method}\ntrain ${c.stage} for 2 steps { ${train} }\n`;
  }

  /**
   * The plan for a recipe's text (checked as `lft check` would). `longestRow`: tokens per row are the
   * data's longest row when it is shorter than the cutoff (what the recipe's samples really hold).
   */
  async plan(text: string, file: string, longestRow = false): Promise<MemoryPlan> {
    const checked = await checkSource(text, file, this.registry, dirname(file));
    if (checked.isErr()) throw new Error(checked.error.map((d) => d.message).join("\n"));
    const recipe = checked.value.checked.recipe;
    const config = recipeModelConfig(recipe)._unsafeUnwrap();
    const input = planInputFromRecipe(recipe, config.config, this.registry, config.where)._unsafeUnwrap();
    if (!longestRow) return planMemory(input, this.registry)._unsafeUnwrap();
    const samples = await previewRecipeSamples(recipe, this.registry, dirname(file), 1_000_000);
    if (samples.isErr()) throw new Error(samples.error);
    const longest = Math.max(...samples.value.map((s) => s.tokens));
    return planMemory({ ...input, seqLen: Math.min(input.seqLen, longest) }, this.registry)._unsafeUnwrap();
  }

  /** Plans and runs one case in this process; returns predicted and measured peaks. */
  async measure(c: PlanCase): Promise<PlanMeasurement> {
    const out = join(this.dir, `run-${c.name}`);
    const file = join(this.dir, `${c.name}.lft`);
    const text = this.recipe(c, out);
    writeFileSync(file, text);
    const plan = await this.plan(text, file);
    const measured = await runMeasured(file, this.dir);
    return { case: c.name, predictedBytes: plan.peakBytes, measuredBytes: measured, error: measured / plan.peakBytes - 1, parts: plan.parts };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs `lft file` in-process; the allocator's peak over the run minus what was live before it. */
export async function runMeasured(file: string, cwd: string): Promise<number> {
  let log = "";
  const write = (t: string): void => {
    log += t;
  };
  const io: CommandIO = { stdout: write, stderr: write, cwd };
  const alloc = cpuBackend.allocator;
  const before = alloc.stats().liveBytes;
  alloc.resetPeak();
  const prev = process.env.LFT_HOME;
  process.env.LFT_HOME = join(cwd, ".lft");
  const code = await main([file], io).finally(() => {
    process.env.LFT_HOME = prev;
  });
  if (code !== 0) throw new Error(`lft ${file} exited ${code}:\n${log}`);
  return alloc.stats().peakBytes - before;
}

/**
 * An example recipe made short (2 steps) and runnable here: copied into the scratch folder beside links
 * to examples/models and examples/data; a model folder that is not shipped (Qwen3-0.6B) becomes the
 * family's make-tiny checkpoint, and a dataset file that is not shipped is left out.
 */
export function shortExample(bench: PlanBench, file: string): { text: string; changes: string[] } {
  const changes: string[] = [];
  // One epoch sees every row, so the longest batch is measured; step-counted runs take 2 steps, and
  // so does a make-tiny stand-in (its 151,936-token vocabulary makes an epoch take 40 s).
  let text = readFileSync(file, "utf8");
  text = text.replace(/"models\/(Qwen3-[^"]+)"/g, (_m, name: string) => {
    changes.push(`models/${name} (not shipped) -> make-tiny qwen3, 2 steps`);
    return `"${bench.modelDir("qwen3")}"`;
  });
  const standIn = changes.length > 0;
  text = text.replace(/\bfor \d+ epochs\b/g, standIn ? "for 2 steps" : "for 1 epochs").replace(/\bfor \d+ steps\b/g, "for 2 steps");
  if (standIn) {
    // Its merge-export and chat are the slow part and not the peak: left out.
    text = text.replace(/^(export|chat) .*$/gm, "");
    changes.push("export and chat left out");
  }
  text = text
    .split("\n")
    .filter((line) => {
      const m = /^dataset \w+ "\$\{data\}\/([^"]+)"|^dataset \w+ "data\/([^"]+)"/.exec(line);
      const name = m?.[1] ?? m?.[2];
      if (name && !existsSync(join(REPO, "examples/data", name))) {
        changes.push(`dataset ${name} (not shipped) left out`);
        return false;
      }
      return true;
    })
    .join("\n");
  return { text, changes };
}

/** Plans and runs an example recipe (see shortExample) in this process. */
export async function measureExample(bench: PlanBench, file: string): Promise<PlanMeasurement & { changes: string[] }> {
  for (const link of ["models", "data"]) {
    const at = join(bench.dir, link);
    if (!existsSync(at)) symlinkSync(join(REPO, "examples", link), at);
  }
  const { text, changes } = shortExample(bench, file);
  const name = basename(file);
  const copy = join(bench.dir, name);
  writeFileSync(copy, text);
  const plan = await bench.plan(text, copy, true);
  const measured = await runMeasured(copy, bench.dir);
  return {
    case: `examples/${name}`,
    predictedBytes: plan.peakBytes,
    measuredBytes: measured,
    error: measured / plan.peakBytes - 1,
    parts: plan.parts,
    changes,
  };
}

/** Peak RSS of a fresh process that runs `file` (or only loads lft, for "--baseline"). */
export function childMaxRss(file: string, cwd: string): number {
  const child = Bun.spawnSync([process.execPath, join(REPO, "bench/lib/plan-rss-child.ts"), file, cwd], {
    cwd,
    env: { ...process.env, LFT_HOME: join(cwd, ".lft") },
    stderr: "pipe",
  });
  const out = child.stdout.toString().trim().split("\n").at(-1) ?? "";
  if (child.exitCode !== 0) throw new Error(`RSS child for ${file} exited ${child.exitCode}: ${child.stderr.toString().slice(-2000)}`);
  return (JSON.parse(out) as { maxRssBytes: number }).maxRssBytes;
}

export interface RssMeasurement {
  readonly case: string;
  /** The allocator plan's peak. */
  readonly predictedBytes: number;
  /** What RSS holds besides the allocator: see hostBytes. */
  readonly hostBytes: number;
  /** The run's peak RSS minus the baseline's (a process that loaded lft but no model). */
  readonly rssBytes: number;
  readonly baselineRssBytes: number;
  /** rssBytes / (predictedBytes + hostBytes) - 1. */
  readonly error: number;
}

/** Bytes of the files in `dir` whose names match. */
function filesBytes(dir: string, match: RegExp): number {
  return readdirSync(dir)
    .filter((f) => match.test(f))
    .reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

/**
 * Resident memory outside the allocator, from what the run reads and writes: the checkpoint as read
 * (its safetensors files), the tokenizer.json parsed, the trainable tensors and optimizer states
 * copied to the host when the final checkpoint is written, and `overhead` (the runtime's own: BLAS
 * buffers, data, the run store), measured once on the smallest case.
 */
export function hostBytes(modelDir: string, plan: MemoryPlan, overhead: number): number {
  const written = plan.parts.filter((p) => p.name === "trainable" || p.name === "optimizer").reduce((n, p) => n + p.bytes, 0);
  return filesBytes(modelDir, /\.safetensors$/) + filesBytes(modelDir, /^tokenizer\.json$/) + written + overhead;
}

/** Plans a case and runs it in a fresh process; RSS above the baseline against the plan plus the host bytes. */
export async function measureRss(bench: PlanBench, c: PlanCase, baseline: number, overhead: number): Promise<RssMeasurement> {
  const out = join(bench.dir, `rss-${c.name}`);
  const file = join(bench.dir, `rss-${c.name}.lft`);
  const text = bench.recipe(c, out);
  writeFileSync(file, text);
  const plan = await bench.plan(text, file);
  const rss = childMaxRss(file, bench.dir) - baseline;
  const host = hostBytes(bench.modelDir(c.model), plan, overhead);
  return { case: c.name, predictedBytes: plan.peakBytes, hostBytes: host, rssBytes: rss, baselineRssBytes: baseline, error: rss / (plan.peakBytes + host) - 1 };
}

/** The runtime's own resident bytes: RSS of the smallest case above the baseline, less its plan and host bytes. */
export async function runtimeOverhead(bench: PlanBench, c: PlanCase, baseline: number): Promise<number> {
  const m = await measureRss(bench, c, baseline, 0);
  return m.rssBytes - m.predictedBytes - m.hostBytes;
}
