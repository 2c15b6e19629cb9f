// Attack: read-only verbs must run no plugin code (issue 15, item 7). Packages whose top level writes a
// marker file, throws, or loops forever are named by `use` in recipes and by a project's plugin list;
// `lft check`, `lft fmt`, `lft plugins` and the REPL's `:check` never create the marker and never hang.
// With --trust they import. A package's package.json `lft` declaration lets check validate the options
// of what it provides without running it, and a run holds the imported plugin to its declaration.
// The packages that loop are only ever given to spawned processes (with a timeout), so a regression
// fails the test instead of hanging the suite.

import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../dsl/cli.ts";
import { ExitCode } from "../../dsl/exit-codes.ts";
import { captureIO, repoRoot } from "../dsl/helpers.ts";

const dir = mkdtempSync(join(tmpdir(), "lft-attack-trust-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const markers = join(dir, "markers");
const marker = (name: string): string => join(markers, name);
beforeEach(() => {
  rmSync(markers, { recursive: true, force: true });
  mkdirSync(markers);
});

mkdirSync(join(dir, "node_modules"));
symlinkSync(repoRoot, join(dir, "node_modules", "lft"));

/** A package in node_modules: its package.json (plus `extra`) and files. */
function pkg(name: string, files: Record<string, string>, extra: Record<string, unknown> = {}): void {
  const root = join(dir, "node_modules", name);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "package.json"), JSON.stringify({ name, version: "1.0.0", type: "module", main: "index.js", ...extra }));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(root, file), text);
}

const writesMarker = (name: string): string => `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker(name))}, "ran");\n`;
const optimizer = (name: string, options: Record<string, unknown>): string =>
  `import { definePlugin } from "lft/core/index.ts";
export default definePlugin({ name: ${JSON.stringify(name)}, version: "1.0.0", setup(api) {
  api.register.optimizers({ name: ${JSON.stringify(name.replace("decl-", ""))}, doc: "test", options: ${JSON.stringify(options)}, build: () => { throw new Error("unused"); }, stateBytes: () => 0 });
} });
`;

// Undeclared packages: one writes a marker (and is a valid plugin), one throws, one never returns.
pkg("evil-marker", {
  "index.js": `${writesMarker("evil-marker")}import { definePlugin } from "lft/core/index.ts";\nexport default definePlugin({ name: "evil-marker", setup() {} });\n`,
});
pkg("evil-throw", { "index.js": `${writesMarker("evil-throw")}throw new Error("boom at import");\n` });
pkg("evil-loop", { "index.js": `${writesMarker("evil-loop")}while (true) {}\n` });

// Declared packages: each also writes a marker when imported.
const betaOptions = { dsig_beta: { type: "number", min: 0, max: 1, default: 0, doc: "momentum" } };
const declare = (options: Record<string, unknown>) => ({ lft: { entry: "./index.js", provides: { optimizers: { dsig: { doc: "test", options } } } } });
pkg("decl-dsig", { "index.js": writesMarker("decl-dsig") + optimizer("decl-dsig", betaOptions) }, declare(betaOptions));
// Declares dsig_beta in [0, 1], registers it in [0, 2]: a run must refuse it.
const liarOptions = { dsig_beta: { type: "number", min: 0, max: 2, default: 0, doc: "momentum" } };
pkg(
  "decl-liar",
  { "index.js": optimizer("decl-liar", liarOptions) },
  { lft: { entry: "./index.js", provides: { optimizers: { liar: { options: betaOptions } } } } },
);
pkg("decl-bad", { "index.js": writesMarker("decl-bad") }, { lft: { provides: { optimizers: { x: { options: { k: { type: "nope", doc: "d" } } } } } } });
pkg("decl-entry", { "index.js": writesMarker("decl-entry"), "other.js": "" }, { lft: { entry: "./other.js", provides: {} } });
pkg("decl-commands", { "index.js": writesMarker("decl-commands") }, { lft: { provides: { commands: { evil: {} } } } });

function write(name: string, text: string, at = dir): string {
  writeFileSync(join(at, name), text);
  return name;
}

