// Every way a safetensors file can be malformed gives an Err (never a crash) whose message names the file
// and, where one is at fault, the tensor: truncation, a wrong header length, a header that is not UTF-8
// JSON, missing or ill-typed fields, offsets that do not tile the data buffer, duplicate names.
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSafetensors, tensor, writeSafetensors } from "../../../core/index.ts";

const REFERENCE = join(import.meta.dir, "../../fixtures/io/reference.safetensors");
const dir = mkdtempSync(join(tmpdir(), "lft-io-bad-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** Writes a file from a header (object or raw text) and a data buffer of `dataBytes` bytes. */
function file(header: unknown, dataBytes: number, headerLength?: number): string {
  const h = typeof header === "string" ? Buffer.from(header) : Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerLength ?? h.length));
  const path = join(dir, `bad-${n++}.safetensors`);
  writeFileSync(path, Buffer.concat([len, h, Buffer.alloc(dataBytes, 7)]));
  return path;
}

function openError(path: string): string {
  return openSafetensors(path)._unsafeUnwrapErr().message;
}

const t = (dtype: string, shape: number[], offsets: number[]) => ({ dtype, shape, data_offsets: offsets });

describe("the 8-byte length and the header", () => {
  test("a file shorter than 8 bytes", () => {
    for (const size of [0, 5]) {
      const p = join(dir, `short-${size}.safetensors`);
      writeFileSync(p, Buffer.alloc(size));
      expect(openError(p)).toBe(`${p}: the file is ${size} bytes, shorter than the 8-byte header length every safetensors file starts with`);
    }
  });

  test("a header length past the end of the file (flipped length bytes)", () => {
    const p = join(dir, "flipped.safetensors");
    const bytes = readFileSync(REFERENCE);
    bytes[6] = 0xff;
    writeFileSync(p, bytes);
    expect(openError(p)).toBe(
      `${p}: the first 8 bytes give a header length of ${(0xffn << 48n) + 576n} bytes, but only 649 bytes follow them (truncated, or not a safetensors file)`,
    );
  });

  test("a header length over the format's 100 MB limit (sparse file, nothing read)", () => {
    const p = join(dir, "huge-header.safetensors");
    const fd = openSync(p, "w");
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(100_000_001n);
    writeSync(fd, len);
    ftruncateSync(fd, 100_000_100);
    closeSync(fd);
    expect(openError(p)).toContain("exceeds the 100000000-byte limit");
  });

  test("a header that is not UTF-8, not JSON, or not an object", () => {
    const latin1 = join(dir, "latin1.safetensors");
    writeFileSync(latin1, Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from([0x7b, 0xe9, 0xff, 0x7d])]));
    expect(openError(latin1)).toBe(`${latin1}: the header is not valid UTF-8 (is this a safetensors file?)`);
    const p = file('{"a": {"dtype": "F32",, "shape": [1]}}', 0);
    expect(openError(p)).toBe(
      `${p}: the header is not valid JSON: expected a property name in double quotes, found "," at header byte 22 (is this a safetensors file?)`,
    );
    const arr = file("[1, 2]", 0);
    expect(openError(arr)).toBe(`${arr}: the header must be a JSON object, found an array`);
  });

  test("a real file cut short loses its last tensor", () => {
    const p = join(dir, "truncated.safetensors");
    writeFileSync(p, readFileSync(REFERENCE).subarray(0, -2));
    expect(openError(p)).toBe(
      `${p}: tensor "quant.packed": data_offsets [68, 73] reach past the end of the data buffer (71 bytes after the header; is the file truncated?)`,
    );
  });
});

