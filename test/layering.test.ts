// One-way layering, enforced: every import in core/, plugins/, dsl/ and ffi/ obeys the rules in
// docs/ARCHITECTURE.md (Layering), and no two files import each other in a loop. The checker is tested first on
// synthetic file sets that break each rule once, so a green run on the real tree means something.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { checkLayering, findImports, type Rule, readSourceTree } from "./helpers/imports.ts";

const repo = join(import.meta.dir, "..");

/** Rules reported for a synthetic tree, as "rule file:line" strings. */
function report(files: Record<string, string>): string[] {
  return checkLayering(new Map(Object.entries(files))).map((v) => `${v.rule} ${v.file}:${v.line}`);
}

const CORE = { "core/index.ts": 'export * from "./a.ts";\n', "core/a.ts": "export const a = 1;\n" };

describe("the import scanner", () => {
  test("finds static, re-export, side-effect, dynamic and type-only imports, with their lines", () => {
    const src = [
      'import { a } from "./a.ts";',
      'import type { B } from "./b.ts";',
      'export { c } from "./c.ts";',
      'export type { D } from "./d.ts";',
      'export * as e from "./e.ts";',
      'import "./side.ts";',
      'const m = await import("./dyn.ts");',
      "import {",
      "  f,",
      "  g,",
      '} from "./multi.ts";',
      'type T = typeof import("./typeof.ts");',
    ].join("\n");
    expect(findImports(src)).toEqual([
      { line: 1, specifier: "./a.ts", typeOnly: false },
      { line: 2, specifier: "./b.ts", typeOnly: true },
      { line: 3, specifier: "./c.ts", typeOnly: false },
      { line: 4, specifier: "./d.ts", typeOnly: true },
      { line: 5, specifier: "./e.ts", typeOnly: false },
      { line: 6, specifier: "./side.ts", typeOnly: false },
      { line: 7, specifier: "./dyn.ts", typeOnly: false },
      { line: 8, specifier: "./multi.ts", typeOnly: false },
      { line: 12, specifier: "./typeof.ts", typeOnly: false },
    ]);
  });

  test("ignores imports inside comments, strings, template literals and regexes; exports of declarations", () => {
    const src = [
      '// import { x } from "./comment.ts";',
      '/* export * from "./block.ts"; */',
      "const s = \"import { y } from './string.ts'\";",
      'const t = `import { z } from "./template.ts" ${`nested ${1}`}`;',
      'const r = /import "x"/g;',
      "export const from = 1;",
      "export function f() { return 2; }",
      'import { real } from "./real.ts";',
    ].join("\n");
    expect(findImports(src)).toEqual([{ line: 8, specifier: "./real.ts", typeOnly: false }]);
  });
});

