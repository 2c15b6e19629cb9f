// bitsandbytes' serialised 4-bit checkpoints, as transformers saves a model loaded with load_in_4bit:
// per quantised Linear weight W [out, in]
//   <name>            U8 [ceil(out·in / 2), 1]  packed codes (element 2j in the high nibble of byte j)
//   <name>.absmax     U8 [nBlocks] when double-quantised (F32 otherwise)
//   <name>.quant_map  F32 [16]   the code book
//   <name>.nested_absmax F32 [ceil(nBlocks / 256)],  <name>.nested_quant_map F32 [256]
//   <name>.quant_state.bitsandbytes__<nf4|fp4>  U8: JSON {quant_type, blocksize, dtype, shape,
//                      nested_blocksize, nested_dtype, nested_offset} (QuantState.as_dict(packed=True))
// and config.json's quantization_config with quant_method "bitsandbytes". Written by writeBnb4bitModel,
// read through loadModel's StoredFormHook (bnb4bitStoredForm), one tensor at a time.
import { join } from "node:path";
import { err, ok, type Result } from "neverthrow";
import {
  type CausalLM,
  type Checkpoint,
  CheckpointError,
  Linear,
  ModuleError,
  type SafetensorsEntry,
  type StoredFormHook,
  writeCheckpoint,
} from "../../../core/index.ts";
import { BLOCK_4BIT, type DoubleQuantized, doubleQuantize, NESTED_BLOCK, quantize4 } from "./blockwise.ts";
import type { Quant4Type } from "./codebooks.ts";
import { quantizableLinears } from "./quantize-model.ts";
import { Quant4Weight } from "./quantized-weight.ts";

const STATE_PREFIX = ".quant_state.bitsandbytes__";
const TORCH_DTYPE: Record<string, string> = { f32: "float32", bf16: "bfloat16", f16: "float16" };

