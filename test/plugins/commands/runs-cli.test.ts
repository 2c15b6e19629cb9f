// `lft runs` as a user meets it, through real `lft` processes: one run store per user (LFT_HOME here,
// a temp folder), so runs started in two different folders both appear from a third, and listing
// runs creates no `.lft/` in the working folder; --json, compare, rm, an eval-only recipe recorded
// with its metrics, and a project that opts into its own store with LFT_HOME=.lft.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const repo = join(import.meta.dir, "..", "..", "..");
const root = mkdtempSync(join(tmpdir(), "lft-runs-cli-"));
const home = join(root, "home");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const STORIES = join(repo, "examples/models/stories260K");
const IDENTITY = join(repo, "examples/data/identity.json");

function lft(cwd: string, args: string[], env: Record<string, string> = {}): { code: number; out: string; err: string } {
  const r = Bun.spawnSync([process.execPath, join(repo, "dsl", "cli.ts"), ...args], {
    cwd,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, CI: "true", LFT_HOME: home, ...env },
  });
  return { code: r.exitCode ?? -1, out: r.stdout.toString(), err: r.stderr.toString() };
}

function folder(name: string): string {
  const d = join(root, name);
  mkdirSync(d, { recursive: true });
  return d;
}

const train = (steps: number, lr: string) => `model llama "${STORIES}" { template = default }
dataset alpaca "${IDENTITY}"
method lora { rank = 4, targets = [all] }
train sft for ${steps} steps { lr = ${lr}, batch = 4, output = "out", log_every = 1000 }
`;

interface JsonRun {
  id: string;
  name: string;
  status: string;
  step: number;
  metrics: Record<string, number | null>;
}

const a = folder("project-a");
const b = folder("project-b");
const elsewhere = folder("elsewhere");
let runs: JsonRun[] = [];

test("runs started in two folders both appear in `lft runs` from a third; listing creates no .lft there", () => {
  writeFileSync(join(a, "a.lft"), train(6, "5e-3"));
  writeFileSync(join(b, "b.lft"), train(4, "1e-3"));
  const ra = lft(a, ["a.lft"]);
  expect(ra.code, ra.err).toBe(0);
  const rb = lft(b, ["b.lft"]);
  expect(rb.code, rb.err).toBe(0);
  expect(ra.out).toContain(`recorded in ${join(home, "runs.sqlite")}`);
  for (const d of [a, b]) expect(existsSync(join(d, ".lft"))).toBe(false);

  const list = lft(elsewhere, ["runs"]);
  expect(list.code).toBe(0);
  expect(list.out).toMatch(/a\.lft · train sft\s+completed\s+6\/6/);
  expect(list.out).toMatch(/b\.lft · train sft\s+completed\s+4\/4/);
  expect(existsSync(join(elsewhere, ".lft"))).toBe(false);
  expect(existsSync(join(home, "runs.sqlite"))).toBe(true);
}, 120_000);

test("`lft runs --json` gives every run with its last metrics", () => {
  const r = lft(elsewhere, ["runs", "--json"]);
  expect(r.code).toBe(0);
  runs = JSON.parse(r.out) as JsonRun[];
  expect(runs.map((x) => x.name)).toEqual(["b.lft · train sft", "a.lft · train sft"]);
  expect(runs.map((x) => x.step)).toEqual([4, 6]);
  for (const x of runs) expect(x.metrics.loss).toBeGreaterThan(0);
  const one = JSON.parse(lft(elsewhere, ["runs", "show", runs[1]!.id, "--json"]).out) as { metrics: Record<string, { step: number }[]> };
  expect(one.metrics.loss!.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6]);
});

test("`lft runs compare A B` overlays both loss curves on one plot", () => {
  const [rb, ra] = runs;
  const r = lft(elsewhere, ["runs", "compare", ra!.id, rb!.id]);
  expect(r.code, r.err).toBe(0);
  const lines = r.out.split("\n");
  expect(lines[0]).toMatch(new RegExp(`^${ra!.id}\\s+completed\\s+loss last [\\d.]+, min [\\d.]+ over 6 steps`));
  expect(lines[1]).toMatch(new RegExp(`^${rb!.id}\\s+completed\\s+loss last [\\d.]+, min [\\d.]+ over 4 steps`));
  // Not a terminal: no colour; the first run solid, the second dotted, both named in the legend.
  expect(r.out).not.toContain("\x1b[");
  expect(r.out).toContain(`━━ ${ra!.id}   ┄┄ ${rb!.id}`);
  expect(r.out).toMatch(/[⠁-⣿]/);
  expect(lft(elsewhere, ["runs", "compare", ra!.id]).code).toBe(2);
  expect(lft(elsewhere, ["runs", "compare", ra!.id, "no-such-run"]).code).toBe(2);
});

test("an eval-only recipe is recorded as a run with its metrics", () => {
  const d = folder("eval-only");
  writeFileSync(join(d, "e.lft"), `model llama "${STORIES}" { template = default }\neval alpaca "${IDENTITY}" { batch = 4 }\n`);
  const r = lft(d, ["e.lft"]);
  expect(r.code, r.err).toBe(0);
  const printed = Number(/eval .*: loss ([\d.]+)/.exec(r.out)![1]);
  const all = JSON.parse(lft(elsewhere, ["runs", "--json"]).out) as JsonRun[];
  const e = all.find((x) => x.name === `e.lft · eval ${IDENTITY}`)!;
  expect(e.status).toBe("completed");
  expect(e.metrics["eval/loss"]!).toBeCloseTo(printed, 4);
  expect(e.metrics["eval/perplexity"]!).toBeCloseTo(Math.exp(e.metrics["eval/loss"]!), 2);
  expect(lft(elsewhere, ["runs"]).out).toMatch(new RegExp(`${e.id}\\s+e\\.lft · eval .*completed\\s+0/0\\s+${e.metrics["eval/loss"]!.toFixed(4)}`));
}, 60_000);

test("`lft runs rm` removes runs (an unknown id is a usage error, the others still go)", () => {
  const [rb, ra] = runs;
  const r = lft(elsewhere, ["runs", "rm", ra!.id, "no-such-run"]);
  expect(r.code).toBe(2);
  expect(r.out).toBe(`removed run ${ra!.id}\n`);
  expect(r.err).toContain('no run "no-such-run"');
  const left = (JSON.parse(lft(elsewhere, ["runs", "--json"]).out) as JsonRun[]).map((x) => x.id);
  expect(left).not.toContain(ra!.id);
  expect(left).toContain(rb!.id);
  expect(lft(elsewhere, ["runs", "show", ra!.id]).code).toBe(2);
  expect(lft(elsewhere, ["runs", "rm"]).code).toBe(2);
});

test("a project opts into its own store with LFT_HOME=.lft", () => {
  const p = folder("own-store");
  writeFileSync(join(p, "p.lft"), train(2, "1e-3"));
  const r = lft(p, ["p.lft"], { LFT_HOME: ".lft" });
  expect(r.code, r.err).toBe(0);
  expect(existsSync(join(p, ".lft", "runs.sqlite"))).toBe(true);
  expect(lft(p, ["runs"], { LFT_HOME: ".lft" }).out).toMatch(/p\.lft · train sft\s+completed\s+2\/2/);
  expect(lft(elsewhere, ["runs"]).out).not.toContain("p.lft");
}, 60_000);
