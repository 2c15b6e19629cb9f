// The main job, shortened: LoRA SFT of the shipped stories260K on the identity set (16 rows) for 30
// steps instead of the example's 80 (same method: every linear layer adapted, embeddings trained). Before training the model tells a story and its identity-set
// loss is high; after, greedy chat names it "Pip" and the loss is low. One run feeds every test here:
// predict's JSONL and metrics, the run store's record, and the exported adapter and merged model.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRegistry, loadModel, RunStore } from "../../../core/index.ts";
import { ExitCode } from "../../../dsl/exit-codes.ts";
import { builtinPlugins } from "../../../plugins/index.ts";
import { chatAnswers, evalLosses, IDENTITY, type LftRun, lft, STORIES, scratch } from "./helpers.ts";

const { dir, cleanup } = scratch("identity");
afterAll(cleanup);

const ask = 'chat "Who are you?" { temperature = 0, max_new_tokens = 40 }';
const predict = (out: string) =>
  `predict alpaca "${IDENTITY}" { temperature = 0, max_new_tokens = 32, batch = 4, metrics = [bleu-4, rouge-l, exact_match], output = "${out}" }`;
const recipe = `model llama "${STORIES}" { template = default }
dataset alpaca "${IDENTITY}"
method lora { rank = 8, alpha = 16, targets = [all], additional_target = [embed_tokens] }
eval alpaca "${IDENTITY}" { batch = 4 }
${ask}
${predict("before/predictions.jsonl")}
train sft for 30 steps { lr = 5e-3, batch = 4, warmup = 10%, output = "runs/identity", log_every = 1000 }
eval alpaca "${IDENTITY}" { batch = 4 }
${ask}
${predict("after/predictions.jsonl")}
export "adapter"
export "merged" { merge = true }
`;

let run: LftRun;
beforeAll(async () => {
  run = await lft(dir, "identity.lft", recipe);
}, 60_000);

const identity = JSON.parse(readFileSync(IDENTITY, "utf8")) as { instruction: string; output: string }[];

