// Tests for core/registry: plugins in and out (including a real package loaded by path), lookups
// with suggestions, hook kinds and their semantics, rollback, and option schema validation.

import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TemplateEntry } from "../../core/index.ts";
import {
  builtinCollections,
  builtinHookKinds,
  type CollectionTypes,
  createRegistry,
  definePlugin,
  editDistance,
  type FirstHook,
  HookError,
  type HookTypes,
  LookupError,
  type OptionSchema,
  PluginError,
  type ReduceHook,
  type StepEvent,
  suggest,
  validateOptions,
} from "../../core/registry";
import { recordedSteps } from "../fixtures/plugin-example/index.ts";

/** A template entry whose payload is never used here: these tests are about names and ownership. */
function template(name: string): TemplateEntry {
  return {
    name,
    stopWords: [],
    supportsSystem: true,
    create: () => {
      throw new Error(`${name}: not used in registry tests`);
    },
  } as unknown as TemplateEntry;
}

const fixtures = join(import.meta.dir, "..", "fixtures");

const step = (n: number, loss = 1.5): StepEvent => ({ runId: "run-1", step: n, loss, lr: 1e-4, tokens: 2048, elapsedMs: 100 * n });

const metric = (name: string) => ({ name, doc: `${name} metric`, compute: () => 0 });

beforeEach(() => {
  recordedSteps.length = 0;
});

describe("loadPluginPackage with the example fixture", () => {
  test("registers its metric and onStep hook, which then work through the registry", async () => {
    const registry = createRegistry();
    const loaded = await registry.loadPluginPackage(join(fixtures, "plugin-example"));
    expect(loaded.isOk()).toBe(true);
    const info = loaded._unsafeUnwrap();
    expect(info.name).toBe("lft-plugin-example");
    expect(info.version).toBe("0.1.0");
    expect(info.source).toBe(join(fixtures, "plugin-example", "index.ts"));
    expect(info.registered).toEqual({ metrics: ["exact_match"] });
    expect(info.hooks).toEqual(["onStep"]);
    expect(registry.ownerOf("metrics", "exact_match")).toBe("lft-plugin-example");

    const entry = registry.get("metrics", "exact_match")._unsafeUnwrap();
    const input = { predictions: ["Paris", " rome ", "Oslo"], references: ["paris", "Rome", "Oslo"] };
    const defaults = validateOptions(entry.options ?? {}, {}, 'metric "exact_match"')._unsafeUnwrap();
    expect(defaults).toEqual({ ignore_case: false, strip: true });
    expect(entry.compute(input, defaults)).toBeCloseTo(1 / 3, 12);
    const caseless = validateOptions(entry.options ?? {}, { ignore_case: true }, 'metric "exact_match"')._unsafeUnwrap();
    expect(entry.compute(input, caseless)).toBe(1);

    const fired = await registry.callParallel("onStep", step(7, 0.25));
    expect(fired.isOk()).toBe(true);
    expect(recordedSteps.map((e) => [e.step, e.loss])).toEqual([[7, 0.25]]);
  });

  test("a relative path resolves against `from`, and registries do not share plugins", async () => {
    const first = createRegistry();
    const second = createRegistry();
    expect((await first.loadPluginPackage("./plugin-example", { from: fixtures })).isOk()).toBe(true);
    expect(second.has("metrics", "exact_match")).toBe(false);
    await second.callParallel("onStep", step(1));
    expect(recordedSteps).toEqual([]);
    await first.callParallel("onStep", step(2));
    expect(recordedSteps.map((e) => e.step)).toEqual([2]);
  });

  test("loading the same package twice is refused as a duplicate plugin", async () => {
    const registry = createRegistry();
    await registry.loadPluginPackage(join(fixtures, "plugin-example"));
    const again = await registry.loadPluginPackage(join(fixtures, "plugin-example"));
    expect(again._unsafeUnwrapErr().reason).toBe("duplicate");
    expect(again._unsafeUnwrapErr().message).toContain('plugin "lft-plugin-example" is already loaded (version 0.1.0');
    expect(registry.plugins().map((p) => p.name)).toEqual(["lft-plugin-example"]);
  });
});

