// Turns a tensor's stored bytes into an lft Tensor on a backend, keeping the stored dtype or converting
// between float types (through the backend's cast, round to nearest even) when asked.
import { err, ok, type Result } from "neverthrow";
import type { Backend } from "../backend/backend.ts";
import { defaultBackend } from "../backend/default.ts";
import { DTYPE_BYTES, type DType, hostArrayFor } from "../tensor/dtype.ts";
import { Tensor } from "../tensor/tensor.ts";
import { CheckpointError } from "./errors.ts";
import { lftDTypeOf } from "./safetensors-dtype.ts";
import type { TensorInfo } from "./safetensors-header.ts";

export type LoadDType = "f32" | "bf16" | "f16";

export interface LoadOptions {
  /** Convert a float tensor to this dtype; default: keep the stored one. */
  dtype?: LoadDType;
  /** Default: the default backend. */
  backend?: Backend;
}

const FLOATS: readonly DType[] = ["f32", "bf16", "f16"];

export function uploadTensor(file: string, name: string, info: TensorInfo, bytes: Uint8Array, o: LoadOptions = {}): Result<Tensor, CheckpointError> {
  const fail = (detail: string) => err(new CheckpointError(file, detail, name));
  const stored = lftDTypeOf(info.dtype);
  if (stored === undefined) {
    return fail(`unsupported dtype ${info.dtype} for an lft tensor (supported: F32, BF16, F16, I32); bytes() still gives the raw data`);
  }
  if (o.dtype !== undefined && !FLOATS.includes(o.dtype)) return fail(`cannot load as dtype ${JSON.stringify(o.dtype)}; choose f32, bf16 or f16`);
  const want: DType = o.dtype ?? stored;
  if (stored === "i32" && want !== "i32") return fail(`is stored as I32; integer tensors cannot be loaded as ${want}`);
  const backend = o.backend ?? defaultBackend();
  const made: Tensor[] = [];
  const alloc = (dtype: DType) => {
    const t = Tensor.alloc(backend, info.shape, dtype);
    made.push(t);
    return t;
  };
  try {
    const raw = alloc(stored);
    if (raw.numel > 0) {
      const elem = DTYPE_BYTES[stored];
      const aligned = bytes.byteOffset % elem === 0 ? bytes : bytes.slice();
      backend.upload(raw, hostArrayFor(stored, aligned.buffer as ArrayBuffer, aligned.byteOffset, aligned.byteLength / elem));
    }
    let out = raw;
    if (want !== stored) {
      out = alloc(want);
      if (raw.numel > 0) {
        if (stored === "f32" || want === "f32") backend.cast(out, raw);
        else {
          const wide = alloc("f32");
          backend.cast(wide, raw);
          backend.cast(out, wide);
        }
      }
    }
    for (const t of made) if (t !== out) t.dispose();
    out.name = name;
    return ok(out);
  } catch (e) {
    for (const t of made) t.dispose();
    return fail(`could not load into a ${want} tensor: ${(e as Error).message}`);
  }
}
