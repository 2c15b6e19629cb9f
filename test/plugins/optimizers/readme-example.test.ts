// README's "runtime underneath" example, run as written (its imports pointed at this checkout): the
// AdamW it imports from the library entry (lft.ts) trains the toy classifier.
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dir, "../../..");

test("README's runtime example runs, and its loss falls", () => {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### The runtime underneath"));
  const code = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
  expect(code).toContain('import { AdamW, backward, ops, randn, tensor, tidy } from "./lft.ts";');
  const dir = mkdtempSync(join(tmpdir(), "lft-readme-"));
  try {
    const file = join(dir, "example.ts");
    // The example keeps its loss inside the loop; lines added around the loop print the first and last.
    const lossNow = "const lossNow = () => tidy(() => ops.crossEntropy(ops.matmul(x, w), target).item());\nconsole.log(lossNow());\n";
    const instrumented = `${code.replaceAll('from "./', `from "${REPO}/`).replace("for (let step", `${lossNow}for (let step`)}console.log(lossNow());\n`;
    writeFileSync(file, instrumented);
    const run = Bun.spawnSync([process.execPath, file], { cwd: dir });
    expect(run.stderr.toString()).toBe("");
    expect(run.exitCode).toBe(0);
    const [first, last] = run.stdout.toString().trim().split("\n").map(Number);
    expect(last!).toBeLessThan(first! / 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