describe("loadPluginPackage errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "lft-registry-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (file: string, source: string): string => {
    writeFileSync(join(dir, file), source);
    return join(dir, file);
  };

  test("an uninstalled package name is not-found with an install hint", async () => {
    const result = await createRegistry().loadPluginPackage("lft-plugin-that-does-not-exist", { from: dir });
    const error = result._unsafeUnwrapErr();
    expect(error.reason).toBe("not-found");
    expect(error.specifier).toBe("lft-plugin-that-does-not-exist");
    expect(error.message).toContain("bun add lft-plugin-that-does-not-exist");
  });

  test("a missing path is not-found", async () => {
    const result = await createRegistry().loadPluginPackage("./nowhere.ts", { from: dir });
    expect(result._unsafeUnwrapErr().reason).toBe("not-found");
    expect(result._unsafeUnwrapErr().message).toContain('"./nowhere.ts" not found');
  });

  test("a module without default or `plugin` export lists what it does export", async () => {
    const path = write("no-export.ts", "export const helper = 1;\nexport function other() {}\n");
    const error = (await createRegistry().loadPluginPackage(path))._unsafeUnwrapErr();
    expect(error.reason).toBe("no-export");
    expect(error.message).toContain("its exports are: helper, other");
  });

  test("a look-alike object that definePlugin did not make is rejected", async () => {
    const path = write("fake.ts", 'export default { name: "fake", setup() {} };\n');
    const error = (await createRegistry().loadPluginPackage(path))._unsafeUnwrapErr();
    expect(error.reason).toBe("not-a-plugin");
    expect(error.message).toContain("export default is an object with keys name, setup");
  });

  test("a module that throws while loading is import-failed and keeps the cause", async () => {
    const path = write("throws.ts", 'throw new Error("no GPU here");\n');
    const error = (await createRegistry().loadPluginPackage(path))._unsafeUnwrapErr();
    expect(error.reason).toBe("import-failed");
    expect(error.message).toContain("failed to load: no GPU here");
    expect((error.cause as Error).message).toBe("no GPU here");
  });

  test("a named `plugin` export is used when there is no default", async () => {
    const core = join(import.meta.dir, "..", "..", "core", "registry.ts");
    const path = write(
      "named.ts",
      `import { definePlugin } from ${JSON.stringify(core)};\n` +
        `export const plugin = definePlugin({ name: "named", setup(api) { api.register.metrics({ name: "m", compute: () => 1 }); } });\n`,
    );
    const registry = createRegistry();
    expect((await registry.loadPluginPackage(path))._unsafeUnwrap().registered).toEqual({ metrics: ["m"] });
  });
});

