// MXFP4 (OCP microscaling FP4), as gpt-oss checkpoints store their expert matrices: `<name>_blocks`
// u8 [..., G, 16] holds 32 FP4 E2M1 codes per block (two per byte, element 2b in the low nibble, 2b + 1
// in the high one) and `<name>_scales` u8 [..., G] one E8M0 scale per block, 2^(scale - 127). The
// dequantised rows [..., G * 32] are the transpose of the parameter's last two axes (transformers'
// convert_moe_packed_tensors): blocks [E, B, A / 32, 16] become the parameter [E, A, B]. Dequantised to
// f32 at load; the 4-bit form is not kept.
import { err, ok, type Result } from "neverthrow";
import { type CausalLM, type Checkpoint, CheckpointError, type ModuleError, type StoredFormHook, tensor } from "../../core/index.ts";

/** FP4 E2M1 code -> value: sign bit 3, exponent bits 2..1 (bias 1), mantissa bit 0. */
export const FP4_E2M1: readonly number[] = [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6];

/** E8M0's NaN: an exponent byte of 255 encodes no scale. */
const E8M0_NAN = 255;

/**
 * blocks (16 bytes per block) and scales (one byte per block) -> f32 values, 32 per block, in block
 * order. An error names the first NaN scale (255) or a size mismatch.
 */
export function dequantizeMxfp4(blocks: Uint8Array, scales: Uint8Array): Result<Float32Array, string> {
  if (blocks.length !== scales.length * 16) return err(`${blocks.length} block bytes for ${scales.length} scales (16 bytes per 32-value block expected)`);
  const out = new Float32Array(scales.length * 32);
  for (let g = 0; g < scales.length; g++) {
    const s = scales[g]!;
    if (s === E8M0_NAN) return err(`block ${g} has scale 255 (E8M0 NaN)`);
    const f = 2 ** (s - 127);
    for (let b = 0; b < 16; b++) {
      const byte = blocks[g * 16 + b]!;
      out[g * 32 + 2 * b] = FP4_E2M1[byte & 15]! * f;
      out[g * 32 + 2 * b + 1] = FP4_E2M1[byte >> 4]! * f;
    }
  }
  return ok(out);
}

/** [E, R, C] -> [E, C, R] */
function swapLastTwo(x: Float32Array, E: number, R: number, C: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let e = 0; e < E; e++) for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) y[(e * C + c) * R + r] = x[(e * R + r) * C + c]!;
  return y;
}

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** Loads one [E, A, B] parameter from `<name>_blocks` [E, B, A / 32, 16] and `<name>_scales` [E, B, A / 32]. */
function loadMxfp4(path: string, name: string, ckpt: Checkpoint, model: CausalLM): Result<void, ModuleError | CheckpointError> {
  const [bName, sName] = [`${name}_blocks`, `${name}_scales`];
  const shape = model.parameterShapes().find((p) => p.name === path)?.shape;
  const bInfo = ckpt.info(bName);
  if (bInfo.isErr()) return err(bInfo.error);
  const file = bInfo.value.file;
  const fail = (tensorName: string, detail: string) => err(new CheckpointError(file, `MXFP4: ${detail}`, tensorName));
  if (shape?.length !== 3) return fail(bName, `the model has no 3-D parameter ${path} for it`);
  const [E, A, B] = shape as [number, number, number];
  if (A % 32 !== 0) return fail(bName, `${path} has ${A} rows, not a multiple of the 32-value block`);
  const sInfo = ckpt.info(sName);
  if (sInfo.isErr()) return fail(bName, `its scales ${sName} are missing`);
  const wantBlocks = [E, B, A / 32, 16];
  const wantScales = [E, B, A / 32];
  if (bInfo.value.dtype !== "U8" || !same(bInfo.value.shape, wantBlocks))
    return fail(bName, `must be U8 [${wantBlocks.join(", ")}] for ${path} [${shape.join(", ")}], got ${bInfo.value.dtype} [${bInfo.value.shape.join(", ")}]`);
  if (sInfo.value.dtype !== "U8" || !same(sInfo.value.shape, wantScales))
    return fail(sName, `must be U8 [${wantScales.join(", ")}], got ${sInfo.value.dtype} [${sInfo.value.shape.join(", ")}]`);
  const blocks = ckpt.bytes(bName);
  if (blocks.isErr()) return err(blocks.error);
  const scales = ckpt.bytes(sName);
  if (scales.isErr()) return err(scales.error);
  const values = dequantizeMxfp4(blocks.value, scales.value);
  if (values.isErr()) return fail(sName, values.error);
  const t = tensor(swapLastTwo(values.value, E, B, A), [E, A, B]);
  const set = model.setParameter(path, t);
  if (set.isErr()) {
    t.dispose();
    return err(set.error);
  }
  return ok(undefined);
}

/** The loader hook: a slot is MXFP4 when the checkpoint has `<name>_blocks` in place of `<name>`. */
export const mxfp4StoredForm: StoredFormHook = { claims: (_path, name, ckpt) => !ckpt.has(name) && ckpt.has(`${name}_blocks`), load: loadMxfp4 };
