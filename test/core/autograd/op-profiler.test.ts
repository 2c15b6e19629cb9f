// setOpProfiler: every op's forward and backward is reported once with its exclusive time (an op run
// inside another op's forward is not counted twice), and removing the profiler stops the reports.
import { expect, test } from "bun:test";
import { backward, defineOp, ops, setOpProfiler, tensor, tidy } from "../../../lft.ts";

/** An op whose forward runs another op (scale) inside it. */
const doubledSquare = defineOp<[ReturnType<typeof tensor>], null>({
  name: "doubledSquare",
  forward(ctx, x) {
    ctx.state = null;
    return ops.scale(ops.mul(x, x), 2);
  },
  backward(_ctx, g) {
    return [g];
  },
});

test("forward and backward of each op are reported with exclusive times; null turns it off", () => {
  let clock = 0;
  const seen: [string, string, number][] = [];
  // Each clock read advances 1 ms: an op that reads it twice with no op inside reports 1 ms.
  const prev = setOpProfiler({ now: () => clock++, record: (op, phase, ms) => seen.push([op, phase, ms]) });
  try {
    tidy(() => {
      const x = tensor([1, 2, 3], [3], { requiresGrad: true });
      const y = ops.sum(ops.mul(x, x));
      backward(y);
      doubledSquare(x);
    });
  } finally {
    setOpProfiler(prev);
  }
  const names = seen.map(([op, phase]) => `${op} ${phase}`);
  expect(names.slice(0, 2)).toEqual(["mul forward", "sum forward"]);
  expect(names).toContain("sum backward");
  expect(names).toContain("mul backward");
  // doubledSquare's inner mul and scale are reported, and its own time excludes theirs.
  expect(names.slice(-3)).toEqual(["mul forward", "scale forward", "doubledSquare forward"]);
  for (const [, , ms] of seen.slice(-3, -1)) expect(ms).toBe(1);
  // Outer: reads at 0 and 5 (the inner ops read 1-2 and 3-4): 5 ms total minus the inner ops' 2 ms.
  expect(seen.at(-1)![2]).toBe(3);
  const before = seen.length;
  tidy(() => void ops.mul(tensor([1], [1]), tensor([2], [1])));
  expect(seen.length).toBe(before);
});