describe("collections", () => {
  test("a duplicate name is refused, naming both plugins, and the second plugin is rolled back", () => {
    const registry = createRegistry();
    const first = definePlugin({ name: "first", setup: (api) => api.register.metrics(metric("bleu")) });
    const second = definePlugin({
      name: "second",
      setup(api) {
        api.register.models({ name: "llama" });
        api.register.metrics(metric("bleu"));
      },
    });
    expect(registry.use(first).isOk()).toBe(true);
    const error = registry.use(second)._unsafeUnwrapErr();
    expect(error.reason).toBe("setup-failed");
    expect(error.plugin).toBe("second");
    expect(error.message).toBe('plugin "second" failed in setup: metric "bleu" is registered twice: first by plugin "first", again by plugin "second"');
    expect(registry.has("models", "llama")).toBe(false);
    expect(registry.ownerOf("metrics", "bleu")).toBe("first");
  });

  test("an unknown name gets the closest known names and the full list", () => {
    const registry = createRegistry();
    registry.use(
      definePlugin({
        name: "metrics",
        setup(api) {
          for (const name of ["exact_match", "accuracy", "bleu", "rouge_l"]) api.register.metrics(metric(name));
        },
      }),
    );
    const error = registry.get("metrics", "exact_mach")._unsafeUnwrapErr();
    expect(error).toBeInstanceOf(LookupError);
    expect(error.suggestions).toEqual(["exact_match"]);
    expect(error.known).toEqual(["accuracy", "bleu", "exact_match", "rouge_l"]);
    expect(error.message).toBe('unknown metric "exact_mach"; did you mean "exact_match"? known metrics: accuracy, bleu, exact_match, rouge_l');
    expect(registry.get("metrics", "perplexity")._unsafeUnwrapErr().suggestions).toEqual([]);
    expect(registry.get("models", "llama")._unsafeUnwrapErr().message).toBe('unknown model family "llama": no models are registered');
  });

  test("list is sorted by name and plugins() reports what each registered", () => {
    const registry = createRegistry();
    registry.use(
      definePlugin({
        name: "a",
        version: "1.2.0",
        setup(api) {
          api.register.templates(template("llama3"));
          api.register.templates(template("chatml"));
          api.register.stages({ name: "sft" });
          api.on("onRunEnd", () => undefined);
        },
      }),
    );
    registry.use(definePlugin({ name: "b", setup: (api) => api.register.templates(template("alpaca")) }));
    expect(registry.list("templates").map((t) => t.name)).toEqual(["alpaca", "chatml", "llama3"]);
    expect(registry.plugins()).toEqual([
      { name: "a", version: "1.2.0", source: undefined, registered: { templates: ["chatml", "llama3"], stages: ["sft"] }, hooks: ["onRunEnd"] },
      { name: "b", version: undefined, source: undefined, registered: { templates: ["alpaca"] }, hooks: [] },
    ]);
  });

  test("an entry whose options schema contradicts itself is refused at registration", () => {
    const registry = createRegistry();
    const bad = definePlugin({
      name: "bad-schema",
      setup: (api) => api.register.methods({ name: "lora", options: { rank: { type: "number", min: 1, default: 0, doc: "adapter rank" } } }),
    });
    const error = registry.use(bad)._unsafeUnwrapErr();
    expect(error.message).toBe('plugin "bad-schema" failed in setup: method "lora" has a bad options schema: default of option "rank" must be >= 1, found 0');
  });

  test("registering after setup returned is an error", () => {
    const registry = createRegistry();
    let late: (() => void) | undefined;
    registry.use(
      definePlugin({
        name: "late",
        setup: (api) => {
          late = () => api.register.models({ name: "x" });
        },
      }),
    );
    expect(() => late?.()).toThrow('plugin "late" registered into models after its setup returned');
    expect(registry.has("models", "x")).toBe(false);
  });
});

describe("rollback", () => {
  test("a setup that throws leaves nothing behind and the error names the plugin and keeps the cause", async () => {
    const registry = createRegistry();
    const seen: number[] = [];
    const cause = new Error("config missing");
    const broken = definePlugin({
      name: "broken",
      setup(api) {
        api.register.metrics(metric("f1"));
        api.register.backends({
          name: "tpu",
          priority: 1,
          available: () => "no TPU",
          open: () => {
            throw new Error("unreachable");
          },
        });
        api.on("onStep", (e) => void seen.push(e.step));
        throw cause;
      },
    });
    const error = registry.use(broken)._unsafeUnwrapErr();
    expect(error).toBeInstanceOf(PluginError);
    expect(error.message).toBe('plugin "broken" failed in setup: config missing');
    expect(error.cause).toBe(cause);
    expect(registry.has("metrics", "f1")).toBe(false);
    expect(registry.has("backends", "tpu")).toBe(false);
    expect(registry.plugins()).toEqual([]);
    await registry.callParallel("onStep", step(1));
    expect(seen).toEqual([]);

    // The name is free again: a fixed version loads.
    const fixed = definePlugin({ name: "broken", setup: (api) => api.register.metrics(metric("f1")) });
    expect(registry.use(fixed).isOk()).toBe(true);
    expect(registry.ownerOf("metrics", "f1")).toBe("broken");
  });

  test("an async setup is refused and rolled back", () => {
    const registry = createRegistry();
    const asyncSetup = definePlugin({
      name: "async",
      setup: async (api) => {
        api.register.models({ name: "qwen2" });
      },
    });
    const error = registry.use(asyncSetup)._unsafeUnwrapErr();
    expect(error.message).toContain('plugin "async" failed in setup: setup returned a promise');
    expect(registry.has("models", "qwen2")).toBe(false);
  });
});

