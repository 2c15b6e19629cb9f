// The GGUF writer's layout (read back by a small independent reader), q8_0 blocks against hand-worked
// values, the Llama q/k permutation against llama2.c's inverse, and the `lft export --gguf` verb.
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportCommand } from "../../../plugins/commands/export.ts";
import { halvesToInterleaved } from "../../../plugins/convert/gguf-arch.ts";
import { GgmlType, ggufHeader, str, u32, writeGguf } from "../../../plugins/convert/gguf-file.ts";
import { fromQ8_0Bytes, toF16Bytes, toQ8_0Bytes } from "../../../plugins/convert/gguf-quant.ts";
import { convertLlama2c, exportGguf } from "../../../plugins/convert/index.ts";
import { interleavedToHalves } from "../../../plugins/convert/llama2c-to-hf.ts";
import { captureIO } from "../../dsl/helpers.ts";

const work = mkdtempSync(join(tmpdir(), "lft-gguf-file-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Reads the parts of a GGUF file the writer controls: header, string/u32 metadata, tensor infos. */
function readGguf(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const u32 = () => {
    at += 4;
    return view.getUint32(at - 4, true);
  };
  const u64 = () => {
    at += 8;
    return Number(view.getBigUint64(at - 8, true));
  };
  const string = () => {
    const n = u64();
    at += n;
    return new TextDecoder().decode(bytes.subarray(at - n, at));
  };
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  at = 4;
  const version = u32();
  const nTensors = u64();
  const nKv = u64();
  const kv: Record<string, unknown> = {};
  for (let i = 0; i < nKv; i++) {
    const key = string();
    const type = u32();
    if (type === 8) kv[key] = string();
    else if (type === 4) kv[key] = u32();
    else if (type === 9) {
      // Arrays (the vocabulary): skipped, strings by their lengths, numbers by their 4-byte width.
      const elem = u32();
      const n = u64();
      for (let j = 0; j < n; j++) {
        if (elem === 8) string();
        else at += 4;
      }
      kv[key] = `array of ${n}`;
    } else at += type === 7 ? 1 : 4; // bool, f32 / i32
  }
  const tensors = [];
  for (let i = 0; i < nTensors; i++) {
    const name = string();
    const dims = Array.from({ length: u32() }, u64);
    tensors.push({ name, dims, type: u32(), offset: u64() });
  }
  return { magic, version, kv, tensors, dataStart: Math.ceil(at / 32) * 32 };
}

test("the file is GGUF v3: metadata, tensor infos with ggml's dims order, data aligned to 32 bytes", () => {
  const a = Float32Array.from({ length: 6 }, (_, i) => i);
  const b = Float32Array.from({ length: 3 }, (_, i) => -i);
  const tensors = [
    { name: "a", shape: [2, 3], type: GgmlType.F32, byteLength: 24, data: () => new Uint8Array(a.buffer) },
    { name: "b", shape: [3], type: GgmlType.F32, byteLength: 12, data: () => new Uint8Array(b.buffer) },
  ];
  const meta = new Map([
    ["general.architecture", str("llama")],
    ["llama.block_count", u32(5)],
  ]);
  const path = join(work, "t.gguf");
  writeGguf(path, meta, tensors)._unsafeUnwrap();
  const bytes = new Uint8Array(readFileSync(path));
  const g = readGguf(bytes);
  expect(g.magic).toBe("GGUF");
  expect(g.version).toBe(3);
  expect(g.kv).toEqual({ "general.architecture": "llama", "llama.block_count": 5 });
  expect(g.tensors).toEqual([
    { name: "a", dims: [3, 2], type: 0, offset: 0 },
    { name: "b", dims: [3], type: 0, offset: 32 },
  ]);
  expect(g.dataStart).toBe(ggufHeader(meta, tensors).length);
  expect(new Float32Array(bytes.slice(g.dataStart, g.dataStart + 24).buffer)).toEqual(a);
  expect(new Float32Array(bytes.slice(g.dataStart + 32, g.dataStart + 44).buffer)).toEqual(b);
  expect(bytes.length).toBe(g.dataStart + 64);
});

test("q8_0: scale max|x|/127 in f16, values rounded half away from zero; f16 rounds to nearest even", () => {
  const x = new Float32Array(32);
  x[0] = 1.27;
  x[1] = -0.005; // -0.5 step: rounds away from zero to -1
  x[2] = 0.015; // 1.5 steps -> 2
  x[3] = 0.6;
  const q = toQ8_0Bytes(x);
  expect(q.length).toBe(34);
  const d = new Float16Array(q.slice(0, 2).buffer)[0]!;
  expect(d).toBe(Math.f16round(0.01));
  const ints = new Int8Array(q.slice(2).buffer);
  expect(Array.from(ints.slice(0, 5))).toEqual([127, -1, 2, 60, 0]);
  expect(fromQ8_0Bytes(q)[3]).toBeCloseTo(60 * d, 6);
  expect(Array.from(toQ8_0Bytes(new Float32Array(32)))).toEqual(new Array(34).fill(0));
  // 1 + 2^-11 is halfway between two f16 values: ties go to the even one (1).
  expect(Array.from(new Uint16Array(toF16Bytes(Float32Array.of(1 + 2 ** -11, 1 + 3 * 2 ** -11)).slice().buffer))).toEqual([0x3c00, 0x3c02]);
});

test("Llama's q/k permutation for llama.cpp undoes llama2.c's interleaved -> halves reordering", () => {
  const heads = 2;
  const hd = 8;
  const cols = 3;
  const w = Float32Array.from({ length: heads * hd * cols }, (_, i) => i);
  expect(halvesToInterleaved(interleavedToHalves(w, heads, hd, cols), heads, heads * hd, cols)).toEqual(w);
  // Row 1 of head 0 after the permutation is row d/2 before it (the pair partner of row 0).
  expect(Array.from(halvesToInterleaved(w, heads, heads * hd, cols).slice(cols, 2 * cols))).toEqual([12, 13, 14]);
});

test("lft export MODEL_DIR --gguf OUT --type q8_0 writes the file; a bad type is a usage error", async () => {
  const fixture = join(import.meta.dir, "../../fixtures/stories260K");
  const dir = join(work, "stories");
  convertLlama2c(join(fixture, "stories260K.bin"), join(fixture, "tok512.bin"), dir)._unsafeUnwrap();
  const io = captureIO(work);
  const session = {} as Parameters<typeof exportCommand.run>[2];
  expect(await exportCommand.run(["stories", "--gguf", "s.gguf", "--type", "q8_0"], io, session)).toBe(0);
  expect(io.out()).toContain("llama, q8_0, 47 tensors");
  const g = readGguf(new Uint8Array(readFileSync(join(work, "s.gguf")).subarray(0, 1 << 16)).slice());
  expect(g.kv["general.file_type"]).toBe(7);
  expect(g.tensors.find((t) => t.name === "blk.0.attn_q.weight")?.type).toBe(8);
  expect(g.tensors.find((t) => t.name === "blk.0.attn_norm.weight")?.type).toBe(0);
  const bad = captureIO(work);
  expect(await exportCommand.run(["stories", "--gguf", "s.gguf", "--type", "q4"], bad, session)).toBe(2);
  expect(bad.err()).toContain("--type must be one of f32, f16, q8_0");
});

test("a family without a GGUF table, and RoPE scaling llama.cpp would need more for, are refused with the reason", () => {
  const fixture = join(import.meta.dir, "../../fixtures/stories260K");
  const dir = join(work, "refused");
  convertLlama2c(join(fixture, "stories260K.bin"), join(fixture, "tok512.bin"), dir)._unsafeUnwrap();
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, model_type: "phi3" }));
  expect(exportGguf(dir, join(work, "x.gguf"), "f16")._unsafeUnwrapErr().message).toContain(
    'model_type "phi3" has no GGUF export (exported: llama, mistral, qwen2, qwen3, gemma)',
  );
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, rope_scaling: { rope_type: "llama3", factor: 8 } }));
  expect(exportGguf(dir, join(work, "x.gguf"), "f16")._unsafeUnwrapErr().message).toContain('rope_scaling of type "llama3" is not exported to GGUF yet');
  expect(existsSync(join(work, "x.gguf"))).toBe(false);
});