describe("the rules, each broken once on purpose", () => {
  test("a clean tree passes", () => {
    expect(
      report({
        ...CORE,
        "ffi/cpu/cpu.ts": 'import { a } from "../../core/index.ts";\nimport { b } from "./b.ts";\n',
        "ffi/cpu/b.ts": "export const b = 1;\n",
        "plugins/index.ts": 'export * from "./models/index.ts";\n',
        "plugins/models/index.ts": 'import { a } from "../../core/index.ts";\nimport { l } from "./llama/llama.ts";\n',
        "plugins/models/llama/llama.ts": 'import { x } from "../../runner/index.ts";\nexport const l = 1;\n',
        "plugins/runner/index.ts": "export const x = 1;\n",
        "plugins/backends/cpu.ts": 'import { cpu } from "../../ffi/cpu/cpu.ts";\n',
        "dsl/cli.ts":
          'import { a } from "../core/index.ts";\nimport { p } from "../plugins/index.ts";\nimport { m } from "../plugins/models/index.ts";\nimport "neverthrow";\n',
        "test/anything.ts": 'import { deep } from "../core/a.ts";\nimport { cpu } from "../ffi/cpu/b.ts";\n',
      }),
    ).toEqual([]);
  });

  const cases: [string, Rule, Record<string, string>, string][] = [
    [
      "core imports ffi",
      "core-outward",
      { ...CORE, "core/b.ts": 'import { cpu } from "../ffi/cpu/cpu.ts";\n', "ffi/cpu/cpu.ts": "export const cpu = 1;\n" },
      "core/b.ts:1",
    ],
    [
      "core imports a plugin (type only)",
      "core-outward",
      { ...CORE, "core/b.ts": '\nimport type { P } from "../plugins/models/index.ts";\n', "plugins/models/index.ts": "export type P = 1;\n" },
      "core/b.ts:2",
    ],
    [
      "core imports dsl dynamically",
      "core-outward",
      { ...CORE, "core/b.ts": 'const m = await import("../dsl/cli.ts");\n', "dsl/cli.ts": "export {};\n" },
      "core/b.ts:1",
    ],
    [
      "a plugin imports a core file behind the entry",
      "core-entry",
      { ...CORE, "plugins/runner/run.ts": 'import { a } from "../../core/a.ts";\n' },
      "plugins/runner/run.ts:1",
    ],
    ["dsl imports a core file behind the entry", "core-entry", { ...CORE, "dsl/x.ts": 'export { a } from "../core/a.ts";\n' }, "dsl/x.ts:1"],
    [
      "ffi imports another ffi folder",
      "ffi",
      { ...CORE, "ffi/cuda/index.ts": 'import { b } from "../cpu/b.ts";\n', "ffi/cpu/b.ts": "export const b = 1;\n" },
      "ffi/cuda/index.ts:1",
    ],
    [
      "ffi imports a plugin",
      "ffi",
      { ...CORE, "ffi/cpu/cpu.ts": 'import { p } from "../../plugins/index.ts";\n', "plugins/index.ts": "export const p = 1;\n" },
      "ffi/cpu/cpu.ts:1",
    ],
    [
      "a plugin reaches into another area",
      "plugin-area",
      { ...CORE, "plugins/commands/models.ts": 'import { c } from "../models/catalog.ts";\n', "plugins/models/catalog.ts": "export const c = 1;\n" },
      "plugins/commands/models.ts:1",
    ],
    [
      "a plugin imports dsl",
      "plugin-area",
      { ...CORE, "plugins/runner/run.ts": 'import type { R } from "../../dsl/recipe.ts";\n', "dsl/recipe.ts": "export type R = 1;\n" },
      "plugins/runner/run.ts:1",
    ],
    [
      "a plugin outside backends imports ffi",
      "plugin-area",
      { ...CORE, "plugins/models/llama.ts": 'import { cpu } from "../../ffi/cpu/cpu.ts";\n', "ffi/cpu/cpu.ts": "export const cpu = 1;\n" },
      "plugins/models/llama.ts:1",
    ],
    [
      "a backend plugin imports an ffi internal",
      "plugin-area",
      { ...CORE, "plugins/backends/cuda.ts": 'import { d } from "../../ffi/cuda/driver.ts";\n', "ffi/cuda/driver.ts": "export const d = 1;\n" },
      "plugins/backends/cuda.ts:1",
    ],
    [
      "plugins/index.ts imports a family file, not the area's entry",
      "plugin-area",
      { ...CORE, "plugins/index.ts": 'import l from "./models/llama.ts";\n', "plugins/models/llama.ts": "export default 1;\n" },
      "plugins/index.ts:1",
    ],
    [
      "dsl imports plugin internals",
      "dsl-plugins",
      { ...CORE, "dsl/session.ts": 'import { r } from "../plugins/runner/run.ts";\n', "plugins/runner/run.ts": "export const r = 1;\n" },
      "dsl/session.ts:1",
    ],
    [
      "dsl imports ffi",
      "dsl-outward",
      { ...CORE, "dsl/cli.ts": 'import { cpu } from "../ffi/cpu/cpu.ts";\n', "ffi/cpu/cpu.ts": "export const cpu = 1;\n" },
      "dsl/cli.ts:1",
    ],
    ["an import names no file", "unresolved", { ...CORE, "core/b.ts": 'import { gone } from "./gone.ts";\n' }, "core/b.ts:1"],
  ];
  for (const [what, rule, files, at] of cases) {
    test(`${what}: ${rule} at ${at}`, () => {
      expect(report(files)).toEqual([`${rule} ${at}`]);
    });
  }

  test("an import cycle is reported with its path, type-only imports included", () => {
    const found = checkLayering(
      new Map(
        Object.entries({
          ...CORE,
          "core/x.ts": 'import { y } from "./y.ts";\nexport const x = 1;\n',
          "core/y.ts": 'import type { Z } from "./z.ts";\nexport const y = 1;\n',
          "core/z.ts": 'import { x } from "./x.ts";\nexport type Z = 1;\n',
        }),
      ),
    );
    expect(found.map((v) => v.rule)).toEqual(["cycle"]);
    expect(found[0]!.message).toBe("core/x.ts:1 import cycle: core/x.ts -> core/y.ts -> core/z.ts -> core/x.ts");
  });

  test("a file importing itself is a cycle", () => {
    expect(report({ ...CORE, "core/self.ts": 'export { s } from "./self.ts";\n' })).toEqual(["cycle core/self.ts:1"]);
  });
});

test("lft's own tree keeps every layering rule and has no import cycle", () => {
  const files = readSourceTree(repo);
  expect(files.size).toBeGreaterThan(200);
  const violations = checkLayering(files).map((v) => `[${v.rule}] ${v.message}`);
  expect(violations).toEqual([]);
});
