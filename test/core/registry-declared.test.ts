// Plugin declarations (core/registry/declared.ts): the `lft` field of a package.json parsed and
// validated as JSON (a malformed schema is named by its path, never thrown), registered as a plugin of
// code-free entries, and compared with what an imported plugin registered.

import { expect, test } from "bun:test";
import { createRegistry, declarationMismatches, declaredPlugin, definePlugin, type OptionSchema, parseDeclaration } from "../../core/index.ts";

const beta = { beta: { type: "number", min: 0, max: 1, default: 0.5, doc: "momentum" } } satisfies OptionSchema;
const field = (provides: unknown, extra: Record<string, unknown> = {}) => ({ entry: "./index.ts", provides, ...extra });

test("no provides is no declaration (a project's own plugins list is not one)", () => {
  expect(parseDeclaration(undefined)._unsafeUnwrap()).toBeUndefined();
  expect(parseDeclaration({ plugins: ["x"] })._unsafeUnwrap()).toBeUndefined();
});

test("a well-formed declaration parses, with its entry", () => {
  const parsed = parseDeclaration(field({ optimizers: { sig: { doc: "d", options: beta } }, metrics: { m: {} } }))._unsafeUnwrap();
  expect(parsed).toEqual({ entry: "./index.ts", provides: { optimizers: { sig: { doc: "d", options: beta } }, metrics: { m: {} } } });
});

test("malformed declarations are named by their JSON path", () => {
  const problem = (value: unknown): string => parseDeclaration(value)._unsafeUnwrapErr();
  expect(problem("x")).toContain('"lft" must be an object');
  expect(problem(field({}, { entry: "/etc/passwd" }))).toContain('"lft.entry" must be a relative path');
  expect(problem(field([]))).toContain('"lft.provides" must be an object');
  expect(problem(field({ backends: { x: {} } }))).toContain('"lft.provides.backends": collections a package declares are models, datasets');
  expect(problem(field({ methods: [] }))).toContain('"lft.provides.methods" must be an object of entry names');
  expect(problem(field({ methods: { m: 1 } }))).toContain('"lft.provides.methods.m" must be an object');
  expect(problem(field({ methods: { m: { doc: 3 } } }))).toContain('"lft.provides.methods.m.doc" must be a string');
  expect(problem(field({ methods: { m: { options: [] } } }))).toContain('"lft.provides.methods.m.options" must be an object of option schemas');
  const spec = (s: unknown) => problem(field({ methods: { m: { options: { k: s } } } }));
  expect(spec(null)).toContain('"lft.provides.methods.m.options.k" must be an object with a "type"');
  expect(spec({ type: "number" })).toContain('"lft.provides.methods.m.options.k.doc" must be a string');
  expect(spec({ type: "nope", doc: "d" })).toContain('"lft.provides.methods.m.options.k.type" must be one of');
  expect(spec({ type: "number", min: "0", doc: "d" })).toContain('"lft.provides.methods.m.options.k.min" must be a number');
  expect(spec({ type: "enum", values: [1], doc: "d" })).toContain('"lft.provides.methods.m.options.k.values" must be a list of strings');
  expect(spec({ type: "list", item: { type: "what" }, doc: "d" })).toContain('"lft.provides.methods.m.options.k.item.type" must be one of');
  expect(spec({ type: "boolean", required: "yes", doc: "d" })).toContain('"lft.provides.methods.m.options.k.required" must be true or false');
  // JSON.parse keeps "__proto__" as an own key; as a name it would reach a prototype.
  expect(problem(JSON.parse('{"provides": {"methods": {"__proto__": {}}}}'))).toContain('"__proto__" cannot be an entry name');
  expect(problem(JSON.parse('{"provides": {"methods": {"m": {"options": {"__proto__": {"type": "string", "doc": "d"}}}}}}'))).toContain(
    '"__proto__" cannot be an option name',
  );
  // Well-formed JSON, but a schema core refuses: the same messages as for a registered entry.
  expect(spec({ type: "number", min: 2, max: 1, doc: "d" })).toContain('option "k" has min 2 > max 1');
  expect(spec({ type: "number", max: 1, default: 5, doc: "d" })).toContain("default of");
});

test("a declared plugin registers name, doc and options only, under the package's name", () => {
  const registry = createRegistry();
  const declaration = parseDeclaration(field({ optimizers: { sig: { doc: "d", options: beta } } }))._unsafeUnwrap()!;
  registry.use(declaredPlugin("pkg", "1.2.3", declaration), "pkg/package.json")._unsafeUnwrap();
  expect(registry.get("optimizers", "sig")._unsafeUnwrap() as unknown).toEqual({ name: "sig", doc: "d", options: beta });
  expect(registry.plugins().map((p) => [p.name, p.version, p.registered])).toEqual([["pkg", "1.2.3", { optimizers: ["sig"] }]]);
});

test("mismatches between a declaration and what the plugin registered are each named", () => {
  const declaration = parseDeclaration(field({ optimizers: { sig: { options: beta }, gone: {} } }))._unsafeUnwrap()!;
  const registry = createRegistry();
  const info = registry
    .use(
      definePlugin({
        name: "pkg",
        setup(api) {
          const noop = { build: () => undefined as never, stateBytes: () => 0 };
          api.register.optimizers({
            name: "sig",
            doc: "d",
            options: { beta: { ...beta.beta, max: 2, doc: "other words" }, extra: { type: "boolean", doc: "e" } },
            ...noop,
          });
          api.register.optimizers({ name: "new", doc: "d", ...noop });
        },
      }),
    )
    ._unsafeUnwrap();
  const optionsOf = (c: "optimizers", n: string) => registry.get(c, n)._unsafeUnwrap().options;
  expect(declarationMismatches(declaration, info, optionsOf as never)).toEqual([
    'registers optimizers "new", which package.json does not declare',
    'optimizers "sig" option "beta" is declared as {"default":0.5,"max":1,"min":0,"type":"number"} but is {"default":0.5,"max":2,"min":0,"type":"number"}',
    'optimizers "sig" accepts option "extra", which package.json does not declare',
    'declares optimizers "gone", which the plugin does not register',
  ]);
  // Docs may differ; everything else agreeing is no mismatch.
  const same = parseDeclaration(
    field({ optimizers: { sig: { options: { beta: { ...beta.beta, max: 2 }, extra: { type: "boolean", doc: "x" } } }, new: {} } }),
  )._unsafeUnwrap()!;
  expect(declarationMismatches(same, info, optionsOf as never)).toEqual([]);
});
