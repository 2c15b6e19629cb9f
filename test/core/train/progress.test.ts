// The progress bar: one rewritten line per step on a terminal; plain lines every N steps when the
// stream is not a terminal or CI is set.
import { describe, expect, test } from "bun:test";
import { train } from "../../../core/index.ts";
import { formatDuration } from "../../../core/train/progress.ts";
import { adamw } from "../../../plugins/optimizers/index.ts";
import { tinyBatches, tinyRun } from "./tiny-run.ts";

async function capture(isTTY: boolean, env: Record<string, string>, every = 2): Promise<string> {
  let text = "";
  const run = tinyRun();
  (
    await train({
      runId: "p",
      params: run.params,
      optimizer: adamw({ lr: 1e-2 }),
      steps: 5,
      batches: tinyBatches(8),
      lossFn: run.lossFn,
      progress: { stream: { isTTY, write: (s: string) => (text += s) }, env, every },
    })
  )._unsafeUnwrap();
  run.dispose();
  return text;
}

describe("progress", () => {
  test("on a terminal: the step line is rewritten in place with bar, loss, lr, tokens/s and ETA", async () => {
    const out = await capture(true, {});
    const frames = out.split("\r\x1b[2K").filter(Boolean);
    expect(frames[0]).toBe("run p: 5 steps\n");
    const steps = frames.filter((f) => f.startsWith("step "));
    expect(steps).toHaveLength(5);
    expect(steps[0]).toMatch(/^step 1\/5 ████ {16} loss \d\.\d{4} {2}lr 1\.00e-2 {2}[\d.]+k? tok\/s {2}ETA \d+s$/);
    expect(steps[4]).toMatch(/^step 5\/5 █{20} loss/);
    expect(frames.at(-1)).toMatch(/^run p completed at step 5 after \d+s\n$/);
  });

  test("not a terminal, or CI set: one plain line every N steps and the last", async () => {
    for (const [tty, env] of [
      [false, {}],
      [true, { CI: "true" }],
    ] as const) {
      const lines = (await capture(tty, env)).trimEnd().split("\n");
      expect(lines.some((l) => l.includes("\r") || l.includes("\x1b"))).toBe(false);
      expect(lines.filter((l) => l.startsWith("step ")).map((l) => l.split(/\s+/)[1])).toEqual(["2/5", "4/5", "5/5"]);
    }
  });

  test("durations", () => {
    expect([formatDuration(4_400), formatDuration(65_000), formatDuration(3_725_000), formatDuration(Number.NaN)]).toEqual(["4s", "1m05s", "1h02m", "?"]);
  });
});