async function lft(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = captureIO(dir);
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

/** A real process, killed after 20 s: for the packages that would hang an in-process import. */
function spawnLft(args: string[], cwd = dir, stdin?: string, timeout = 20_000): { code: number | null; out: string; err: string; killed: boolean } {
  const run = Bun.spawnSync([process.execPath, join(repoRoot, "dsl/cli.ts"), ...args], {
    cwd,
    stdin: stdin === undefined ? "ignore" : Buffer.from(stdin),
    env: { ...process.env, NO_COLOR: "1", LFT_HISTORY: join(dir, ".history"), LFT_HOME: join(dir, ".lft") },
    timeout,
  });
  return { code: run.exitCode, out: run.stdout.toString(), err: run.stderr.toString(), killed: run.exitCode === null };
}

const noMarkers = (): void => {
  for (const name of ["evil-marker", "evil-throw", "evil-loop", "decl-dsig", "decl-bad", "decl-entry", "decl-commands"])
    expect(existsSync(marker(name))).toBe(false);
};

const uses = write("uses.lft", 'use "evil-marker"\nuse "evil-throw"\n');
const loop = write("loop.lft", 'use "evil-marker"\nuse "evil-loop"\nuse "evil-throw"\n');
const train = (options: string, use = "decl-dsig", opt = "dsig") =>
  `use "${use}"\nmodel llama "m"\ndataset text "c.txt"\nmethod full\ntrain pt for 2 steps { optimizer = ${opt}, ${options} }\n`;

describe("read-only verbs run no package code", () => {
  test("lft check: no import; each undeclared package is a warning at its use line naming --trust", async () => {
    const r = await lft("check", uses);
    noMarkers();
    expect(r.code).toBe(ExitCode.ok);
    expect(r.err).toContain('uses.lft:1:5: warning: use "evil-marker": not imported:');
    expect(r.err).toContain('uses.lft:2:5: warning: use "evil-throw": not imported:');
    expect(r.err).toContain("cannot be checked without running its code; --trust imports it");
    expect(r.err).not.toContain("boom at import");
  });

  test("a name the unimported package would provide is 'not available', pointing at that use line", async () => {
    const r = await lft("check", write("unknown.lft", train("dsig_beta = 0.5", "evil-marker")));
    noMarkers();
    expect(r.code).toBe(ExitCode.notAvailable);
    expect(r.err).toContain('unknown.lft:5:36: optimizer "dsig" is not available (no plugin registers it)');
    expect(r.err).toContain("it may come from a use package that was not imported (line 1): check with --trust to import it");
  });

  test("lft plugins <recipe>: lists what is declared, imports nothing", async () => {
    const r = await lft("plugins", uses);
    noMarkers();
    expect(r.code).toBe(ExitCode.ok);
    expect(r.out).not.toContain("evil-marker");
    expect(r.err).toContain('use "evil-marker": not imported');
  });

  test("lft fmt: no import", async () => {
    const r = await lft("fmt", "--check", uses);
    noMarkers();
    expect(r.code).toBe(ExitCode.ok);
  });

  test("a package that loops forever at import: check, plugins and fmt still finish (real processes)", () => {
    for (const args of [
      ["check", loop],
      ["plugins", loop],
      ["fmt", loop],
    ]) {
      const r = spawnLft(args);
      expect(r.killed).toBe(false);
      expect(r.code).toBe(ExitCode.ok);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    noMarkers();
  }, 70_000);

  test("the REPL's :check imports nothing, and the session goes on", () => {
    const r = spawnLft([], dir, `:check ${loop}\n:check ${uses}\n:plugins\n`);
    expect(r.killed).toBe(false);
    noMarkers();
    expect(r.out).toContain(`${loop}: ok`);
    expect(r.out).toContain(`${uses}: ok`);
    expect(r.err).toContain('use "evil-loop": not imported');
    // The declarations :check saw stay out of the session's own registry.
    expect(r.out).not.toMatch(/^evil-/m);
  }, 25_000);

  const project = join(dir, "project");
  mkdirSync(project, { recursive: true });
  write("package.json", JSON.stringify({ name: "victim", private: true, lft: { plugins: ["evil-marker", "evil-loop"] } }), project);
  write("r.lft", "let x = 1\n", project);
  const verbs = (list: string[][]): void => {
    for (const args of list) {
      const r = spawnLft(args, project);
      expect(r.killed).toBe(false);
      expect({ args, code: r.code }).toEqual({ args, code: ExitCode.ok });
      expect(r.err).toContain('package.json: warning: plugin "evil-loop": not imported');
    }
    noMarkers();
  };
  test("a project's plugin list (package.json lft.plugins) is not imported by check, fmt or plugins", () => {
    verbs([["check", "--syntax-only", "r.lft"], ["fmt", "r.lft"], ["plugins"]]);
  }, 70_000);
  test("nor by models or runs", () => verbs([["models"], ["runs"]]), 50_000);
});

describe("code lft would run before its own", () => {
  test("a bunfig.toml preload in the working directory does not run (./lft passes lft's own config)", () => {
    const project = join(dir, "bunfig-project");
    mkdirSync(project, { recursive: true });
    write("bunfig.toml", `preload = ["./evil.ts"]\n`, project);
    write("evil.ts", writesMarker("bunfig-preload"), project);
    write("r.lft", "let x = 1\n", project);
    const run = Bun.spawnSync([join(repoRoot, "lft"), "check", "--syntax-only", "r.lft"], {
      cwd: project,
      env: { ...process.env, NO_COLOR: "1" },
      timeout: 20_000,
    });
    expect(run.stdout.toString()).toBe("r.lft: ok\n");
    expect(existsSync(marker("bunfig-preload"))).toBe(false);
  }, 25_000);

  test("a loose plugin file beside a declared package's entry is not declared: check warns, a run imports it", async () => {
    const project = join(dir, "declared-project");
    mkdirSync(project, { recursive: true });
    write("package.json", JSON.stringify({ name: "proj", type: "module", lft: { entry: "./index.js", provides: {} } }), project);
    write("index.js", "", project);
    write("helper.js", writesMarker("helper") + optimizer("decl-helper", {}), project);
    write("h.lft", 'use "./helper.js"\n', project);
    const checkIO = captureIO(project);
    expect(await main(["check", "h.lft"], checkIO)).toBe(ExitCode.ok);
    expect(checkIO.err()).toContain(
      `h.lft:1:5: warning: use "./helper.js": not imported: ${join(project, "package.json")} declares "lft.entry" ./index.js, not`,
    );
    expect(existsSync(marker("helper"))).toBe(false);
    const runIO = captureIO(project);
    expect(await main(["run", "h.lft"], runIO)).toBe(ExitCode.ok);
    expect(existsSync(marker("helper"))).toBe(true);
  });
});

describe("manifests that never end", () => {
  // A package.json that is a FIFO blocks a plain read forever; one linked to /dev/zero never ends.
  pkg("fifo-pkg", { "index.js": "export default 1;\n" });
  rmSync(join(dir, "node_modules/fifo-pkg/package.json"));
  const mkfifo = (path: string): void => expect(Bun.spawnSync(["mkfifo", path]).exitCode).toBe(0);
  pkg("zero-pkg", { "index.js": "export default 1;\n" });
  rmSync(join(dir, "node_modules/zero-pkg/package.json"));
  symlinkSync("/dev/zero", join(dir, "node_modules/zero-pkg/package.json"));

  test("a use package whose package.json is a FIFO or /dev/zero: check and run refuse it by name (real processes)", () => {
    mkfifo(join(dir, "node_modules/fifo-pkg/package.json"));
    for (const [args, pkgName] of [
      [["check", write("fifo.lft", 'use "fifo-pkg"\n')], "fifo-pkg"],
      [["check", write("zero.lft", 'use "zero-pkg"\n')], "zero-pkg"],
    ] as const) {
      const r = spawnLft([...args], dir, undefined, 10_000);
      expect(r.killed).toBe(false);
      expect(r.code).toBe(ExitCode.pluginError);
      expect(r.err).toContain(`node_modules/${pkgName}/package.json is not a regular file (a device, FIFO, socket or folder)`);
    }
    // A run imports the package (Bun's resolver does not block on it) and then finishes with its error.
    const run = spawnLft(["run", "fifo.lft"], dir, undefined, 10_000);
    expect(run.killed).toBe(false);
    expect(run.code).toBe(ExitCode.pluginError);
  }, 40_000);

  test("a project package.json that is a FIFO: lft fmt and check still finish, naming it", () => {
    const project = join(dir, "fifo-project");
    mkdirSync(project, { recursive: true });
    mkfifo(join(project, "package.json"));
    write("r.lft", "let x = 1\n", project);
    const r = spawnLft(["check", "--syntax-only", "r.lft"], project, undefined, 10_000);
    expect(r.killed).toBe(false);
    expect(r.err).toContain("package.json: cannot read the plugin list:");
    expect(r.out).toBe("r.lft: ok\n");
  }, 15_000);
});

describe("--trust imports", () => {
  test("lft check --trust and lft plugins --trust run the package", async () => {
    const marked = write("marker.lft", 'use "evil-marker"\n');
    expect((await lft("check", marked, "--trust")).code).toBe(ExitCode.ok);
    expect(existsSync(marker("evil-marker"))).toBe(true);
    rmSync(marker("evil-marker"));
    const r = await lft("plugins", marked, "--trust");
    expect(r.out).toContain("evil-marker  (");
  });

  test("a package that throws is then named: exit 4", async () => {
    const r = await lft("check", write("throw.lft", 'use "evil-throw"\n'), "--trust");
    expect(r.code).toBe(ExitCode.pluginError);
    expect(r.err).toContain('throw.lft:1:5: use "evil-throw": plugin package "evil-throw"');
    expect(r.err).toContain("boom at import");
  });

  test("the REPL started with --trust imports on :check", () => {
    const r = spawnLft(["--trust"], dir, ":check marker.lft\n");
    expect(r.killed).toBe(false);
    expect(existsSync(marker("evil-marker"))).toBe(true);
  }, 25_000);
});

describe("declared packages: options checked from package.json alone", () => {
  test("a misspelt and an out-of-range option are located errors, and nothing ran", async () => {
    const typo = await lft("check", write("typo.lft", train("dsig_bta = 0.5")));
    expect(typo.code).toBe(ExitCode.recipeError);
    expect(typo.err).toContain('typo.lft:5:42: train "pt": unknown option "dsig_bta"; did you mean "dsig_beta"?');
    const range = await lft("check", write("range.lft", train("dsig_beta = 2")));
    expect(range.code).toBe(ExitCode.recipeError);
    expect(range.err).toContain('range.lft:5:54: train "pt": option "dsig_beta" must be in [0, 1], found 2');
    expect(range.err).not.toContain("warning");
    const good = await lft("check", "--syntax-only", write("good.lft", train("dsig_beta = 0.5")));
    expect(good).toMatchObject({ code: ExitCode.ok, err: "" });
    noMarkers();
  });

  test("lft plugins shows the declaration as declared, not imported", async () => {
    const r = await lft("plugins", write("listed.lft", train("dsig_beta = 0.5")));
    expect(r.out).toContain(`decl-dsig 1.0.0  (${join(dir, "node_modules/decl-dsig/package.json")} (declared; not imported))\n  optimizer: dsig\n`);
    noMarkers();
  });

  test("a malformed declaration, a wrong entry, or a declared command: exit 4 at the use line", async () => {
    const bad = await lft("check", write("bad.lft", 'use "decl-bad"\n'));
    expect(bad.code).toBe(ExitCode.pluginError);
    expect(bad.err).toContain('bad.lft:1:5: use "decl-bad":');
    expect(bad.err).toContain('"lft.provides.optimizers.x.options.k.type" must be one of number, string, boolean, enum, list');
    const entry = await lft("check", write("entry.lft", 'use "decl-entry"\n'));
    expect(entry.code).toBe(ExitCode.pluginError);
    expect(entry.err).toContain('declares "lft.entry" ./other.js, but "decl-entry" resolves to');
    const commands = await lft("check", write("commands.lft", 'use "decl-commands"\n'));
    expect(commands.code).toBe(ExitCode.pluginError);
    expect(commands.err).toContain('"lft.provides.commands": collections a package declares are models, datasets');
    noMarkers();
  });

  test("a run imports the package and refuses one that does not match its declaration", async () => {
    const r = await lft("run", write("liar.lft", 'use "decl-liar"\n'));
    expect(r.code).toBe(ExitCode.pluginError);
    expect(r.err).toContain('liar.lft:1:5: use "decl-liar": the plugin does not match the "lft" declaration in');
    expect(r.err).toContain(
      'optimizers "liar" option "dsig_beta" is declared as {"default":0,"max":1,"min":0,"type":"number"} but is {"default":0,"max":2,"min":0,"type":"number"}',
    );
    // check, reading only the declaration, cannot see the lie; the run is where it is caught.
    expect((await lft("check", "liar.lft")).code).toBe(ExitCode.ok);
  });

  test("a run of a matching declared package imports it", async () => {
    const r = await lft("run", write("dsig.lft", 'use "decl-dsig"\n'));
    expect(existsSync(marker("decl-dsig"))).toBe(true);
    expect(r.err).not.toContain("does not match");
  });
});