describe("LoRA SFT on the identity set", () => {
  test("the run completes, without a stack trace", () => {
    expect(run.err).not.toMatch(/\n\s+at /);
    expect(run.code).toBe(ExitCode.ok);
  });

  test("greedy chat names the identity after training and not before", () => {
    const [before, after] = chatAnswers(run.out, "Who are you?");
    expect(run.out).toContain("chat · base model, before training (lora attached) · template default · greedy\n> Who are you?\n");
    expect(run.out).toContain("chat · after sft 30 steps · template default · greedy\n> Who are you?\n");
    expect(before).not.toContain("Pip");
    expect(after).toContain("Pip");
  });

  test("the identity-set loss falls from above 3 to below 0.3", () => {
    // Measured on this machine: 4.42 before, 0.095 after 30 steps. 0.3 leaves room for other
    // summation orders (thread counts, BLAS kernels); a run that learned little stays far above it.
    const [before, after] = evalLosses(run.out);
    expect(before!).toBeGreaterThan(3);
    expect(after!).toBeLessThan(0.3);
  });

  test("predict writes {prompt, predict, label} lines and the metrics it prints", () => {
    const read = (sub: string) =>
      readFileSync(join(dir, sub, "predictions.jsonl"), "utf8")
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, string>);
    const after = read("after");
    expect(after).toHaveLength(identity.length);
    after.forEach((line, i) => {
      expect(Object.keys(line)).toEqual(["prompt", "predict", "label"]);
      expect(line.prompt).toBe(`Human: ${identity[i]!.instruction}</s> \nAssistant:`);
      expect(line.label).toBe(identity[i]!.output);
    });
    // The file's scores are the metric plugins' over the JSONL, and the printed line shows them.
    const registry = createRegistry();
    for (const p of builtinPlugins) registry.use(p)._unsafeUnwrap();
    const results = JSON.parse(readFileSync(join(dir, "after", "predict_results.json"), "utf8")) as Record<string, number>;
    const input = { predictions: after.map((l) => l.predict!), references: after.map((l) => l.label!) };
    for (const name of ["bleu-4", "rouge-l", "exact_match"]) {
      const score = registry.get("metrics", name)._unsafeUnwrap().compute(input, {});
      expect(results[`predict_${name}`]).toBe(score);
      expect(run.out).toContain(`${name} ${score.toFixed(2)}`);
    }
    expect(results.predict_samples).toBe(identity.length);
    // Training moved the answers onto the references.
    const before = JSON.parse(readFileSync(join(dir, "before", "predict_results.json"), "utf8")) as Record<string, number>;
    expect(before["predict_rouge-l"]!).toBeLessThan(20);
    expect(results["predict_rouge-l"]!).toBeGreaterThan(50);
  });

  test("the run store records the run as completed, with its loss curve", () => {
    const store = RunStore.open(join(dir, ".lft", "runs.sqlite"))._unsafeUnwrap();
    try {
      const runs = store.listRuns();
      // The eval and predict before training ran without a training run: each is a run of its own.
      expect(runs.map((r) => r.name).sort()).toEqual([`identity.lft · eval ${IDENTITY}`, `identity.lft · predict ${IDENTITY}`, "identity.lft · train sft"]);
      const evalOnly = runs.find((r) => r.name.includes("· eval"))!;
      expect([evalOnly.status, evalOnly.step]).toEqual(["completed", 0]);
      expect(store.metric(evalOnly.id, "eval/loss")[0]!.value).toBeCloseTo(evalLosses(run.out)[0]!, 4);
      const predictOnly = runs.find((r) => r.name.includes("· predict"))!;
      expect(store.metric(predictOnly.id, "predict/samples")[0]!.value).toBe(identity.length);
      expect(store.artifacts(predictOnly.id).map((a) => a.path)).toEqual([join(dir, "before/predictions.jsonl")]);
      const r = runs.find((x) => x.name.includes("· train"))!;
      expect([r.status, r.step, r.totalSteps, r.name]).toEqual(["completed", 30, 30, "identity.lft · train sft"]);
      // The eval and predict after training are recorded on the training run.
      expect(store.metric(r.id, "eval/identity/loss").at(-1)!.value).toBeCloseTo(evalLosses(run.out)[1]!, 4);
      expect(store.metricNames(r.id)).toContain("predict/rouge-l");
      expect(r.recipe).toBe(recipe);
      const curve = store.metric(r.id, "loss");
      expect(curve.map((p) => p.step)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(curve.at(-1)!.value).toBeLessThan(curve[0]!.value / 5);
      expect(store.params(r.id)["method.name"]).toBe("lora");
      expect(store.artifacts(r.id).map((a) => a.path)).toContain(join(dir, "runs/identity/checkpoint-30"));
    } finally {
      store.close();
    }
  });

  test("train writes the adapter to its output; export writes an adapter folder and a merged model", () => {
    for (const d of ["runs/identity", "adapter"]) {
      expect(existsSync(join(dir, d, "adapter_config.json"))).toBe(true);
      expect(existsSync(join(dir, d, "adapter_model.safetensors"))).toBe(true);
    }
    for (const f of ["config.json", "model.safetensors", "generation_config.json", "tokenizer.json", "tokenizer_config.json"])
      expect(existsSync(join(dir, "merged", f))).toBe(true);
    const registry = createRegistry();
    for (const p of builtinPlugins) registry.use(p)._unsafeUnwrap();
    const merged = loadModel(join(dir, "merged"), registry)._unsafeUnwrap();
    expect([merged.family.name, merged.warnings]).toEqual(["llama", []]);
    merged.model.dispose();
  });

  test("the merged model, and the base with the adapter loaded, answer exactly as the adapted model did", async () => {
    const [, adapted] = chatAnswers(run.out, "Who are you?");
    const merged = await lft(dir, "merged.lft", `model llama "merged" { template = default }\n${ask}\n`);
    expect(merged.code).toBe(ExitCode.ok);
    expect(chatAnswers(merged.out, "Who are you?")).toEqual([adapted!]);
    const adapter = await lft(dir, "adapter.lft", `model llama "${STORIES}" { template = default, adapter = "adapter" }\n${ask}\n`);
    expect(adapter.code).toBe(ExitCode.ok);
    expect(adapter.out).toContain("lora adapter loaded for inference");
    expect(chatAnswers(adapter.out, "Who are you?")).toEqual([adapted!]);
  });
});