/** Python's json.dumps (", " and ": " separators; floats with a point). */
function pyJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pyJson).join(", ")}]`;
  if (v !== null && typeof v === "object")
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}: ${pyJson(x)}`)
      .join(", ")}}`;
  if (typeof v === "number" && !Number.isInteger(v)) return String(v);
  return JSON.stringify(v);
}

const f32Bytes = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The safetensors entries of one 4-bit weight named `name` (values f32 [rows, cols]). */
export function bnb4bitEntries(
  name: string,
  values: Float32Array,
  rows: number,
  cols: number,
  type: Quant4Type,
  doubleQuant: boolean,
  dtype = "f32",
): SafetensorsEntry[] {
  const q = quantize4(values, type);
  const entries: SafetensorsEntry[] = [{ name, dtype: "U8", shape: [q.packed.length, 1], data: q.packed }];
  const state: Record<string, unknown> = { quant_type: type, blocksize: BLOCK_4BIT, dtype: TORCH_DTYPE[dtype] ?? "float32", shape: [rows, cols] };
  entries.push({ name: `${name}.quant_map`, dtype: "F32", shape: [16], data: f32Bytes(Quant4Weight.codeOf(type)) });
  if (doubleQuant) {
    const d = doubleQuantize(q.absmax);
    entries.push({ name: `${name}.absmax`, dtype: "U8", shape: [d.codes.length], data: d.codes });
    entries.push({ name: `${name}.nested_absmax`, dtype: "F32", shape: [d.nestedAbsmax.length], data: f32Bytes(d.nestedAbsmax) });
    entries.push({ name: `${name}.nested_quant_map`, dtype: "F32", shape: [256], data: f32Bytes(d.nestedCode) });
    Object.assign(state, { nested_blocksize: NESTED_BLOCK, nested_dtype: "float32", nested_offset: d.offset });
  } else {
    entries.push({ name: `${name}.absmax`, dtype: "F32", shape: [q.absmax.length], data: f32Bytes(q.absmax) });
  }
  const json = new TextEncoder().encode(pyJson(state));
  entries.push({ name: `${name}${STATE_PREFIX}${type}`, dtype: "U8", shape: [json.length], data: json });
  return entries;
}

/**
 * Writes `model` (dense weights) as transformers saves a bitsandbytes 4-bit model: every Linear but
 * lm_head quantised, the rest as stored, config.json with its quantization_config.
 */
export function writeBnb4bitModel(model: CausalLM, dir: string, type: Quant4Type, doubleQuant: boolean): Result<string[], ModuleError | CheckpointError> {
  const quantized = new Set(quantizableLinears(model, { type, doubleQuant }).map(([p]) => `${p}.weight`));
  const entries: SafetensorsEntry[] = [];
  for (const [path, slot] of model.namedSlots("", false)) {
    const t = slot.tensor;
    if (!t) return err(new ModuleError(`cannot save: ${path} has no tensor`));
    if (quantized.has(path)) entries.push(...bnb4bitEntries(path, t.toArray() as Float32Array, t.shape[0]!, t.shape[1]!, type, doubleQuant, t.dtype));
    else entries.push({ name: path, data: t });
  }
  const written = writeCheckpoint(dir, entries);
  if (written.isErr()) return err(written.error);
  const config = {
    ...model.spec.config,
    quantization_config: {
      _load_in_4bit: true,
      _load_in_8bit: false,
      bnb_4bit_compute_dtype: "float32",
      bnb_4bit_quant_storage: "uint8",
      bnb_4bit_quant_type: type,
      bnb_4bit_use_double_quant: doubleQuant,
      llm_int8_enable_fp32_cpu_offload: false,
      llm_int8_has_fp16_weight: false,
      llm_int8_skip_modules: null,
      llm_int8_threshold: 6.0,
      load_in_4bit: true,
      load_in_8bit: false,
      quant_method: "bitsandbytes",
    },
  };
  const cfgPath = join(dir, "config.json");
  Bun.write(cfgPath, `${JSON.stringify(config, null, 2)}\n`);
  return ok([...written.value.files, cfgPath]);
}

function stateName(ckpt: Checkpoint, name: string): string | undefined {
  return ckpt.has(`${name}${STATE_PREFIX}nf4`) ? `${name}${STATE_PREFIX}nf4` : ckpt.has(`${name}${STATE_PREFIX}fp4`) ? `${name}${STATE_PREFIX}fp4` : undefined;
}

/** A tensor's raw bytes, or an error naming file and tensor. */
function readBytes(ckpt: Checkpoint, name: string, dtype: string, count: number, what: string): Result<Uint8Array, CheckpointError> {
  const file = ckpt.fileOf(name).unwrapOr(ckpt.path);
  const info = ckpt.info(name);
  if (info.isErr()) return err(new CheckpointError(file, `bitsandbytes weight has no such tensor (${what})`, name));
  const elemBytes = dtype === "F32" ? 4 : 1;
  if (info.value.dtype !== dtype || info.value.byteLength !== count * elemBytes)
    return err(new CheckpointError(file, `${what}: ${info.value.dtype} [${info.value.shape.join(", ")}], expected ${count} values of ${dtype}`, name));
  return ckpt.bytes(name);
}

const asF32 = (b: Uint8Array): Float32Array => new Float32Array(b.slice().buffer as ArrayBuffer);

function loadOne(path: string, name: string, ckpt: Checkpoint, model: CausalLM): Result<void, ModuleError | CheckpointError> {
  const stateTensor = stateName(ckpt, name)!;
  const file = ckpt.fileOf(stateTensor).unwrapOr(ckpt.path);
  const bad = (msg: string) => err(new CheckpointError(file, msg, stateTensor));
  const linear = model.namedModules().find(([p]) => `${p}.weight` === path)?.[1];
  if (!(linear instanceof Linear))
    return err(new ModuleError(`${file}: "${name}" is stored as bitsandbytes 4-bit, but ${path} is not a linear layer's weight`));
  const raw = ckpt.bytes(stateTensor);
  if (raw.isErr()) return err(raw.error);
  let state: Record<string, unknown>;
  try {
    state = JSON.parse(new TextDecoder().decode(raw.value));
  } catch {
    return bad("the quant state is not JSON");
  }
  const type = state.quant_type;
  if (type !== "nf4" && type !== "fp4") return bad(`quant_type ${JSON.stringify(type)} is not nf4 or fp4`);
  if (!stateTensor.endsWith(`__${type}`)) return bad(`quant_type "${type}" does not match the tensor's name`);
  const [rows, cols] = [linear.outFeatures, linear.inFeatures];
  const shape = state.shape;
  if (!Array.isArray(shape) || shape[0] !== rows || shape[1] !== cols) return bad(`shape ${JSON.stringify(shape)} does not match ${path} [${rows}, ${cols}]`);
  const blockSize = state.blocksize;
  if (typeof blockSize !== "number" || !Number.isInteger(blockSize) || blockSize <= 0 || blockSize % 2 !== 0)
    return bad(`blocksize ${JSON.stringify(blockSize)} is not a positive even integer`);
  const n = rows * cols;
  const nBlocks = Math.ceil(n / blockSize);
  const packed = readBytes(ckpt, name, "U8", Math.ceil(n / 2), "packed 4-bit codes");
  if (packed.isErr()) return err(packed.error);
  const code = readBytes(ckpt, `${name}.quant_map`, "F32", 16, "quant_map");
  if (code.isErr()) return err(code.error);
  const nestedBlock = state.nested_blocksize;
  let nested: DoubleQuantized | null = null;
  let absmax: Float32Array = new Float32Array(0);
  if (nestedBlock !== undefined) {
    if (typeof nestedBlock !== "number" || !Number.isInteger(nestedBlock) || nestedBlock <= 0)
      return bad(`nested_blocksize ${JSON.stringify(nestedBlock)} is not a positive integer`);
    if (typeof state.nested_offset !== "number" || !Number.isFinite(state.nested_offset)) return bad("nested_offset is missing or not a number");
    const codes = readBytes(ckpt, `${name}.absmax`, "U8", nBlocks, "double-quantised absmax");
    if (codes.isErr()) return err(codes.error);
    const nAbs = readBytes(ckpt, `${name}.nested_absmax`, "F32", Math.ceil(nBlocks / nestedBlock), "nested_absmax");
    if (nAbs.isErr()) return err(nAbs.error);
    const nCode = readBytes(ckpt, `${name}.nested_quant_map`, "F32", 256, "nested_quant_map");
    if (nCode.isErr()) return err(nCode.error);
    nested = {
      codes: codes.value.slice(),
      nestedAbsmax: asF32(nAbs.value),
      nestedCode: asF32(nCode.value),
      offset: Math.fround(state.nested_offset),
      blockSize: nestedBlock,
    };
  } else {
    const a = readBytes(ckpt, `${name}.absmax`, "F32", nBlocks, "absmax");
    if (a.isErr()) return err(a.error);
    absmax = asF32(a.value);
  }
  const w = Quant4Weight.fromParts(rows, cols, { type, blockSize, packed: packed.value.slice(), absmax }, nested, undefined, asF32(code.value));
  const set = linear.freezeWeight(w);
  if (set.isErr()) w.dispose();
  return set;
}

/** loadModel's hook for bitsandbytes 4-bit weights: a slot whose tensor has a quant_state companion. */
export function bnb4bitStoredForm(): StoredFormHook {
  return { claims: (_path, name, ckpt) => stateName(ckpt, name) !== undefined, load: loadOne };
}
