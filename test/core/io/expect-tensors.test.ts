// expectTensors: a checkpoint checked against what a model expects reports every problem at once (missing,
// wrong shape, wrong dtype), each naming file and tensor, with unused tensors as warnings.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ExpectedTensor, expectTensors, openCheckpoint, writeCheckpoint } from "../../../core/index.ts";

const dir = mkdtempSync(join(tmpdir(), "lft-io-expect-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const u8 = (n: number) => new Uint8Array(n);
writeCheckpoint(
  dir,
  [
    { name: "model.embed_tokens.weight", dtype: "BF16", shape: [10, 4], data: u8(80) },
    { name: "model.layers.0.self_attn.q_proj.weight", dtype: "BF16", shape: [4, 4], data: u8(32) },
    { name: "model.layers.0.self_atn.k_proj.weight", dtype: "BF16", shape: [2, 4], data: u8(16) },
    { name: "model.norm.weight", dtype: "F64", shape: [4], data: u8(32) },
    { name: "lm_head.weight", dtype: "BF16", shape: [10, 4], data: u8(80) },
    { name: "model.rotary_emb.inv_freq", dtype: "F32", shape: [2], data: u8(8) },
  ],
  { maxShardBytes: 120 },
)._unsafeUnwrap();
const ckpt = openCheckpoint(dir)._unsafeUnwrap();
const shard = (i: number) => join(dir, `model-0000${i}-of-00003.safetensors`);
const FLOAT = ["F32", "BF16", "F16"] as const;

test("every problem is listed at once; unused tensors are warnings", () => {
  const expected: ExpectedTensor[] = [
    { name: "model.embed_tokens.weight", shape: [10, 4], dtype: FLOAT },
    { name: "model.layers.0.self_attn.q_proj.weight", shape: [4, 8], dtype: FLOAT },
    { name: "model.layers.0.self_attn.k_proj.weight", shape: [2, 4], dtype: FLOAT },
    { name: "model.norm.weight", shape: [4], dtype: FLOAT },
  ];
  const e = expectTensors(ckpt, expected)._unsafeUnwrapErr();
  expect(e.problems).toEqual([
    `${shard(1)}: tensor "model.layers.0.self_attn.q_proj.weight" has shape [4, 4], the model expects [4, 8]`,
    `${dir}: tensor "model.layers.0.self_attn.k_proj.weight" (shape [2, 4]) is missing; did you mean "model.layers.0.self_atn.k_proj.weight"?`,
    `${shard(2)}: tensor "model.norm.weight" is stored as F64, the model expects F32, BF16 or F16`,
  ]);
  expect(e.warnings).toEqual([
    `${shard(3)}: tensor "lm_head.weight" is not used by the model`,
    `${shard(2)}: tensor "model.layers.0.self_atn.k_proj.weight" is not used by the model`,
    `${shard(3)}: tensor "model.rotary_emb.inv_freq" is not used by the model`,
  ]);
  expect(e.message).toBe(`${dir}: the checkpoint does not match the model (3 problems):\n  ${e.problems.join("\n  ")}`);
});

test("a matching checkpoint passes, with its unused tensors as warnings", () => {
  const names = ckpt.names().filter((n) => n !== "model.rotary_emb.inv_freq");
  const expected = names.map((name) => ({ name, shape: ckpt.info(name)._unsafeUnwrap().shape }));
  expect(expectTensors(ckpt, expected)._unsafeUnwrap().warnings).toEqual([`${shard(3)}: tensor "model.rotary_emb.inv_freq" is not used by the model`]);
});