describe("event hooks", () => {
  test("on() returns an unregister function that removes only its own registration", async () => {
    const registry = createRegistry();
    const calls: string[] = [];
    let offFirst: () => void = () => undefined;
    registry.use(
      definePlugin({
        name: "p",
        setup(api) {
          offFirst = api.on("onStep", (e) => void calls.push(`first:${e.step}`));
          api.on("onStep", (e) => void calls.push(`second:${e.step}`));
        },
      }),
    );
    await registry.callParallel("onStep", step(1));
    offFirst();
    offFirst(); // idempotent: must not remove the second handler
    await registry.callParallel("onStep", step(2));
    expect(calls).toEqual(["first:1", "second:1", "second:2"]);
  });

  test("a throwing hook is wrapped with the plugin and hook names, and keeps the cause", async () => {
    const registry = createRegistry();
    const cause = new Error("disk full");
    registry.use(definePlugin({ name: "ok", setup: (api) => api.on("onStep", () => undefined) }));
    registry.use(
      definePlugin({
        name: "boom",
        setup: (api) =>
          api.on("onStep", () => {
            throw cause;
          }),
      }),
    );
    const error = (await registry.callParallel("onStep", step(3)))._unsafeUnwrapErr();
    expect(error).toBeInstanceOf(HookError);
    expect(error.message).toBe('plugin "boom" failed in hook onStep: disk full');
    expect(error.plugin).toBe("boom");
    expect(error.hook).toBe("onStep");
    expect(error.cause).toBe(cause);
  });

  test("a rejected sequential hook stops the hooks after it", async () => {
    const registry = createRegistry();
    const ran: string[] = [];
    registry.use(
      definePlugin({
        name: "saver",
        setup: (api) =>
          api.on("onSave", async () => {
            ran.push("saver");
            throw new Error("upload refused");
          }),
      }),
    );
    registry.use(definePlugin({ name: "after", setup: (api) => api.on("onSave", () => void ran.push("after")) }));
    const result = await registry.callSequential("onSave", { runId: "r", step: 10, path: "/tmp/ckpt", kind: "checkpoint" });
    expect(result._unsafeUnwrapErr().message).toBe('plugin "saver" failed in hook onSave: upload refused');
    expect(ran).toEqual(["saver"]);
  });

  test("calling a hook with a kind other than its declared one is refused", async () => {
    const registry = createRegistry();
    const ran: number[] = [];
    registry.use(definePlugin({ name: "p", setup: (api) => api.on("onRunStart", () => void ran.push(1)) }));
    // @ts-expect-error onRunStart is sequential; the types already refuse this call.
    const wrong = await registry.callParallel("onRunStart", { runId: "r", startedAt: 0 });
    const error = wrong._unsafeUnwrapErr();
    expect(error.reason).toBe("wrong-kind");
    expect(error.message).toBe("hook onRunStart is declared sequential and must be called with callSequential, not callParallel");
    expect(ran).toEqual([]);
    // @ts-expect-error not a declared hook
    const unknown = await registry.callSequential("onRunStrat", { runId: "r", startedAt: 0 });
    expect(unknown._unsafeUnwrapErr().message).toContain('hook onRunStrat is not declared; did you mean "onRunStart"?');
  });

  test("sequential hooks run in registration order even when an earlier one is slow", async () => {
    const registry = createRegistry();
    const order: string[] = [];
    registry.use(
      definePlugin({
        name: "slow",
        setup: (api) =>
          api.on("onRunEnd", async () => {
            await Bun.sleep(15);
            order.push("slow");
          }),
      }),
    );
    registry.use(definePlugin({ name: "fast", setup: (api) => api.on("onRunEnd", () => void order.push("fast")) }));
    await registry.callSequential("onRunEnd", { runId: "r", status: "completed", step: 5, elapsedMs: 10 });
    expect(order).toEqual(["slow", "fast"]);
  });

  test("parallel hooks run concurrently: a fast one finishes while a slow one waits", async () => {
    const registry = createRegistry();
    const order: string[] = [];
    registry.use(
      definePlugin({
        name: "slow",
        setup: (api) =>
          api.on("onEval", async () => {
            order.push("slow:start");
            await Bun.sleep(15);
            order.push("slow:end");
          }),
      }),
    );
    registry.use(definePlugin({ name: "fast", setup: (api) => api.on("onEval", () => void order.push("fast")) }));
    await registry.callParallel("onEval", { runId: "r", step: 1, split: "valid", metrics: { loss: 1 }, elapsedMs: 1 });
    expect(order).toEqual(["slow:start", "fast", "slow:end"]);
  });
});