describe("header entries", () => {
  const cases: [string, unknown, number, string][] = [
    ["missing field", { w: { dtype: "F32", data_offsets: [0, 4] } }, 4, `tensor "w": header entry has no "shape"`],
    ["not an object", { w: [1, 2] }, 0, `tensor "w": header entry must be an object with dtype, shape and data_offsets, found an array`],
    ["unknown dtype", { w: t("F128", [1], [0, 16]) }, 16, `tensor "w": unknown dtype the string "F128" (known: BOOL, F4,`],
    ["negative dim", { w: t("F32", [-1, 2], [0, 0]) }, 0, `tensor "w": shape must be a list of non-negative integers, found [-1,2]`],
    ["fractional dim", { w: t("F32", [1.5], [0, 6]) }, 6, `tensor "w": shape must be a list of non-negative integers, found [1.5]`],
    ["three offsets", { w: t("F32", [1], [0, 4, 8]) }, 8, `tensor "w": data_offsets must be [begin, end] with non-negative integers, found [0,4,8]`],
    ["end before begin", { w: t("U8", [0], [4, 0]) }, 4, `tensor "w": data_offsets [4, 0] end before they begin`],
    [
      "size disagrees with dtype x shape",
      { w: t("BF16", [2, 3], [0, 8]) },
      8,
      `tensor "w": data_offsets [0, 8] span 8 bytes, but BF16 with shape [2, 3] needs 12`,
    ],
    ["partial byte of F4", { w: t("F4", [3], [0, 2]) }, 2, `tensor "w": 3 elements of 4-bit F4 do not fill a whole number of bytes`],
    [
      "offsets out of range",
      { a: t("U8", [4], [0, 4]), w: t("F32", [2], [4, 12]) },
      10,
      `tensor "w": data_offsets [4, 12] reach past the end of the data buffer (10 bytes`,
    ],
    ["overlap", { a: t("F32", [2], [0, 8]), w: t("F32", [2], [4, 12]) }, 12, `tensor "w": data_offsets [4, 12] overlap tensor "a" at [0, 8]`],
    [
      "gap",
      { a: t("F32", [1], [0, 4]), w: t("F32", [1], [8, 12]) },
      12,
      `tensor "w": bytes [4, 8) after tensor "a" belong to no tensor (the format allows no gaps)`,
    ],
    ["gap at the start", { w: t("U8", [2], [2, 4]) }, 4, `tensor "w": bytes [0, 2) at the start of the data buffer belong to no tensor`],
    ["bad metadata", { __metadata__: { step: 3 } }, 0, `"__metadata__" value of "step" must be a string, found number 3`],
  ];
  for (const [what, header, data, message] of cases) {
    test(what, () => {
      const p = file(header, data);
      expect(openError(p)).toStartWith(`${p}: ${message}`);
    });
  }

  test("unsorted offsets are fine when they tile the buffer", () => {
    const p = file({ b: t("U8", [2], [2, 4]), a: t("U8", [2], [0, 2]), e: t("F32", [0], [4, 4]) }, 4);
    const f = openSafetensors(p)._unsafeUnwrap();
    expect(f.names()).toEqual(["a", "b", "e"]);
  });

  test("trailing bytes that no tensor covers", () => {
    const p = file({ a: t("U8", [2], [0, 2]) }, 5);
    expect(openError(p)).toBe(`${p}: the last 3 bytes of the data buffer belong to no tensor (tensors end at 2, the buffer holds 5)`);
  });

  test("a name listed twice (JSON.parse alone would keep only the last)", () => {
    const p = file(
      '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b\\"{":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}',
      2,
    );
    expect(openError(p)).toBe(`${p}: tensor "a": the header lists this tensor twice (names must be unique)`);
  });

  test('"__proto__" as a tensor name or metadata key is plain data', () => {
    const p = file('{"__metadata__":{"__proto__":"x"},"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', 1);
    const f = openSafetensors(p)._unsafeUnwrap();
    expect(Object.entries(f.metadata)).toEqual([["__proto__", "x"]]);
    expect(Array.from(f.bytes("__proto__")._unsafeUnwrap())).toEqual([7]);
  });

  test("a nested key with a tensor's name is not a duplicate", () => {
    const p = file('{"__metadata__":{"a":"x"},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', 1);
    expect(openSafetensors(p)._unsafeUnwrap().metadata).toEqual({ a: "x" });
  });
});

describe("after opening", () => {
  test("unsupported dtypes: tensor() explains, bytes() works", () => {
    const p = file({ d: t("F64", [1], [0, 8]), b: t("BOOL", [2], [8, 10]), f8: t("F8_E4M3", [2], [10, 12]) }, 12);
    const f = openSafetensors(p)._unsafeUnwrap();
    for (const [name, dtype] of [
      ["d", "F64"],
      ["b", "BOOL"],
      ["f8", "F8_E4M3"],
    ]) {
      expect(f.tensor(name!)._unsafeUnwrapErr().message).toBe(
        `${p}: tensor "${name}": unsupported dtype ${dtype} for an lft tensor (supported: F32, BF16, F16, I32); bytes() still gives the raw data`,
      );
    }
    expect(Array.from(f.bytes("b")._unsafeUnwrap())).toEqual([7, 7]);
  });

  test("a file truncated in place after opening is an Err, not a SIGBUS", () => {
    const p = join(dir, "shrinks.safetensors");
    writeSafetensors(p, [{ name: "a", data: tensor([1, 2, 3, 4], [4]) }])._unsafeUnwrap();
    const f = openSafetensors(p)._unsafeUnwrap();
    const size = readFileSync(p).length;
    truncateSync(p, size - 8);
    expect(f.tensor("a")._unsafeUnwrapErr().message).toBe(
      `${p}: tensor "a": the file changed size since it was opened (${size} -> ${size - 8} bytes); open it again`,
    );
  });

  test("a closed file refuses reads", () => {
    const p = join(dir, "closed.safetensors");
    writeSafetensors(p, [{ name: "a", data: tensor([1], [1]) }])._unsafeUnwrap();
    const f = openSafetensors(p)._unsafeUnwrap();
    f.close();
    expect(f.bytes("a")._unsafeUnwrapErr().message).toBe(`${p}: tensor "a": the file was closed`);
  });

  test("a missing path or a folder", () => {
    const missing = join(dir, "nope.safetensors");
    expect(openError(missing)).toBe(`${missing}: no such file`);
    expect(openError(dir)).toStartWith(`${dir}: expected a safetensors file, found a directory`);
  });
});
