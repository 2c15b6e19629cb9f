// Attack suite, sizes (issue 15 item 1): shapes, element counts and byte counts are checked where a
// tensor is born and again at the native boundary, and C checks what it sizes itself. The cases that
// segfaulted Bun before (a byte count wrapped to a 64-byte block, then read by sum/add/embedding) run in
// a child process so a regression fails this test instead of killing the runner; the rest run here,
// each expecting an error that names the op or tensor and the size at fault.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CachingAllocator,
  checkedMul,
  checkedNumel,
  cpuBackend,
  empty,
  MemoryLimitError,
  ops,
  parseSafetensorsHeader,
  type RawMemory,
  ShapeError,
  Storage,
  Tensor,
  tensor,
  tidy,
} from "../../lft.ts";

/** Runs fn, which must throw an Error whose message starts with `prefix` and matches `expected`. */
function expectRefused(fn: () => unknown, prefix: string, expected: RegExp): Error {
  let caught: unknown = null;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  if (caught === null) throw new Error(`expected "${prefix}: ..." matching ${expected}, nothing was thrown`);
  expect(caught).toBeInstanceOf(Error);
  const msg = (caught as Error).message;
  if (!msg.startsWith(prefix) || !expected.test(msg)) throw new Error(`expected "${prefix}..." matching ${expected}, got: ${msg}`);
  return caught as Error;
}

const i32 = (values: number[]) => tensor(values, [values.length], { dtype: "i32" });

describe("the repro of issue 15 item 1, in a child process", () => {
  test("every case that used to wrap a byte count or overrun a block is refused, and the process survives", () => {
    const child = join(import.meta.dir, "fixtures", "sizes-child.ts");
    const run = Bun.spawnSync([process.execPath, child], { cwd: join(import.meta.dir, "..", ".."), stdout: "pipe", stderr: "pipe", timeout: 20_000 });
    const lines = run.stdout.toString().trim().split("\n");
    expect({ exit: run.exitCode, signal: run.signalCode ?? null, last: lines.at(-1) }).toEqual({ exit: 0, signal: null, last: "done" });
    const outcomes = lines.slice(0, -1).map((l) => JSON.parse(l) as { case: string; refused: boolean; message: string });
    expect(outcomes.length).toBe(17);
    for (const o of outcomes) expect({ case: o.case, refused: o.refused }).toEqual({ case: o.case, refused: true });
    // The TypeScript refusals name the shape; none is a stack trace.
    expect(outcomes[0]!.message).toContain("[2147483648, 2147483648]");
    expect(outcomes[0]!.message).toContain("2^53 - 1");
    for (const o of outcomes) expect(o.message).not.toMatch(/\n\s+at /);
  });
});

