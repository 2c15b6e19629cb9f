// The kernel argument packer (ffi/cuda/args.ts), without a GPU: natural-alignment offsets, the bytes of
// every value type, the kernelParams pointers (absolute addresses of each value) and the errors for
// values that do not fit their declared type.
import { ptr } from "bun:ffi";
import { describe, expect, test } from "bun:test";
import { encodeArgs, KernelArgError, layoutArgs } from "../../ffi/cuda/args.ts";
import { KERNELS, PERMUTE_DIMS } from "../../ffi/cuda/kernels.ts";

const MIXED = ["i32", "ptr", "f32", "i64", { struct: 128, align: 8 }, "u64", "f64", "u32"] as const;

describe("layoutArgs", () => {
  test("each value at its natural alignment, as nvcc lays out kernel parameters", () => {
    const l = layoutArgs(MIXED);
    // i32 @0, ptr pads to 8, f32 @16, i64 pads to 24, struct @32 (128 bytes), u64 @160, f64 @168, u32 @176
    expect(l.offsets).toEqual([0, 8, 16, 24, 32, 160, 168, 176]);
    expect(l.sizes).toEqual([4, 8, 4, 8, 128, 8, 8, 4]);
    expect(l.valueBytes).toBe(184); // 180 rounded up to 8 so the pointer array is aligned
    expect(l.totalBytes).toBe(184 + 8 * 8);
  });

  test("a run of 4-byte values packs densely; an 8-byte value after an odd count is padded", () => {
    expect(layoutArgs(["f32", "f32", "f32"]).offsets).toEqual([0, 4, 8]);
    expect(layoutArgs(["f32", "f32", "f32", "i64"]).offsets).toEqual([0, 4, 8, 16]);
    expect(layoutArgs([]).totalBytes).toBe(0);
  });

  test("the permute kernel's signature: the 128-byte dims struct after an i32 is padded to 8", () => {
    expect(layoutArgs(KERNELS.get("lft_permute_4b")!).offsets).toEqual([0, 8, 16, 24, 152]);
    expect(PERMUTE_DIMS.struct).toBe(128);
  });

  test("an alignment that is not a power of two up to 16 is refused", () => {
    expect(() => layoutArgs([{ struct: 12, align: 3 }])).toThrow(RangeError);
  });
});

describe("encodeArgs", () => {
  const structBytes = Uint8Array.from({ length: 128 }, (_, i) => (i * 7) & 0xff);
  const values = [-5, 0x7f12_3456_7890, 1.1, -(2n ** 40n) - 3n, structBytes, 2n ** 64n - 1n, Math.PI, 0xffff_ffff] as const;

  test("writes every value's bytes little-endian at its offset", () => {
    const l = layoutArgs(MIXED);
    const buf = new Uint8Array(l.totalBytes).fill(0xee);
    const at = encodeArgs("k", MIXED, values, buf, 0x1000n);
    expect(at).toBe(l.valueBytes);
    const dv = new DataView(buf.buffer);
    expect(dv.getInt32(0, true)).toBe(-5);
    expect(dv.getBigUint64(8, true)).toBe(0x7f12_3456_7890n);
    expect(dv.getFloat32(16, true)).toBe(Math.fround(1.1));
    expect(dv.getBigInt64(24, true)).toBe(-(2n ** 40n) - 3n);
    expect([...buf.subarray(32, 160)]).toEqual([...structBytes]);
    expect(dv.getBigUint64(160, true)).toBe(2n ** 64n - 1n);
    expect(dv.getFloat64(168, true)).toBe(Math.PI);
    expect(dv.getUint32(176, true)).toBe(0xffff_ffff);
    // padding is left as it was: the driver reads only each value's own bytes
    expect(buf[4]).toBe(0xee);
  });

  test("kernelParams entry i is the address of value i: base + offset", () => {
    const l = layoutArgs(MIXED);
    const buf = new Uint8Array(l.totalBytes);
    const at = encodeArgs("k", MIXED, values, buf, 0xdead_0000n);
    const dv = new DataView(buf.buffer);
    for (let i = 0; i < MIXED.length; i++) expect(dv.getBigUint64(at + 8 * i, true)).toBe(0xdead_0000n + BigInt(l.offsets[i]!));
  });

  test("with the buffer's real address (as the launcher passes it), every pointer lands on its value", () => {
    const types = ["f32", "i64", "i32"] as const;
    const buf = new Uint8Array(layoutArgs(types).totalBytes);
    const base = BigInt(ptr(buf));
    const at = encodeArgs("k", types, [2.5, 123456789012n, 7], buf, base);
    const dv = new DataView(buf.buffer);
    const addr = (i: number) => Number(dv.getBigUint64(at + 8 * i, true) - base);
    expect(dv.getFloat32(addr(0), true)).toBe(2.5);
    expect(dv.getBigInt64(addr(1), true)).toBe(123456789012n);
    expect(dv.getInt32(addr(2), true)).toBe(7);
  });

  test("values that do not fit their type are refused, naming the kernel and the argument", () => {
    const buf = new Uint8Array(256);
    const bad: [readonly ("i32" | "u32" | "i64" | "u64" | "ptr" | "f32")[], unknown[], RegExp][] = [
      [["i32"], [2 ** 31], /argument 0 = 2147483648 is not a valid i32/],
      [["i32"], [1.5], /not a valid i32/],
      [["u32"], [-1], /not a valid u32/],
      [["i64"], [2 ** 53], /safe integer or a bigint/],
      [["i64"], [1n << 63n], /out of range for i64/],
      [["u64"], [-1n], /out of range for u64/],
      [["ptr"], [-8], /out of range for u64/],
      [["f32"], [1n], /must be a number/],
    ];
    for (const [types, vals, msg] of bad) {
      expect(() => encodeArgs("lft_x", types, vals as never, buf, 0n)).toThrow(msg);
      expect(() => encodeArgs("lft_x", types, vals as never, buf, 0n)).toThrow(KernelArgError);
    }
    expect(() => encodeArgs("lft_y", ["ptr", "i64"], [0], buf, 0n)).toThrow("lft_y: expected 2 arguments (ptr, i64), got 1");
    expect(() => encodeArgs("lft_z", [PERMUTE_DIMS], [new Uint8Array(64)], buf, 0n)).toThrow("128-byte Uint8Array");
    expect(() => encodeArgs("lft_z", ["i64", "i64"], [1, 2], new Uint8Array(16), 0n)).toThrow("smaller than the 32 needed");
  });
});
