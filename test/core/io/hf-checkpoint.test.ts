// Checkpoints over one file or many: the writer's sharding, HF file names and index text; the reader's
// cross-checks between index and shards (missing shard, missing tensor, a tensor in two shards).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openCheckpoint, openSafetensors, type SafetensorsEntry, tensor, writeCheckpoint, writeSafetensors } from "../../../core/index.ts";

const root = mkdtempSync(join(tmpdir(), "lft-io-ckpt-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `c${n++}`);

/** Six f32 tensors of 64 bytes each, in model order (layers.10 after layers.2, unlike name order). */
function entries(): SafetensorsEntry[] {
  const names = ["embed.weight", "layers.2.w", "layers.10.w", "layers.11.w", "norm.weight", "lm_head.weight"];
  return names.map((name, i) => ({
    name,
    data: tensor(
      Array.from({ length: 16 }, (_, k) => i * 100 + k),
      [4, 4],
    ),
  }));
}

describe("writing and reading a sharded checkpoint", () => {
  test("three shards with HF names, an index as transformers writes it, every tensor back", () => {
    const dir = fresh();
    const w = writeCheckpoint(dir, entries(), { maxShardBytes: 128 })._unsafeUnwrap();
    const shard = (i: number) => `model-0000${i}-of-00003.safetensors`;
    expect(w.files).toEqual([1, 2, 3].map((i) => join(dir, shard(i))));
    expect(w.totalSize).toBe(6 * 64);
    expect(readdirSync(dir).sort()).toEqual([shard(1), shard(2), shard(3), "model.safetensors.index.json"]);
    expect(readFileSync(join(dir, "model.safetensors.index.json"), "utf8")).toBe(
      `{\n  "metadata": {\n    "total_size": 384\n  },\n  "weight_map": {\n` +
        `    "embed.weight": "${shard(1)}",\n    "layers.10.w": "${shard(2)}",\n    "layers.11.w": "${shard(2)}",\n` +
        `    "layers.2.w": "${shard(1)}",\n    "lm_head.weight": "${shard(3)}",\n    "norm.weight": "${shard(3)}"\n  }\n}\n`,
    );
    expect(openSafetensors(w.files[0]!)._unsafeUnwrap().metadata).toEqual({ format: "pt" });

    const ckpt = openCheckpoint(dir)._unsafeUnwrap();
    expect(ckpt.names()).toEqual(["embed.weight", "layers.10.w", "layers.11.w", "layers.2.w", "lm_head.weight", "norm.weight"]);
    expect(ckpt.files.length).toBe(3);
    expect(ckpt.warnings).toEqual([]);
    expect(ckpt.fileOf("layers.11.w")._unsafeUnwrap()).toBe(join(dir, shard(2)));
    expect(ckpt.info("norm.weight")._unsafeUnwrap()).toEqual({ dtype: "F32", shape: [4, 4], byteLength: 64, file: join(dir, shard(3)) });
    const head = ckpt.tensor("lm_head.weight", { dtype: "bf16" })._unsafeUnwrap();
    expect(head.dtype).toBe("bf16");
    // bf16 keeps 8 significant bits: 501 is halfway between 500 and 502 and rounds to even (500).
    expect(Array.from(head.toArray()).slice(0, 3)).toEqual([500, 500, 502]);
    expect(ckpt.tensor("layers.2.w")._unsafeUnwrap().toArray()[15]).toBe(115);
    expect(ckpt.tensor("layer.2.w")._unsafeUnwrapErr().message).toBe(
      `${dir}: tensor "layer.2.w": not in the checkpoint; did you mean "layers.2.w", "layers.10.w" or "layers.11.w"?`,
    );
    ckpt.close();
  });

  test("a tensor larger than the shard limit gets a shard of its own", () => {
    const dir = fresh();
    const e: SafetensorsEntry[] = [
      { name: "a", dtype: "U8", shape: [10], data: new Uint8Array(10) },
      { name: "big", dtype: "U8", shape: [100], data: new Uint8Array(100) },
      { name: "c", dtype: "U8", shape: [10], data: new Uint8Array(10) },
    ];
    const w = writeCheckpoint(dir, e, { maxShardBytes: 50 })._unsafeUnwrap();
    expect(w.files.length).toBe(3);
    expect(openSafetensors(w.files[1]!)._unsafeUnwrap().names()).toEqual(["big"]);
  });

  test("a checkpoint that fits is one model.safetensors; switching layouts removes the stale files", () => {
    const dir = fresh();
    writeCheckpoint(dir, entries(), { maxShardBytes: 128 })._unsafeUnwrap();
    const single = writeCheckpoint(dir, entries(), { metadata: { step: "7" } })._unsafeUnwrap();
    expect(single).toEqual({ files: [join(dir, "model.safetensors")], index: null, totalSize: 384 });
    expect(readdirSync(dir)).toEqual(["model.safetensors"]);
    const f = openCheckpoint(dir)._unsafeUnwrap();
    expect(f.files[0]!.metadata).toEqual({ format: "pt", step: "7" });
    expect(f.names().length).toBe(6);
    writeCheckpoint(dir, entries(), { maxShardBytes: 200 })._unsafeUnwrap();
    expect(readdirSync(dir).sort()).toEqual(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"]);
  });

  test("writer input errors", () => {
    expect(writeCheckpoint(fresh(), entries(), { maxShardBytes: 0 })._unsafeUnwrapErr().message).toContain("maxShardBytes must be a positive integer, got 0");
    const dir = fresh();
    const dup = [...entries(), { name: "norm.weight", data: tensor([1], [1]) }];
    expect(writeCheckpoint(dir, dup)._unsafeUnwrapErr().message).toBe(`${dir}: tensor "norm.weight": is listed twice; names must be unique`);
  });

  test("one .safetensors file path opens as a checkpoint", () => {
    const dir = fresh();
    mkdirSync(dir);
    const p = join(dir, "adapter_model.safetensors");
    writeSafetensors(p, [{ name: "x", data: tensor([1, 2], [2]) }])._unsafeUnwrap();
    const c = openCheckpoint(p)._unsafeUnwrap();
    expect(c.names()).toEqual(["x"]);
    expect(c.fileOf("x")._unsafeUnwrap()).toBe(p);
  });
});

describe("broken checkpoints", () => {
  /** A valid 3-shard checkpoint to break. */
  function sharded(): string {
    const dir = fresh();
    writeCheckpoint(dir, entries(), { maxShardBytes: 128 })._unsafeUnwrap();
    return dir;
  }
  const indexOf = (dir: string) => join(dir, "model.safetensors.index.json");
  const readIndex = (dir: string) => JSON.parse(readFileSync(indexOf(dir), "utf8"));
  const writeIndex = (dir: string, v: unknown) => writeFileSync(indexOf(dir), JSON.stringify(v, null, 2));

  test("a folder with neither file lists what it holds", () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(join(dir, "config.json"), "{}");
    writeFileSync(join(dir, "pytorch_model.bin"), "");
    expect(openCheckpoint(dir)._unsafeUnwrapErr().message).toBe(
      `${dir}: expected model.safetensors or model.safetensors.index.json in this folder; the folder holds: config.json, pytorch_model.bin`,
    );
    expect(openCheckpoint(join(dir, "missing"))._unsafeUnwrapErr().message).toBe(`${join(dir, "missing")}: no such file or folder`);
  });

  test("the index names a shard that is missing", () => {
    const dir = sharded();
    rmSync(join(dir, "model-00003-of-00003.safetensors"));
    expect(openCheckpoint(dir)._unsafeUnwrapErr().message).toBe(
      `${indexOf(dir)}: names shard model-00003-of-00003.safetensors for 2 tensors (e.g. "lm_head.weight"), but ${join(dir, "model-00003-of-00003.safetensors")} does not exist; ` +
        "the folder holds: model-00001-of-00003.safetensors, model-00002-of-00003.safetensors, model.safetensors.index.json",
    );
  });

  test("a shard lacks a tensor the index promises, and the index misplaces another", () => {
    const dir = sharded();
    const idx = readIndex(dir);
    idx.weight_map["layers.99.w"] = "model-00002-of-00003.safetensors";
    idx.weight_map["norm.weight"] = "model-00001-of-00003.safetensors";
    writeIndex(dir, idx);
    expect(openCheckpoint(dir)._unsafeUnwrapErr().message).toBe(
      `${indexOf(dir)}: does not match its shards: ` +
        `tensor "norm.weight": the index puts it in model-00001-of-00003.safetensors, but it is in model-00003-of-00003.safetensors; ` +
        `tensor "layers.99.w": the index puts it in model-00002-of-00003.safetensors, which does not hold it`,
    );
  });

  test("a tensor in two shards", () => {
    const dir = sharded();
    const shard = join(dir, "model-00003-of-00003.safetensors");
    writeSafetensors(shard, [...entries().slice(4), { name: "embed.weight", data: tensor([0], [1]) }])._unsafeUnwrap();
    expect(openCheckpoint(dir)._unsafeUnwrapErr().message).toBe(
      `${indexOf(dir)}: does not match its shards: tensor "embed.weight" is in both model-00001-of-00003.safetensors and model-00003-of-00003.safetensors`,
    );
  });

  test("a shard tensor the index omits and a wrong total_size are warnings", () => {
    const dir = sharded();
    const idx = readIndex(dir);
    delete idx.weight_map["layers.11.w"];
    idx.metadata.total_size = 1000;
    writeIndex(dir, idx);
    const c = openCheckpoint(dir)._unsafeUnwrap();
    expect(c.warnings).toEqual([
      `${join(dir, "model-00002-of-00003.safetensors")}: tensor "layers.11.w" is not listed in model.safetensors.index.json`,
      `${indexOf(dir)}: metadata.total_size is 1000, the shards hold 384 bytes of tensors`,
    ]);
    expect(c.tensor("layers.11.w")._unsafeUnwrap().toArray()[0]).toBe(300);
  });

  test("a malformed index: JSON syntax at line:col, a bad weight_map, a shard path outside the folder", () => {
    const dir = sharded();
    writeFileSync(indexOf(dir), '{\n  "metadata": {},\n  "weight_map": {"a": "x.safetensors",}\n}\n');
    expect(openCheckpoint(dir)._unsafeUnwrapErr().message).toBe(
      `${indexOf(dir)}:3:39: shard index is not valid JSON: expected a property name in double quotes, found "}"`,
    );
    writeIndex(dir, { weight_map: ["a"] });
    expect(openCheckpoint(dir)._unsafeUnwrapErr().message).toBe(`${indexOf(dir)}: "weight_map" must be an object of tensor name to shard file, found an array`);
    writeIndex(dir, { weight_map: { a: "../elsewhere.safetensors" } });
    expect(openCheckpoint(dir)._unsafeUnwrapErr().message).toBe(
      `${indexOf(dir)}: tensor "a": weight_map names shard "../elsewhere.safetensors", expected a file name inside ${dir}`,
    );
  });

  test("a corrupt shard is reported with its own path", () => {
    const dir = sharded();
    const shard = join(dir, "model-00002-of-00003.safetensors");
    writeFileSync(shard, readFileSync(shard).subarray(0, -4));
    expect(openCheckpoint(dir)._unsafeUnwrapErr().message).toStartWith(`${shard}: tensor "layers.11.w": data_offsets [64, 128] reach past the end`);
  });
});
