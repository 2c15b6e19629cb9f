// The built-in data plugins register cleanly: every format and template, with their option schemas,
// stop words and system support, and the registry answers typos with suggestions.
import { expect, test } from "bun:test";
import { createRegistry } from "../../../core/index.ts";
import { dataPlugins } from "../../../plugins/data/index.ts";

test("formats and templates are registered by the data plugins", () => {
  const r = createRegistry();
  for (const p of dataPlugins) expect(r.use(p).isOk()).toBe(true);
  expect(r.list("datasets").map((d) => d.name)).toEqual(["alpaca", "kto", "openai", "pairwise", "sharegpt", "text", "v1"]);
  expect(r.list("templates").map((t) => t.name)).toEqual([
    "alpaca",
    "breeze",
    "chatml",
    "chatml_de",
    "cohere",
    "cpm4",
    "deepseek",
    "deepseek3",
    "deepseekcoder",
    "deepseekr1",
    "default",
    "empty",
    "ernie",
    "fewshot",
    "gemma",
    "gemma2",
    "gemma3",
    "glm4",
    "gpt_oss",
    "hf",
    "intern2",
    "llama2",
    "llama2_zh",
    "llama3",
    "mimo",
    "mimo_v2",
    "ministral",
    "mistral",
    "mistral_small",
    "openchat",
    "openchat-3.6",
    "opencoder",
    "phi",
    "phi4",
    "phi4_mini",
    "phi_small",
    "qwen",
    "qwen3",
    "qwen3_5",
    "qwen3_5_nothink",
    "qwen3_6",
    "qwen3_nothink",
    "sailor",
    "seed_coder",
    "smollm",
    "smollm2",
    "solar",
    "starchat",
    "vicuna",
    "xuanyuan",
    "yi",
    "zephyr",
  ]);
  const stops = Object.fromEntries(r.list("templates").map((t) => [t.name, t.stopWords]));
  expect(stops.llama3).toEqual(["<|eot_id|>", "<|eom_id|>"]);
  expect(stops.chatml).toEqual(["<|im_end|>", "<|im_start|>"]);
  expect(stops.gemma).toEqual(["<end_of_turn>"]);
  expect(stops.gemma2).toEqual(["<eos>", "<end_of_turn>"]);
  expect(stops["openchat-3.6"]).toEqual(["<|eot_id|>"]);
  expect(stops.glm4).toEqual(["<|user|>", "<|observation|>"]);
  expect(r.list("templates").every((t) => t.supportsSystem)).toBe(true);
  expect(Object.keys(r.get("templates", "qwen3")._unsafeUnwrap().options ?? {})).toContain("enable_thinking");
  for (const reasoning of ["deepseekr1", "mimo", "mimo_v2"])
    expect(Object.keys(r.get("templates", reasoning)._unsafeUnwrap().options ?? {})).toContain("enable_thinking");
  expect(Object.keys(r.get("datasets", "sharegpt")._unsafeUnwrap().options ?? {})).toContain("role_tag");
  expect(r.get("templates", "lama3")._unsafeUnwrapErr().message).toContain('did you mean "llama3"');
});
