// The model, data and run verbs, called as the CLI calls them (args, io, session): outputs, files
// written and exit codes, including usage errors.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CommandEntry, type CommandIO, createRegistry, loadModel } from "../../core/index.ts";
import { builtinPlugins } from "../../plugins/index.ts";

const repo = join(import.meta.dir, "..", "..");
const work = mkdtempSync(join(tmpdir(), "lft-verbs-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const registry = createRegistry();
for (const p of builtinPlugins) registry.use(p)._unsafeUnwrap();
const session = { registry, mode: "cli" as const };

async function call(verb: string, args: string[], cwd = repo): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: CommandIO = {
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      err += s;
    },
    cwd,
  };
  const entry = registry.get("commands", verb)._unsafeUnwrap() as CommandEntry;
  const code = await entry.run(args, io, session);
  return { code, out, err };
}

test("convert llama2c writes a folder that loads; a wrong format or missing --out is a usage error", async () => {
  const out = join(work, "s260");
  const r = await call("convert", ["llama2c", "test/fixtures/stories260K/stories260K.bin", "test/fixtures/stories260K/tok512.bin", "--out", out]);
  expect(r.code).toBe(0);
  expect(r.out).toContain("260,032 parameters");
  expect(loadModel(out, registry, { dtype: "f32" }).isOk()).toBe(true);
  expect((await call("convert", ["gguf", "a", "b", "--out", out])).code).toBe(2);
  expect((await call("convert", ["llama2c", "a", "b"])).err).toContain("--out DIR is required");
});

test("make-tiny writes a loadable model of the family; an unknown family is not available (3)", async () => {
  const out = join(work, "tiny-mistral");
  expect((await call("make-tiny", ["--family", "mistral", "--out", out])).code).toBe(0);
  const loaded = loadModel(out, registry, { dtype: "f32" })._unsafeUnwrap();
  expect(loaded.family.name).toBe("mistral");
  const bad = await call("make-tiny", ["--family", "mistrall", "--out", out]);
  expect(bad.code).toBe(3);
  expect(bad.err).toContain("mistral");
});

test("models filters the catalog and names the loaded families", async () => {
  const r = await call("models", ["gemma-2"]);
  expect(r.code).toBe(0);
  expect(r.out).toContain("google/gemma-2-9b-it");
  expect(r.out).not.toContain("Qwen/");
  // No match is an empty listing, not a failure (issue 14 item 8): exit 0, with a note on stderr.
  const none = await call("models", ["no-such-model"]);
  expect(none.code).toBe(0);
  expect(none.err).toContain('no known checkpoint matches "no-such-model"');
});

test("data preview marks the masked prompt and counts tokens", async () => {
  const r = await call("data", [
    "preview",
    "identity",
    "--dataset-dir",
    "test/fixtures/llamafactory-data",
    "--model",
    "examples/models/stories260K",
    "--template",
    "alpaca",
    "--count",
    "1",
  ]);
  expect(r.code).toBe(0);
  expect(r.out).toContain("⟦Below is an instruction");
  expect(r.out).toMatch(/tokens: [\d,]+ in 91 samples/);
  expect((await call("data", ["preview", "identity", "--model", "nowhere"])).code).toBe(5);
});

test("runs on an empty store lists none, in the user's store, not in the working folder; show of an unknown id is a usage error", async () => {
  const before = process.env.LFT_HOME;
  process.env.LFT_HOME = join(work, "home");
  try {
    const r = await call("runs", [], work);
    expect(r.code).toBe(0);
    expect(r.out).toContain("no runs");
    expect(existsSync(join(work, "home", "runs.sqlite"))).toBe(true);
    expect(existsSync(join(work, ".lft"))).toBe(false);
    expect((await call("runs", ["show", "no-such-run-id"], work)).code).toBe(2);
    expect((await call("runs", ["frobnicate"], work)).code).toBe(2);
  } finally {
    process.env.LFT_HOME = before;
  }
});

test("chat answers one prompt with the shipped model (greedy, deterministic); a missing folder fails clearly", async () => {
  const a = await call("chat", ["examples/models/stories260K", "--prompt", "Once upon a time", "--max-tokens", "12"]);
  const b = await call("chat", ["examples/models/stories260K", "--prompt", "Once upon a time", "--max-tokens", "12"]);
  expect(a.code).toBe(0);
  expect(a.out).toContain("> Once upon a time");
  // Same text token for token; only the timings printed beside it ("loaded in 0.1s") may differ.
  const untimed = (out: string) => out.replace(/\d+(\.\d+)?(ms|s)\b/g, "<t>");
  expect(untimed(a.out)).toBe(untimed(b.out));
  const answer = a.out.split("> Once upon a time\n")[1] ?? "";
  expect(answer.trim().length).toBeGreaterThan(10);
  const missing = await call("chat", ["no/such/model", "--prompt", "hi"]);
  expect(missing.code).not.toBe(0);
  expect(missing.err).toContain("no/such/model");
  expect((await call("chat", ["examples/models/stories260K", "--max-tokens", "zero"])).code).toBe(2);
});
