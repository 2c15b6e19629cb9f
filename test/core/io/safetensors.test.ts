// safetensors read/write: a file written by the Python `safetensors` library (test/fixtures/io) is read
// value by value and rewritten byte for byte; the reference implementation's own test vectors; lft
// tensors of every dtype round-trip; conversions on load; atomic, copy-on-write behaviour.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSafetensors, type SafetensorsEntry, tensor, writeSafetensors } from "../../../core/index.ts";

const REFERENCE = join(import.meta.dir, "../../fixtures/io/reference.safetensors");
const dir = mkdtempSync(join(tmpdir(), "lft-io-st-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const f32 = (xs: number[]) => Array.from(Float32Array.from(xs));
const le32 = (xs: number[]) => new Uint8Array(Float32Array.from(xs).buffer);

/** Every tensor of an open file as raw entries, in name order. */
function rawEntries(path: string): SafetensorsEntry[] {
  const f = openSafetensors(path)._unsafeUnwrap();
  return f.names().map((name) => {
    const i = f.info(name)._unsafeUnwrap();
    return { name, dtype: i.dtype, shape: i.shape, data: f.bytes(name)._unsafeUnwrap() };
  });
}

describe("reading a file the Python library wrote", () => {
  const file = openSafetensors(REFERENCE)._unsafeUnwrap();

  test("names, metadata and tensor infos", () => {
    expect(file.names()).toEqual(["empty", "ids", "model.embed.weight", "model.layer.0.weight", "model.norm.weight", "quant.packed", "scalar", "step"]);
    expect(file.metadata).toEqual({ format: "pt", note: 'café "quoted"' });
    expect(file.info("model.embed.weight")._unsafeUnwrap()).toEqual({ dtype: "F32", shape: [2, 3], byteLength: 24 });
    expect(file.info("model.layer.0.weight")._unsafeUnwrap()).toEqual({ dtype: "BF16", shape: [2, 2], byteLength: 8 });
    expect(file.info("scalar")._unsafeUnwrap()).toEqual({ dtype: "F32", shape: [], byteLength: 4 });
    expect(file.info("empty")._unsafeUnwrap()).toEqual({ dtype: "F32", shape: [0, 3], byteLength: 0 });
    expect(file.dataBytes).toBe(73);
  });

  test("tensor values of each dtype", () => {
    const embed = file.tensor("model.embed.weight")._unsafeUnwrap();
    expect(embed.dtype).toBe("f32");
    expect(embed.shape).toEqual([2, 3]);
    expect(embed.name).toBe("model.embed.weight");
    expect(Array.from(embed.toArray())).toEqual(f32([0.5, -1.25, 3, 1e-3, -0, 65504]));
    const norm = file.tensor("model.norm.weight")._unsafeUnwrap();
    expect(norm.dtype).toBe("f16");
    expect(Array.from(norm.toArray())).toEqual([1, -2.5, 0.125, 7]);
    const bf = file.tensor("model.layer.0.weight")._unsafeUnwrap();
    expect(bf.dtype).toBe("bf16");
    expect(Array.from(bf.toHost())).toEqual([0x3f80, 0xc000, 0x3f00, 0x4049]);
    expect(Array.from(bf.toArray())).toEqual([1, -2, 0.5, 3.140625]);
    const ids = file.tensor("ids")._unsafeUnwrap();
    expect(ids.dtype).toBe("i32");
    expect(Array.from(ids.toArray())).toEqual([1, -2, 2147483647, -2147483648]);
    const scalar = file.tensor("scalar")._unsafeUnwrap();
    expect(scalar.shape).toEqual([]);
    expect(scalar.item()).toBe(2.5);
    const empty = file.tensor("empty")._unsafeUnwrap();
    expect(empty.shape).toEqual([0, 3]);
    expect(empty.numel).toBe(0);
    for (const t of [embed, norm, bf, ids, scalar, empty]) t.dispose();
  });

  test("U8 and I64 are raw bytes only; tensor() names the dtype, tensor and file", () => {
    expect(Array.from(file.bytes("quant.packed")._unsafeUnwrap())).toEqual([0, 1, 127, 128, 255]);
    const step = file.bytes("step")._unsafeUnwrap();
    expect(new DataView(step.buffer, step.byteOffset, 8).getBigInt64(0, true)).toBe(12345678901n);
    for (const name of ["quant.packed", "step"]) {
      const e = file.tensor(name)._unsafeUnwrapErr();
      expect(e.message).toContain(REFERENCE);
      expect(e.message).toContain(`tensor "${name}"`);
      expect(e.message).toContain(`unsupported dtype ${name === "step" ? "I64" : "U8"}`);
    }
  });

  test("an unknown name is an error with a suggestion", () => {
    const e = file.tensor("model.embed.weigth")._unsafeUnwrapErr();
    expect(e.message).toBe(`${REFERENCE}: tensor "model.embed.weigth": not in this file; did you mean "model.embed.weight" or "model.norm.weight"?`);
  });

  test("rewriting it gives the Python library's bytes exactly", () => {
    const out = join(dir, "rewrite.safetensors");
    const size = writeSafetensors(out, rawEntries(REFERENCE), file.metadata)._unsafeUnwrap();
    const want = readFileSync(REFERENCE);
    expect(size).toBe(want.length);
    expect(Buffer.compare(readFileSync(out), want)).toBe(0);
  });
});

describe("the reference implementation's test vectors", () => {
  test("one F32 tensor (header padded to 8 bytes)", () => {
    const out = join(dir, "vector1.safetensors");
    writeSafetensors(out, [{ name: "attn.0", dtype: "F32", shape: [1, 2, 3], data: le32([0, 1, 2, 3, 4, 5]) }])._unsafeUnwrap();
    // prettier-ignore
    expect(Array.from(readFileSync(out))).toEqual([
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97,
      112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125,
      0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ]);
  });

  test("no tensors, with and without metadata", () => {
    const a = join(dir, "vector2.safetensors");
    writeSafetensors(a, [])._unsafeUnwrap();
    expect(Array.from(readFileSync(a))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    writeSafetensors(a, [], { framework: "pt" })._unsafeUnwrap();
    const header = '{"__metadata__":{"framework":"pt"}}     ';
    expect(Array.from(readFileSync(a))).toEqual([40, 0, 0, 0, 0, 0, 0, 0, ...Buffer.from(header)]);
    const back = openSafetensors(a)._unsafeUnwrap();
    expect(back.names()).toEqual([]);
    expect(back.metadata).toEqual({ framework: "pt" });
  });
});

describe("lft tensors round-trip", () => {
  test("f32, bf16, f16, i32 tensors, a raw U8 entry, a scalar and an empty tensor", () => {
    const ts = {
      "w.f32": tensor([1.5, -2, 3.25, 1e-7, -1e7, 0], [2, 3]),
      "w.bf16": tensor([1, -2, 0.5, 3.140625], [4], { dtype: "bf16" }),
      "w.f16": tensor([0.1, -65504, 6e-8], [3], { dtype: "f16" }),
      ids: tensor([7, -1, 2147483647], [3], { dtype: "i32" }),
      s: tensor([42], []),
      nothing: tensor([], [2, 0]),
    };
    const entries: SafetensorsEntry[] = Object.entries(ts).map(([name, data]) => ({ name, data }));
    entries.push({ name: "packed", dtype: "U8", shape: [2, 2], data: new Uint8Array([1, 2, 254, 255]) });
    const a = join(dir, "tensors-a.safetensors");
    writeSafetensors(a, entries, { step: "3" })._unsafeUnwrap();

    const f = openSafetensors(a)._unsafeUnwrap();
    expect(f.names()).toEqual(["ids", "nothing", "packed", "s", "w.bf16", "w.f16", "w.f32"]);
    expect(f.metadata).toEqual({ step: "3" });
    const back = Object.fromEntries(Object.keys(ts).map((n) => [n, f.tensor(n)._unsafeUnwrap()]));
    for (const [name, t] of Object.entries(ts)) {
      expect(back[name]!.dtype).toBe(t.dtype);
      expect(back[name]!.shape).toEqual(t.shape);
      expect(Array.from(back[name]!.toHost())).toEqual(Array.from(t.toHost()));
    }
    expect(Array.from(back["w.f16"]!.toArray())).toEqual([Math.f16round(0.1), -65504, Math.f16round(6e-8)]);

    // write -> read -> write: the same bytes.
    const b = join(dir, "tensors-b.safetensors");
    const again: SafetensorsEntry[] = Object.entries(back).map(([name, data]) => ({ name, data }));
    again.push({ name: "packed", dtype: "U8", shape: [2, 2], data: f.bytes("packed")._unsafeUnwrap() });
    writeSafetensors(b, again, f.metadata)._unsafeUnwrap();
    expect(Buffer.compare(readFileSync(a), readFileSync(b))).toBe(0);
    f.close();
  });

  test("tensors are stored widest dtype first, then by UTF-8 name, each aligned to its size", () => {
    const p = join(dir, "order.safetensors");
    const u8 = (n: number) => new Uint8Array(n);
    writeSafetensors(p, [
      { name: "b", dtype: "U8", shape: [3], data: u8(3) },
      { name: "é", dtype: "F32", shape: [1], data: u8(4) },
      { name: "z", dtype: "F32", shape: [1], data: u8(4) },
      { name: "a", dtype: "BF16", shape: [1], data: u8(2) },
      { name: "10", dtype: "I64", shape: [1], data: u8(8) },
      { name: "9", dtype: "I64", shape: [1], data: u8(8) },
    ])._unsafeUnwrap();
    const bytes = readFileSync(p);
    const n = Number(bytes.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const header = bytes
      .subarray(8, 8 + n)
      .toString("utf8")
      .trimEnd();
    const order = [...header.matchAll(/"([^"]+)":\{"dtype":"(\w+)","shape":\[\d*\],"data_offsets":\[(\d+),(\d+)\]/g)].map((m) => `${m[1]}:${m[2]}@${m[3]}`);
    expect(order).toEqual(["10:I64@0", "9:I64@8", "z:F32@16", "é:F32@20", "a:BF16@24", "b:U8@26"]);
  });

  test("conversion on load: bf16 -> f32 exact, f32 -> bf16 rounds to nearest even, f16 -> bf16 through f32", () => {
    const p = join(dir, "convert.safetensors");
    writeSafetensors(p, [
      { name: "x", data: tensor([1 + 2 ** -8, 1 + 3 * 2 ** -8, -3.5], [3]) },
      { name: "h", data: tensor([65504, -0.5], [2], { dtype: "f16" }) },
      { name: "b", data: tensor([3.140625, -0.25], [2], { dtype: "bf16" }) },
      { name: "i", data: tensor([1, 2], [2], { dtype: "i32" }) },
    ])._unsafeUnwrap();
    const f = openSafetensors(p)._unsafeUnwrap();
    const xb = f.tensor("x", { dtype: "bf16" })._unsafeUnwrap();
    expect(xb.dtype).toBe("bf16");
    expect(Array.from(xb.toArray())).toEqual([1, 1.015625, -3.5]);
    expect(Array.from(f.tensor("b", { dtype: "f32" })._unsafeUnwrap().toArray())).toEqual([3.140625, -0.25]);
    const hb = f.tensor("h", { dtype: "bf16" })._unsafeUnwrap();
    expect(Array.from(hb.toArray())).toEqual([65536, -0.5]);
    const e = f.tensor("i", { dtype: "f32" })._unsafeUnwrapErr();
    expect(e.message).toBe(`${p}: tensor "i": is stored as I32; integer tensors cannot be loaded as f32`);
  });

  test("a tensor at an unaligned offset (as unpadded writers make) still loads exactly", () => {
    const header = '{"u":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"v":{"dtype":"F32","shape":[2],"data_offsets":[3,11]}}';
    const h = Buffer.from(header);
    const file = Buffer.concat([Buffer.from(new BigUint64Array([BigInt(h.length)]).buffer), h, Buffer.from([9, 8, 7]), le32([1.25, -7])]);
    const p = join(dir, "unaligned.safetensors");
    writeFileSync(p, file);
    const f = openSafetensors(p)._unsafeUnwrap();
    expect(Array.from(f.tensor("v")._unsafeUnwrap().toArray())).toEqual([1.25, -7]);
    expect(Array.from(f.bytes("u")._unsafeUnwrap())).toEqual([9, 8, 7]);
  });
});

describe("safety", () => {
  test("bytes() views are copy-on-write: writing into one never reaches the file", () => {
    const p = join(dir, "cow.safetensors");
    writeSafetensors(p, [{ name: "a", dtype: "U8", shape: [4], data: new Uint8Array([1, 2, 3, 4]) }])._unsafeUnwrap();
    const before = readFileSync(p);
    const f = openSafetensors(p)._unsafeUnwrap();
    const view = f.bytes("a")._unsafeUnwrap();
    view[0] = 99;
    expect(Buffer.compare(readFileSync(p), before)).toBe(0);
    expect(Array.from(f.bytes("a")._unsafeUnwrap())).toEqual([1, 2, 3, 4]);
  });

  test("a file replaced after opening: the open handle keeps reading the file it opened", () => {
    const p = join(dir, "replaced.safetensors");
    writeSafetensors(p, [{ name: "a", data: tensor([1, 2], [2]) }])._unsafeUnwrap();
    const f = openSafetensors(p)._unsafeUnwrap();
    writeSafetensors(p, [{ name: "a", data: tensor([5, 6, 7], [3]) }])._unsafeUnwrap();
    expect(Array.from(f.tensor("a")._unsafeUnwrap().toArray())).toEqual([1, 2]);
    expect(Array.from(openSafetensors(p)._unsafeUnwrap().tensor("a")._unsafeUnwrap().toArray())).toEqual([5, 6, 7]);
  });

  test("writes leave no temp file behind; a failed write leaves nothing at the path", () => {
    writeSafetensors(join(dir, "clean.safetensors"), [{ name: "a", data: tensor([1], [1]) }])._unsafeUnwrap();
    expect(readdirSync(dir).filter((n) => n.includes(".tmp-"))).toEqual([]);
    const missing = join(dir, "no-such-dir", "x.safetensors");
    const e = writeSafetensors(missing, [{ name: "a", data: tensor([1], [1]) }])._unsafeUnwrapErr();
    expect(e.message).toStartWith(`${missing}: cannot write:`);
  });

  test("invalid entries are refused with the file and tensor named", () => {
    const p = join(dir, "bad-entries.safetensors");
    const msg = (entries: SafetensorsEntry[], meta?: Record<string, string>) => writeSafetensors(p, entries, meta)._unsafeUnwrapErr().message;
    expect(msg([{ name: "a", dtype: "F32", shape: [3], data: new Uint8Array(8) }])).toBe(`${p}: tensor "a": data has 8 bytes, but F32 with shape [3] needs 12`);
    expect(
      msg([
        { name: "a", data: tensor([1], [1]) },
        { name: "a", data: tensor([2], [1]) },
      ]),
    ).toBe(`${p}: tensor "a": is listed twice; names must be unique`);
    expect(msg([{ name: "a", dtype: "F128" as "F32", shape: [1], data: new Uint8Array(16) }])).toBe(`${p}: tensor "a": unknown dtype "F128"`);
    expect(msg([{ name: "__metadata__", dtype: "U8", shape: [1], data: new Uint8Array(1) }])).toContain("reserved");
    expect(msg([{ name: "t", data: tensor([1, 2], [2]), shape: [3] }])).toBe(`${p}: tensor "t": shape [3] does not hold the tensor's 2 elements (shape [2])`);
    expect(msg([{ name: "t", data: tensor([1, 2], [2]), dtype: "BF16" }])).toBe(
      `${p}: tensor "t": dtype BF16 was given, but the tensor holds f32 (stored as F32)`,
    );
    const gone = tensor([1], [1]);
    gone.dispose();
    expect(msg([{ name: "g", data: gone }])).toBe(`${p}: tensor "g": the tensor was disposed before it was written`);
    expect(msg([], { n: 3 as unknown as string })).toBe(`${p}: metadata value of "n" must be a string, got number`);
  });
});