// Hooks a later module might declare; given to a custom registry so they do not leak into HookTypes.
interface TestHooks extends HookTypes {
  scaleLoss: ReduceHook<number, [StepEvent]>;
  pickTemplate: FirstHook<[string], string>;
}

describe("first and reduce hooks", () => {
  const makeRegistry = () =>
    createRegistry<CollectionTypes, TestHooks>({ collections: builtinCollections, hooks: { ...builtinHookKinds, scaleLoss: "reduce", pickTemplate: "first" } });

  test("reduce threads the value through the hooks in registration order", async () => {
    const registry = makeRegistry();
    registry.use(definePlugin<CollectionTypes, TestHooks>({ name: "double", setup: (api) => api.on("scaleLoss", (v) => v * 2) }));
    registry.use(definePlugin<CollectionTypes, TestHooks>({ name: "add-step", setup: (api) => api.on("scaleLoss", async (v, e) => v + e.step) }));
    // (3 * 2) + 10 = 16; the other order would give (3 + 10) * 2 = 26.
    expect((await registry.callReduce("scaleLoss", 3, step(10)))._unsafeUnwrap()).toBe(16);
    expect((await makeRegistry().callReduce("scaleLoss", 3, step(10)))._unsafeUnwrap()).toBe(3);
  });

  test("a reducer that returns nothing is an error, not a silent undefined", async () => {
    const registry = makeRegistry();
    registry.use(
      definePlugin<CollectionTypes, TestHooks>({
        name: "forgetful",
        // Simulates a JavaScript plugin that forgot its `return`.
        setup: (api) => api.on("scaleLoss", ((): undefined => undefined) as unknown as (v: number) => number),
      }),
    );
    const error = (await registry.callReduce("scaleLoss", 1, step(1)))._unsafeUnwrapErr();
    expect(error.message).toContain('plugin "forgetful" failed in hook scaleLoss: returned undefined');
  });

  test("first returns the first defined result and runs no hook after it", async () => {
    const registry = makeRegistry();
    const asked: string[] = [];
    const plugin = (name: string, answer: string | undefined) =>
      definePlugin<CollectionTypes, TestHooks>({
        name,
        setup: (api) =>
          api.on("pickTemplate", (model) => {
            asked.push(name);
            return model === "qwen2" ? answer : undefined;
          }),
      });
    registry.use(plugin("none", undefined));
    registry.use(plugin("chatml", "chatml"));
    registry.use(plugin("llama3", "llama3"));
    expect((await registry.callFirst("pickTemplate", "qwen2"))._unsafeUnwrap()).toBe("chatml");
    expect(asked).toEqual(["none", "chatml"]);
    expect((await registry.callFirst("pickTemplate", "gpt2"))._unsafeUnwrap()).toBeUndefined();
  });

  test("a plugin can declare a hook at run time; a conflicting kind is refused", async () => {
    const registry = createRegistry<CollectionTypes, TestHooks>({ collections: builtinCollections, hooks: builtinHookKinds });
    expect((await registry.callReduce("scaleLoss", 1, step(1)))._unsafeUnwrapErr().reason).toBe("undeclared");
    const declarer = definePlugin<CollectionTypes, TestHooks>({
      name: "declarer",
      setup(api) {
        api.declareHook("scaleLoss", "reduce");
        api.on("scaleLoss", (v) => v / 2);
      },
    });
    expect(registry.use(declarer).isOk()).toBe(true);
    expect((await registry.callReduce("scaleLoss", 8, step(1)))._unsafeUnwrap()).toBe(4);

    const conflicting = definePlugin({
      name: "conflicting",
      setup(api) {
        // Declared with another kind by a plugin unaware of the first: refused at run time.
        (api.declareHook as (hook: string, kind: string) => void)("scaleLoss", "first");
      },
    });
    expect(registry.use(conflicting)._unsafeUnwrapErr().message).toBe(
      'plugin "conflicting" failed in setup: hook scaleLoss is already declared as reduce, cannot redeclare it as first',
    );
  });
});

