// Issue 14 items 7 and 8, through the real `lft` process: every verb answers --help with its usage
// (exit 0), and `lft models` with no match is a successful, empty listing.

import { expect, test } from "bun:test";
import { ExitCode } from "../../dsl/exit-codes.ts";
import { repoRoot } from "./helpers.ts";

function lft(...argv: string[]): { code: number; out: string; err: string } {
  const run = Bun.spawnSync([process.execPath, `${repoRoot}/dsl/cli.ts`, ...argv], { cwd: repoRoot, env: { ...process.env, NO_COLOR: "1" } });
  return { code: run.exitCode, out: run.stdout.toString(), err: run.stderr.toString() };
}

for (const verb of ["run", "import", "check", "fmt", "plugins", "models"]) {
  test(`lft ${verb} --help prints its usage and exits 0`, () => {
    for (const flag of ["--help", "-h"]) {
      const r = lft(verb, flag);
      expect(r.code).toBe(ExitCode.ok);
      expect(r.out).toStartWith(`usage: lft ${verb}`);
      expect(r.err).toBe("");
    }
  });
}

test("lft plugins --help does not list the plugins", () => {
  expect(lft("plugins", "--help").out).not.toContain("(built in)");
});

test("lft models with no match: exit 0, an empty listing and a note on stderr", () => {
  const r = lft("models", "zzz");
  expect(r.code).toBe(ExitCode.ok);
  expect(r.out).toContain("0 of ");
  expect(r.err).toContain('no known checkpoint matches "zzz"');
  expect(lft("models", "llama").out).not.toContain("0 of ");
});
