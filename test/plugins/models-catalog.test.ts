// The checkpoint catalog: at least 300 unique repo ids over every family; each family is a registered
// model plugin or one of issue 20's families still landing on other branches, each template is one the
// template plugins register, base models use "default"; lookups are case-insensitive.
import { expect, test } from "bun:test";
import { createRegistry } from "../../core/index.ts";
import { templatePlugins } from "../../plugins/data/index.ts";
import { CATALOG, CATALOG_FAMILIES, catalogEntry } from "../../plugins/models/catalog.ts";
import { modelPlugins } from "../../plugins/models/index.ts";

const registry = createRegistry();
for (const plugin of [...modelPlugins, ...templatePlugins]) registry.use(plugin)._unsafeUnwrap();
const families = new Set(registry.list("models").map((m) => m.name));
const templates = new Set(registry.list("templates").map((t) => t.name));

test("at least 300 unique checkpoints, every family named at least once", () => {
  expect(CATALOG.length).toBeGreaterThanOrEqual(300);
  expect(new Set(CATALOG.map((e) => e.id.toLowerCase())).size).toBe(CATALOG.length);
  expect(new Set<string>(CATALOG.map((e) => e.family))).toEqual(new Set<string>(CATALOG_FAMILIES));
});

test("every family is a registered model plugin or a pending one; every template is registered", () => {
  for (const family of CATALOG_FAMILIES) expect(families.has(family)).toBe(true);
  for (const name of ["llama", "smollm3", "internlm3", "mistral3"]) expect(families.has(name)).toBe(true);
  for (const e of CATALOG) {
    if (!templates.has(e.template)) throw new Error(`${e.id}: template "${e.template}" is not registered`);
    expect(e.id).toMatch(/^[\w.-]+\/[\w.-]+$/);
    expect(e.paramsB).toBeGreaterThan(0);
    // Base models use the default template; instruct models name a chat template.
    if (!e.instruct) expect(e.template).toBe("default");
    else expect(e.template).not.toBe("default");
  }
});

test("lookup is case-insensitive and unknown ids give undefined", () => {
  expect(catalogEntry("qwen/qwen2.5-7b-instruct")).toMatchObject({ family: "qwen2", template: "qwen" });
  expect(catalogEntry("meta-llama/Llama-3.1-8B-Instruct")?.template).toBe("llama3");
  expect(catalogEntry("HuggingFaceTB/SmolLM3-3B")).toMatchObject({ family: "smollm3", instruct: true });
  expect(catalogEntry("Qwen/Qwen3-30B-A3B")).toMatchObject({ family: "qwen3_moe", template: "qwen3" });
  expect(catalogEntry("nobody/nothing")).toBeUndefined();
});