describe("validateOptions", () => {
  const lora = {
    rank: { type: "number", integer: true, min: 1, max: 1024, default: 8, doc: "adapter rank" },
    alpha: { type: "number", min: 0, doc: "scaling numerator" },
    dropout: { type: "number", min: 0, max: 1, default: 0, doc: "dropout on the adapter input" },
    init: { type: "enum", values: ["gaussian", "pissa", "olora"], default: "gaussian", doc: "how A and B start" },
    use_rslora: { type: "boolean", default: false, doc: "scale by alpha / sqrt(rank)" },
    target_modules: { type: "list", item: { type: "string" }, default: ["q_proj", "v_proj"], doc: "layers to wrap" },
    base: { type: "string", required: true, doc: "base model path" },
  } satisfies OptionSchema;
  const where = 'method "lora"';

  test("fills defaults and keeps given values", () => {
    const options = validateOptions(lora, { base: "/models/llama", alpha: 16, rank: 16 }, where)._unsafeUnwrap();
    expect(options).toEqual({
      rank: 16,
      alpha: 16,
      dropout: 0,
      init: "gaussian",
      use_rslora: false,
      target_modules: ["q_proj", "v_proj"],
      base: "/models/llama",
    });
    // Typed from the schema: rank has a default so it is a plain number.
    const rank: number = options.rank;
    expect(rank).toBe(16);
  });

  test("an unknown key is reported with a suggestion and the known keys", () => {
    const errors = validateOptions(lora, { base: "m", rnak: 4 }, where)._unsafeUnwrapErr();
    expect(errors).toEqual([
      {
        where,
        key: "rnak",
        message: 'method "lora": unknown option "rnak"; did you mean "rank"? known options: alpha, base, dropout, init, rank, target_modules, use_rslora',
      },
    ]);
  });

  test("a wrong type says what was expected and what was found", () => {
    const errors = validateOptions(lora, { base: "m", use_rslora: "yes" }, where)._unsafeUnwrapErr();
    expect(errors.map((e) => e.message)).toEqual(['method "lora": option "use_rslora" expects a boolean (true or false), found string "yes"']);
  });

  test("range, integer, enum and list item errors", () => {
    const errors = validateOptions(lora, { base: "m", rank: 2048, dropout: -0.1, init: "pisa", target_modules: ["q_proj", 3] }, where)._unsafeUnwrapErr();
    expect(errors.map((e) => [e.key, e.message])).toEqual([
      ["rank", 'method "lora": option "rank" must be in [1, 1024], found 2048'],
      ["dropout", 'method "lora": option "dropout" must be in [0, 1], found -0.1'],
      ["init", 'method "lora": option "init" must be one of "gaussian", "pissa", "olora", found string "pisa"; did you mean "pissa"?'],
      ["target_modules[1]", 'method "lora": option "target_modules[1]" expects a string, found number 3'],
    ]);
    expect(validateOptions(lora, { base: "m", rank: 4.5 }, where)._unsafeUnwrapErr()[0]!.message).toBe(
      'method "lora": option "rank" expects an integer, found number 4.5',
    );
  });

  test("all mistakes are reported together, including a missing required option", () => {
    const errors = validateOptions(lora, { rnak: 4, alpha: -1, use_rslora: 1 }, where)._unsafeUnwrapErr();
    expect(errors.map((e) => e.key)).toEqual(["rnak", "alpha", "use_rslora", "base"]);
    expect(errors[3]!.message).toBe('method "lora": option "base" is required (base model path)');
  });

  test("options that are not key/value pairs are refused", () => {
    expect(validateOptions(lora, [1, 2], where)._unsafeUnwrapErr()[0]!.message).toBe(
      'method "lora": options must be a set of key = value pairs, found a list of 2',
    );
  });
});

describe("suggestions", () => {
  test("edit distance counts an adjacent transposition as one edit", () => {
    expect(editDistance("qewn2", "qwen2")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
  });

  test("suggest ranks by distance, ignores case, and drops far names", () => {
    expect(suggest("LoRA", ["lora", "dora", "full"])).toEqual(["lora", "dora"]);
    expect(suggest("xyz", ["lora", "dora", "full"])).toEqual([]);
  });
});
