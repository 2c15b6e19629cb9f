// A third-party plugin as a user would get it: examples/plugin-hello installed with npm into a fresh
// project (lft linked beside it as the peer dependency), loaded by `use` from a recipe, listed by
// `lft plugins`, its verb run from the CLI and the REPL, its own test run where it is installed. A
// package that fails to load, or that registers a name already taken, is an error naming it.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExitCode } from "../../dsl/exit-codes.ts";
import { repoRoot } from "./helpers.ts";

const npm = Bun.which("npm");
const project = mkdtempSync(join(tmpdir(), "lft-plugin-project-"));
const bareCli = `${repoRoot}/test/dsl/fixtures/bare-cli.ts`;
afterAll(() => rmSync(project, { recursive: true, force: true }));

function lft(args: string[], stdin?: string): { code: number; out: string; err: string } {
  const run = Bun.spawnSync([process.execPath, bareCli, ...args], {
    cwd: project,
    stdin: stdin === undefined ? "ignore" : Buffer.from(stdin),
    env: { ...process.env, LFT_HISTORY: join(project, ".history") },
  });
  return { code: run.exitCode ?? -1, out: run.stdout.toString(), err: run.stderr.toString() };
}

function write(name: string, text: string): string {
  writeFileSync(join(project, name), text);
  return name;
}

/** A package in the project's node_modules, as npm would leave it. */
function fakePackage(name: string, index: string): void {
  const dir = join(project, "node_modules", name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, version: "1.0.0", type: "module", main: "index.ts" }));
  writeFileSync(join(dir, "index.ts"), index);
}

const skip = npm === null ? " (skipped: npm is not installed)" : "";

beforeAll(() => {
  if (npm === null) return;
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "demo-project", private: true }));
  // --install-links copies the package as a registry install would; --legacy-peer-deps keeps npm
  // from fetching the lft peer, which is linked in afterwards (offline: nothing is downloaded).
  const install = Bun.spawnSync(
    [
      npm,
      "install",
      "--no-audit",
      "--no-fund",
      "--offline",
      "--install-links",
      "--legacy-peer-deps",
      "--ignore-scripts",
      `file:${repoRoot}/examples/plugin-hello`,
    ],
    { cwd: project },
  );
  if (install.exitCode !== 0) throw new Error(`npm install failed:\n${install.stderr.toString()}`);
  symlinkSync(repoRoot, join(project, "node_modules", "lft"));
  write("names.jsonl", '{"who": "Ada"}\n{"who": "Grace"}\n');
});

