// The checkpoint catalog: at least 100 unique repo ids, every family and template named is one lft
// knows, and lookups are case-insensitive.
import { expect, test } from "bun:test";
import { CATALOG, catalogEntry } from "../../plugins/models/catalog.ts";

const FAMILIES = ["llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "phi3", "mixtral", "olmo2", "granite"];
const TEMPLATES = ["default", "alpaca", "vicuna", "chatml", "llama2", "llama3", "mistral", "qwen", "gemma", "phi", "hf"];

test("at least 100 unique checkpoints over all the families", () => {
  expect(CATALOG.length).toBeGreaterThanOrEqual(100);
  expect(new Set(CATALOG.map((e) => e.id.toLowerCase())).size).toBe(CATALOG.length);
  expect(new Set<string>(CATALOG.map((e) => e.family))).toEqual(new Set(FAMILIES));
  for (const e of CATALOG) {
    expect(TEMPLATES).toContain(e.template);
    expect(e.id).toMatch(/^[\w.-]+\/[\w.-]+$/);
    expect(e.paramsB).toBeGreaterThan(0);
    // Base models use the default template; instruct models name a chat template.
    if (!e.instruct) expect(e.template).toBe("default");
  }
});

test("lookup is case-insensitive and unknown ids give undefined", () => {
  expect(catalogEntry("qwen/qwen2.5-7b-instruct")).toMatchObject({ family: "qwen2", template: "qwen" });
  expect(catalogEntry("meta-llama/Llama-3.1-8B-Instruct")?.template).toBe("llama3");
  expect(catalogEntry("nobody/nothing")).toBeUndefined();
});