describe("the issue's recipe: LoRA ranks no machine can hold, through a real lft process", () => {
  /** Runs `lft recipe.lft` on stories260K with a LoRA of `rank` and a chat; returns exit code, signal and output. */
  function runRank(rank: string) {
    const repo = join(import.meta.dir, "..", "..");
    const work = mkdtempSync(join(tmpdir(), "lft-sizes-"));
    try {
      writeFileSync(
        join(work, "rank.lft"),
        `model llama "${repo}/examples/models/stories260K" { template = default }
method lora { rank = ${rank}, targets = [all] }
chat "hello" { max_new_tokens = 4 }
`,
      );
      const run = Bun.spawnSync([process.execPath, join(repo, "dsl", "cli.ts"), "rank.lft"], {
        cwd: work,
        stdout: "pipe",
        stderr: "pipe",
        env: { ...process.env, CI: "true", NO_COLOR: "1" },
        timeout: 20_000,
      });
      return { exit: run.exitCode, signal: run.signalCode ?? null, stdout: run.stdout.toString(), stderr: run.stderr.toString() };
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  // Exit 1 when the recipe's option bounds refuse the rank at check; 6 when the run refuses the tensor.
  test("rank 2^62 (bytes past 2^64) is refused with the size named, never run over 64-byte blocks", () => {
    const r = runRank("4611686018427387904");
    expect({ signal: r.signal, refused: [1, 6].includes(r.exit ?? -1) }).toEqual({ signal: null, refused: true });
    expect(r.stderr).toMatch(/4611686018427387904|4611686018427388000/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).not.toContain("> hello");
  });

  test("rank 2^40 (256 TiB of adapter) fails naming the tensor and the machine's memory, not as an lft bug", () => {
    const r = runRank("1099511627776");
    expect({ signal: r.signal, refused: [1, 6].includes(r.exit ?? -1) }).toEqual({ signal: null, refused: true });
    expect(r.stderr).toContain("1099511627776");
    expect(r.stderr).not.toContain("unexpectedly");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("dims that are not sizes", () => {
  test("negative, fractional, NaN, infinite, unsafe and non-number dims are refused with the dim named", () => {
    tidy(() => {
      expectRefused(() => empty([2, -1]), "tensor:", /dimension 1 is -1/);
      expectRefused(() => empty([1.5]), "tensor:", /dimension 0 is 1.5/);
      expectRefused(() => empty([Number.NaN, 2]), "tensor:", /dimension 0 is NaN/);
      expectRefused(() => empty([3, Number.POSITIVE_INFINITY]), "tensor:", /dimension 1 is Infinity/);
      expectRefused(() => empty([2 ** 53]), "tensor:", /dimension 0 is 9007199254740992; dimensions must be integers from 0 to 2\^53 - 1/);
      expectRefused(() => empty(["4" as unknown as number]), "tensor:", /dimension 0 is string 4/);
      expectRefused(() => empty([4n as unknown as number]), "tensor:", /dimension 0 is bigint 4/);
      expectRefused(() => empty(7 as unknown as number[]), "tensor:", /a shape must be an array/);
      expectRefused(() => tensor([1, 2], [Number.NaN]), "tensor:", /dimension 0 is NaN/);
    });
  });
});

describe("counts that pass 2^53 or 2^64", () => {
  test("element counts past 2^53 - 1 are refused before any multiply can round", () => {
    tidy(() => {
      expectRefused(() => empty([2 ** 27, 2 ** 27]), "tensor:", /\[134217728, 134217728\] multiply to more than 2\^53 - 1/);
      expectRefused(() => empty([2 ** 26, 2 ** 26, 2]), "tensor:", /multiply to more than 2\^53 - 1/);
      expectRefused(() => empty([2 ** 32, 2 ** 32, 2 ** 32]), "tensor:", /\[4294967296, 4294967296, 4294967296\]/);
      expectRefused(() => empty([2 ** 31, 2 ** 31], { dtype: "bf16" }), "tensor:", /2\^53 - 1/);
    });
  });

  test("the bound is exact at 2^53 - 1, where a bound by division or a rounded product would be off by one", () => {
    expect(checkedNumel([2 ** 53 - 1], "t")).toBe(2 ** 53 - 1);
    expect(checkedNumel([7, 1286742750677284], "t")).toBe(9007199254740988);
    // 3 × 3002399751580331 = 2^53 + 1, which rounds to 2^53 as a float product.
    expectRefused(() => checkedNumel([3, 3002399751580331], "t"), "t:", /multiply to more than 2\^53 - 1/);
    expectRefused(() => checkedNumel([2 ** 26, 2 ** 26, 2], "t"), "t:", /multiply to more than 2\^53 - 1/);
    expect(checkedMul(2 ** 26, 2 ** 26, "m")).toBe(2 ** 52);
    expectRefused(() => checkedMul(2 ** 27, 2 ** 26, "m"), "m:", /134217728 × 67108864 is more than 2\^53 - 1/);
    expectRefused(() => checkedMul(-1, 4, "m"), "m:", /more than 2\^53 - 1/);
  });

  test("a zero-element shape whose other dims multiply past 2^53 is refused (kernels take row counts from them)", () => {
    expectRefused(() => empty([0, 2 ** 30, 2 ** 30]), "tensor:", /\[0, 1073741824, 1073741824\] multiply to more than 2\^53 - 1/);
    tidy(() => expect(empty([0, 2 ** 20, 2 ** 20]).numel).toBe(0));
  });

  test("a safetensors header shape that only a zero dim keeps from passing 2^53 is refused, naming the tensor", () => {
    const header = (shape: number[]) => new TextEncoder().encode(JSON.stringify({ w: { dtype: "F32", shape, data_offsets: [0, 0] } }));
    const bad = parseSafetensorsHeader("m.safetensors", header([0, 2 ** 40, 2 ** 40]), 0);
    expect(bad.isErr() && bad.error.message).toMatch(/tensor "w".*shape \[0, 1099511627776, 1099511627776\] has more elements than can be addressed/);
    expect(parseSafetensorsHeader("m.safetensors", header([0, 2 ** 20, 2 ** 20]), 0).isOk()).toBe(true);
  });

  test("byte counts past 2^53 - 1 are refused even when the element count fits", () => {
    expectRefused(() => empty([2 ** 51]), "tensor:", /\[2251799813685248\] needs 2251799813685248 × 4 bytes, more than 2\^53 - 1/);
    expectRefused(() => empty([2 ** 52], { dtype: "f16" }), "tensor:", /× 2 bytes, more than 2\^53 - 1/);
  });
});

describe("the memory budget", () => {
  test("a tensor larger than this machine's RAM fails naming its shape and bytes, before the OS is asked", () => {
    const e = expectRefused(() => empty([2 ** 40]), "cpu:", /tensor \[1099511627776\] f32 needs 4398046511104 bytes \(4\.00 TiB\)/);
    expect(e).toBeInstanceOf(MemoryLimitError);
    expect(e.message).toMatch(/this device holds \d+ bytes/);
    expect(cpuBackend.allocator.limitBytes).toBeGreaterThan(0);
    expect(cpuBackend.allocator.limitBytes).toBeLessThan(Number.POSITIVE_INFINITY);
  });

  test("the budget counts live memory; invalid byte counts never reach the raw allocator", () => {
    const asked: number[] = [];
    let next = 4096;
    const raw: RawMemory = {
      alloc: (bytes) => {
        asked.push(bytes);
        next += bytes;
        return next;
      },
      free: () => {},
    };
    const a = new CachingAllocator("fake", raw, { limitBytes: 10_000 });
    const first = a.alloc(6000, "tensor [1500] f32");
    expectRefused(
      () => a.alloc(6000, "tensor [1500] f32"),
      "fake:",
      /tensor \[1500\] f32 needs 6000 bytes \(5\.86 KiB\), but 6144 bytes \(6\.00 KiB\) is in use and this device holds 10000 bytes/,
    );
    a.release(first);
    a.alloc(6000);
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 64]) {
      expectRefused(() => a.alloc(bad), "fake:", /not a byte count from 0 to 2\^53 - 1/);
    }
    expect(asked).toEqual([6144]);
  });
});

describe("views and reshapes to inconsistent sizes", () => {
  test("reshape refuses negative, fractional and overflowing dims, and sizes that do not match", () => {
    tidy(() => {
      const x = tensor([1, 2, 3, 4]);
      expectRefused(() => ops.reshape(x, [-2, -2]), "reshape:", /dimension 0 is -2/);
      expectRefused(() => ops.reshape(x, [2, 2.5]), "reshape:", /dimension 1 is 2.5/);
      expectRefused(() => ops.reshape(x, [2 ** 27, 2 ** 27, -1]), "reshape to [134217728, 134217728, -1]:", /multiply to more than 2\^53 - 1/);
      expectRefused(() => ops.reshape(x, [3, -1]), "reshape:", /cannot infer -1 in \[3, -1\] for 4 elements/);
      expectRefused(() => ops.reshape(empty([0]), [2 ** 60, 0]), "reshape:", /dimension 0 is 1152921504606847000/);
    });
  });

  test("view refuses offsets that are negative, misaligned or past the storage, and shapes larger than it", () => {
    tidy(() => {
      const x = tensor([1, 2, 3, 4]);
      expectRefused(() => x.view([2], -4), "view:", /byte offset -4 must be a non-negative multiple of 4/);
      expectRefused(() => x.view([2], 2), "view:", /byte offset 2/);
      expectRefused(() => x.view([2], 1.5), "view:", /byte offset 1.5/);
      expectRefused(() => x.view([2], 12), "view:", /\[2\] at byte 12 overruns storage of 16 bytes/);
      expectRefused(() => x.view([5]), "view:", /overruns storage of 16 bytes/);
      expectRefused(() => x.view([2 ** 31, 2 ** 31]), "view:", /multiply to more than 2\^53 - 1/);
    });
  });

  test("a tensor cannot claim more bytes than its storage, nor a storage more than its block", () => {
    const block = cpuBackend.allocator.alloc(64);
    try {
      const storage = new Storage(cpuBackend, block, 64);
      expectRefused(() => new Tensor([17], "f32", storage, 0, false), "tensor:", /\[17\] f32 at byte 0 overruns its storage of 64 bytes/);
      expectRefused(() => new Tensor([16], "f32", storage, 4, false), "tensor:", /at byte 4 overruns/);
      expectRefused(() => new Storage(cpuBackend, block, 4096), "storage:", /4096 bytes do not fit its block \(512 bytes\)/);
      expectRefused(() => new Storage(cpuBackend, null, 4), "storage:", /4 bytes do not fit its block \(none\)/);
    } finally {
      cpuBackend.allocator.release(block);
    }
  });
});

describe("kernel calls with out-of-range indices and counts", () => {
  test("embedding ids at or past the vocabulary, or negative, name the position and the range", () => {
    tidy(() => {
      const w = tensor(new Array(12).fill(0.5), [4, 3]);
      expectRefused(() => ops.embedding(w, i32([0, 4])), "embedding:", /ids\[1\] = 4 is out of range \[0, 4\)/);
      expectRefused(() => ops.embedding(w, i32([-1, 0])), "embedding:", /ids\[0\] = -1 is out of range \[0, 4\)/);
      expectRefused(() => ops.embedding(w, i32([2 ** 31 - 1])), "embedding:", /ids\[0\] = 2147483647 is out of range/);
    });
  });

  test("cross-entropy targets past the vocabulary and an ignore index that is not 32-bit are refused", () => {
    tidy(() => {
      const logits = tensor(new Array(10).fill(0), [2, 5]);
      expectRefused(() => ops.crossEntropy(logits, i32([0, 5])), "crossEntropy:", /targets\[1\] = 5 is out of range \[0, 5\)/);
      const loss = empty([2]);
      const lse = empty([2]);
      expectRefused(
        () => cpuBackend.crossEntropyForward(loss, lse, logits, i32([0, 1]), 2 ** 40),
        "crossEntropy:",
        /ignore index must be a 32-bit integer, got 1099511627776/,
      );
    });
  });

  test("an i32 fill value that C would truncate, and counts past 2^53 for row copies and windows, are refused", () => {
    tidy(() => {
      const ids = empty([4], { dtype: "i32" });
      expectRefused(() => cpuBackend.fill(ids, 2 ** 40), "fill:", /value must be a 32-bit integer, got 1099511627776/);
      expectRefused(() => cpuBackend.fill(ids, 0.5), "fill:", /32-bit integer/);
      const src = tensor(new Array(8).fill(1));
      const dst = empty([8]);
      expectRefused(() => cpuBackend.copyRows(dst, 0, 2 ** 60, src, 0, 4, 2, 4), "copyRows:", /overrun/);
      expectRefused(() => cpuBackend.copyRows(dst, 1e300, 4, src, 0, 4, 1, 4), "copyRows:", /overrun/);
      const q = tensor(new Array(8).fill(0.1), [1, 2, 1, 4]);
      const out = empty([1, 2, 1, 4]);
      const lse = empty([1, 1, 2]);
      expectRefused(
        () => cpuBackend.attentionForward(out, lse, q, q, q, null, { scale: 1, window: 2 ** 60, softcap: 0 }),
        "attention:",
        /window must be a non-negative integer, got 1152921504606847000/,
      );
    });
  });

  test("quantised weights whose rows × cols pass 2^53 are refused before any byte count is formed", () => {
    tidy(() => {
      const q = empty([4], { dtype: "i32" });
      const rowScale = empty([2]);
      const out = empty([2, 2]);
      expectRefused(
        () => cpuBackend.int8Dequantize?.(out, { rows: 2 ** 30, cols: 2 ** 30, q, rowScale }),
        "int8Dequantize:",
        /weight \[1073741824, 1073741824\]: 1073741824 × 1073741824 is more than 2\^53 - 1/,
      );
    });
  });

  test("shape errors are ShapeErrors, not crashes or generic errors", () => {
    expect(expectRefused(() => empty([-1]), "tensor:", /dimension 0 is -1/)).toBeInstanceOf(ShapeError);
  });
});
