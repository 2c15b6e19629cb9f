// Predicted vs measured memory for the planner's accuracy test and bench/plan.ts: each case is a small
// recipe (a make-tiny model or the shipped stories260K, synthetic rows longer than the cutoff so every
// batch is exactly batch x cutoff tokens, 2 steps), planned with planMemory and run in-process with
// the CPU allocator's peak reset first; the measured peak is the allocator's peak minus what was live
// before the run.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
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

  /** The plan for a recipe's text (checked as `lft check` would). */
  async plan(text: string, file: string): Promise<MemoryPlan> {
    const checked = await checkSource(text, file, this.registry, this.dir);
    if (checked.isErr()) throw new Error(checked.error.map((d) => d.message).join("\n"));
    const recipe = checked.value.checked.recipe;
    const config = recipeModelConfig(recipe)._unsafeUnwrap();
    const input = planInputFromRecipe(recipe, config.config, this.registry, config.where)._unsafeUnwrap();
    return planMemory(input, this.registry)._unsafeUnwrap();
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