describe.skipIf(npm === null)(`lft-plugin-hello installed in a project${skip}`, () => {
  test("npm installed a copy, recorded as a dependency", async () => {
    const installed = join(project, "node_modules", "lft-plugin-hello");
    expect(lstatSync(installed).isSymbolicLink()).toBe(false);
    expect(existsSync(join(installed, "index.ts"))).toBe(true);
    expect(existsSync(join(installed, "lft-in-repo.d.ts"))).toBe(false);
    const pkg = (await Bun.file(join(project, "package.json")).json()) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).toEqual(["lft-plugin-hello"]);
  });

  test("a recipe uses it: its format and metric check, its options are validated like lft's", () => {
    const ok = write(
      "greet.lft",
      'use "lft-plugin-hello"\nmodel "models/tiny"\ndataset hello "names.jsonl" { prompt = "who" }\neval hello "names.jsonl" { metrics = [greeting_rate] }\n',
    );
    expect(lft(["check", ok])).toEqual({ code: 0, out: "greet.lft: ok\n", err: "" });
    const bad = write(
      "bad.lft",
      'use "lft-plugin-hello"\nmodel "models/tiny"\ndataset hello "names.jsonl" { promt = "who" }\neval hello "names.jsonl" { metrics = [greeting_rte] }\n',
    );
    const r = lft(["check", bad]);
    expect(r.code).toBe(ExitCode.recipeError);
    expect(r.err).toContain(
      'bad.lft:3:31: dataset "hello": unknown option "promt"; did you mean "prompt"? known options: dir, max_json_bytes, max_row_chars, max_samples, prompt, split, weight',
    );
    expect(r.err).toContain('bad.lft:4:39: unknown metric "greeting_rte"; did you mean "greeting_rate"?');
  });

  test("lft plugins lists the package as its package.json declares it; with --trust, what it registered", () => {
    const r = lft(["plugins", "greet.lft"]);
    expect(r.code).toBe(0);
    const manifest = join(project, "node_modules/lft-plugin-hello/package.json");
    expect(r.out).toContain(`lft-plugin-hello 0.1.0  (${manifest} (declared; not imported))\n  dataset format: hello\n  metric: greeting_rate\n`);
    const trusted = lft(["plugins", "greet.lft", "--trust"]);
    expect(trusted.code).toBe(0);
    expect(trusted.out).toContain(
      `lft-plugin-hello 0.1.0  (${join(project, "node_modules/lft-plugin-hello/index.ts")})\n  dataset format: hello\n  metric: greeting_rate\n  command: hello\n`,
    );
  });

  test("its verb works from the command line (package.json plugin list) and in the REPL", () => {
    expect(lft(["hello", "Ada"]).code).toBe(ExitCode.usage);
    write(
      "package.json",
      JSON.stringify({ name: "demo-project", private: true, dependencies: { "lft-plugin-hello": "file:x" }, lft: { plugins: ["lft-plugin-hello"] } }),
    );
    expect(lft(["hello", "Ada"])).toEqual({ code: 0, out: "Hello, Ada! (2 plugins loaded, in the cli)\n", err: "" });
    expect(lft(["help"]).out.replace(/\s+/g, " ")).toContain("hello [name] greet someone, and say how many plugins the session has loaded [lft-plugin-hello]");
    const repl = lft([], ":hello Grace\n:helo\n");
    expect(repl.out).toContain("Hello, Grace! (2 plugins loaded, in the repl)\n");
    expect(repl.err).toContain('unknown command :helo; did you mean ":hello" or ":help"?');
  });

  test("its own test passes where it is installed", () => {
    const run = Bun.spawnSync([process.execPath, "test"], { cwd: join(project, "node_modules", "lft-plugin-hello") });
    expect(run.stderr.toString()).toContain(" 4 pass\n 0 fail");
    expect(run.exitCode).toBe(0);
  });

  test("a package that throws while loading is named: exit 4", () => {
    fakePackage("lft-plugin-broken", 'throw new Error("missing native library libfoo.so");\n');
    const r = lft(["check", write("broken.lft", 'use "lft-plugin-broken"\n'), "--trust"]);
    expect(r.code).toBe(ExitCode.pluginError);
    expect(r.err).toContain(
      `broken.lft:1:5: use "lft-plugin-broken": plugin package "lft-plugin-broken" (${join(project, "node_modules/lft-plugin-broken/index.ts")}) failed to load: missing native library libfoo.so`,
    );
  });

  test("a package registering a name already taken is named, and nothing of it stays: exit 4", () => {
    fakePackage(
      "lft-plugin-hello-again",
      'import { definePlugin } from "lft/core/index.ts";\nexport default definePlugin({ name: "lft-plugin-hello-again", setup(api) { api.register.metrics({ name: "bleu_again", doc: "d", compute: () => 0 }); api.register.datasets({ name: "hello", doc: "d", produces: [], convert: () => { throw new Error("unused"); } }); } });\n',
    );
    const r = lft(["plugins", write("dup.lft", 'use "lft-plugin-hello"\nuse "lft-plugin-hello-again"\n'), "--trust"]);
    expect(r.code).toBe(ExitCode.pluginError);
    expect(r.err).toContain(
      'dup.lft:2:5: use "lft-plugin-hello-again": plugin "lft-plugin-hello-again" failed in setup: dataset format "hello" is registered twice: first by plugin "lft-plugin-hello", again by plugin "lft-plugin-hello-again"',
    );
    // Rolled back: its other entry is not registered either.
    expect(r.out).not.toContain("bleu_again");
  });
});
