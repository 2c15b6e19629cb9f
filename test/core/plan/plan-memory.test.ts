// planMemory's contract: located errors for bad input, and the plugins' formulas moving the parts the
// way their methods do (quantised weights, recompute, frozen layers, BAdam's block, DPO's pairs).
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { planRegistry, STORIES } from "../../../bench/lib/plan-measure.ts";
import { type MemoryPlan, type PlanInput, planMemory } from "../../../lft.ts";

const registry = planRegistry();
const config = JSON.parse(readFileSync(join(STORIES, "config.json"), "utf8")) as Record<string, unknown>;
const base: PlanInput = { family: "llama", config, dtype: "f32", method: { name: "lora", options: {} }, batch: 2, seqLen: 64, recompute: false };

const plan = (over: Partial<PlanInput>): MemoryPlan => planMemory({ ...base, ...over }, registry)._unsafeUnwrap();
const partBytes = (p: MemoryPlan, name: string): number => p.parts.filter((x) => x.name === name).reduce((n, x) => n + x.bytes, 0);

test("bad input is a located error, not a throw", () => {
  expect(planMemory({ ...base, family: "nope" }, registry)._unsafeUnwrapErr().message).toContain("nope");
  const { hidden_size: _, ...noHidden } = config;
  const missing = planMemory({ ...base, config: noHidden, where: "m/config.json" }, registry)._unsafeUnwrapErr().message;
  expect(missing).toContain("m/config.json");
  expect(missing).toContain("hidden_size");
  expect(planMemory({ ...base, batch: 0 }, registry)._unsafeUnwrapErr().message).toContain("batch");
  expect(planMemory({ ...base, method: { name: "lora", options: { rank: 0 } } }, registry)._unsafeUnwrapErr().message).toContain("rank");
  expect(planMemory({ ...base, method: { name: "full", options: {} }, dtype: "bf16" }, registry)._unsafeUnwrapErr().message).toContain("dtype = f32");
});

test("the parts sum to the peak, and counts follow the method", () => {
  const p = plan({});
  expect(p.parts.reduce((n, x) => n + x.bytes, 0)).toBe(p.peakBytes);
  expect(p.phase).toBe("train");
  const full = plan({ method: { name: "full", options: {} } });
  expect(full.counts.trainable).toBe(full.counts.total);
  expect(p.counts.trainable).toBeLessThan(p.counts.total / 2);
});

test("qlora stores block linears in 4 bits with their scales; bf16 halves frozen weights", () => {
  const lora = plan({});
  const q = plan({ method: { name: "qlora", options: {} } });
  expect(partBytes(q, "weights-nf4")).toBeGreaterThan(0);
  expect(partBytes(q, "quant-scales")).toBeGreaterThan(0);
  expect(partBytes(q, "weights") + partBytes(q, "weights-nf4") + partBytes(q, "quant-scales")).toBeLessThan(partBytes(lora, "weights"));
  expect(partBytes(plan({ dtype: "bf16" }), "weights")).toBeLessThan(0.6 * partBytes(lora, "weights"));
});

test("recompute shrinks activations; freeze trains the last layers only; BAdam keeps one block's gradients", () => {
  expect(partBytes(plan({ recompute: true }), "activations")).toBeLessThan(partBytes(plan({}), "activations") / 2);
  const freeze = plan({ method: { name: "freeze", options: { layers: 1 } } });
  const freeze2 = plan({ method: { name: "freeze", options: { layers: 2 } } });
  expect(freeze2.counts.trainable).toBeGreaterThan(freeze.counts.trainable);
  const full = { name: "full", options: {} };
  const adamw = plan({ method: full });
  const badam = plan({ method: full, optimizer: { name: "badam", options: {} } });
  expect(partBytes(badam, "optimizer")).toBeLessThan(partBytes(adamw, "optimizer") / 2);
});

test("dpo runs two rows per pair and a reference forward; a reference model folder is a second copy", () => {
  const sft = plan({});
  const dpo = plan({ stage: { name: "dpo", options: {} } });
  expect(partBytes(dpo, "reference")).toBeGreaterThan(0);
  expect(partBytes(dpo, "activations")).toBeGreaterThan(1.5 * partBytes(sft, "activations"));
  const ref = plan({ stage: { name: "dpo", options: { ref_model: "other" } } });
  expect(partBytes(ref, "reference-model")).toBe(partBytes(sft, "weights"));
  const full = { name: "full", options: {} };
  const fullRef = plan({ method: full, stage: { name: "dpo", options: { ref_model: "other" } } });
  expect(partBytes(fullRef, "reference-model")).toBe(partBytes(plan({ method: full }), "trainable"));
});

test("generation plans the KV cache", () => {
  const p = planMemory({ ...base, train: false, generation: { batch: 2, tokens: 100 } }, registry)._unsafeUnwrap();
  expect(p.phase).toBe("generate");
  // 5 layers x k and v x 2 rows x 128 (16, doubled up to 100) x 4 kv heads x 8 dims x 4 bytes.
  expect(partBytes(p, "kv-cache")).toBe(2 * 5 * 2 * 128 * 4 * 8 * 4);
  // A 40-token prompt starts the cache at 40: doubled to 80, then 160.
  const long = planMemory({ ...base, train: false, generation: { batch: 2, tokens: 100, prompt: 40 } }, registry)._unsafeUnwrap();
  expect(partBytes(long, "kv-cache")).toBe(2 * 5 * 2 * 160 * 4 * 8 * 4);
});

test("a composite config is planned from its text_config, like the flat config it nests", () => {
  const nested = { model_type: "mistral3", text_config: { ...config, model_type: "mistral" }, vision_config: { hidden_size: 16 } };
  expect(plan({ family: "mistral3", config: nested }).peakBytes).toBe(plan({ family: "mistral" }).peakBytes);
  const { hidden_size: _, ...noHidden } = config;
  const missing = planMemory(
    { ...base, family: "mistral3", config: { text_config: { ...noHidden, model_type: "mistral" } }, where: "m/config.json" },
    registry,
  )._unsafeUnwrapErr().message;
  expect(missing).toContain("m/config.json text_config");
  expect(missing).toContain("hidden_size");
});

test("Cohere's per-head q/k norms (use_qk_norm) add their saved activations", () => {
  const cohere = { ...config, model_type: "cohere", tie_word_embeddings: true };
  const off = plan({ family: "cohere", config: cohere });
  const on = plan({ family: "cohere", config: { ...cohere, use_qk_norm: true } });
  expect(partBytes(on, "activations")).toBeGreaterThan(partBytes(off, "activations"));
});
