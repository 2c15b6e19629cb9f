// Frozen quantised weights for a Linear's FrozenWeight slot (core/nn/linear.ts): 4-bit blockwise (NF4/FP4,
// optionally double-quantised scales) and LLM.int8 per-row int8. The bytes live in backend memory as i32
// words (lft has no byte dtype); the backend's quant4Linear/int8Linear kernels multiply against them tile
// by tile, so the dense matrix never exists.
import {
  type Backend,
  defaultBackend,
  empty,
  type FrozenWeight,
  type Int8Arrays,
  MethodError,
  type Quant4Arrays,
  type Tensor,
  tensor,
} from "../../../core/index.ts";
import { type DoubleQuantized, doubleQuantize, type Quantized4, type QuantizedInt8, quantize4, quantizeInt8 } from "./blockwise.ts";
import { codeFor, type Quant4Type } from "./codebooks.ts";

/** Bytes as an i32 tensor of ceil(len / 4) words (zero-padded). */
export function bytesTensor(bytes: Uint8Array, backend: Backend): Tensor {
  // Whole aligned words upload as they are (no host copy: a 7B model's codes are 3.4 GB).
  const aligned = bytes.length > 0 && bytes.length % 4 === 0 && bytes.byteOffset % 4 === 0;
  const words = aligned ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4) : new Int32Array(Math.max(1, Math.ceil(bytes.length / 4)));
  if (!aligned) new Uint8Array(words.buffer).set(bytes);
  const t = empty([words.length], { dtype: "i32", backend });
  backend.upload(t, words);
  return t;
}

/** The bytes of an i32 word tensor (first `length`). */
export function tensorBytes(t: Tensor, length: number): Uint8Array {
  const words = t.toArray() as Int32Array;
  return new Uint8Array(words.buffer, words.byteOffset, length).slice();
}

function need<K extends "quant4Linear" | "int8Linear">(backend: Backend, kernel: K): void {
  if (!backend[kernel]) throw new MethodError(`backend ${backend.name} has no ${kernel} kernel: quantised weights are not supported there`);
}

export class Quant4Weight implements FrozenWeight {
  readonly format: string;
  private readonly arrays: Quant4Arrays;
  private readonly owned: Tensor[];

  private constructor(
    readonly rows: number,
    readonly cols: number,
    readonly type: Quant4Type,
    readonly backend: Backend,
    arrays: Quant4Arrays,
    owned: Tensor[],
  ) {
    this.format = type;
    this.arrays = arrays;
    this.owned = owned;
  }

  /** Quantises a [rows, cols] matrix (f32 values) in blocks of 64, scales double-quantised when asked. */
  static quantize(values: Float32Array, rows: number, cols: number, type: Quant4Type, doubleQuant: boolean, backend: Backend = defaultBackend()): Quant4Weight {
    const q = quantize4(values, type);
    return Quant4Weight.fromParts(rows, cols, q, doubleQuant ? doubleQuantize(q.absmax) : null, backend);
  }

  /** From already quantised parts (a bitsandbytes checkpoint, or quantize4 + doubleQuantize). */
  static fromParts(
    rows: number,
    cols: number,
    q: Quantized4,
    nested: DoubleQuantized | null,
    backend: Backend = defaultBackend(),
    /** A stored code book (a checkpoint's quant_map); default the type's own. */
    codeBook: Float32Array = codeFor(q.type),
  ): Quant4Weight {
    const owned: Tensor[] = [];
    const keep = (t: Tensor): Tensor => {
      owned.push(t);
      return t;
    };
    const packed = keep(bytesTensor(q.packed, backend));
    const code = keep(tensor(codeBook, [16], { backend }));
    const absmax = keep(nested ? bytesTensor(nested.codes, backend) : tensor(q.absmax, [q.absmax.length], { backend }));
    const nestedArrays = nested
      ? {
          absmax: keep(tensor(nested.nestedAbsmax, [nested.nestedAbsmax.length], { backend })),
          code: keep(tensor(nested.nestedCode, [256], { backend })),
          offset: nested.offset,
          blockSize: nested.blockSize,
        }
      : null;
    return new Quant4Weight(rows, cols, q.type, backend, { rows, cols, blockSize: q.blockSize, packed, code, absmax, nested: nestedArrays }, owned);
  }

  /** The code book of a 4-bit type (NF4 or FP4). */
  static codeOf(type: Quant4Type): Float32Array {
    return codeFor(type);
  }

  get doubleQuant(): boolean {
    return this.arrays.nested !== null;
  }

  get bytes(): number {
    return this.owned.reduce((s, t) => s + t.numel * 4, 0);
  }

  forward(out: Tensor, x: Tensor): void {
    need(this.backend, "quant4Linear");
    this.backend.quant4Linear!(out, x, this.arrays, false);
  }

  backwardInput(out: Tensor, g: Tensor): void {
    need(this.backend, "quant4Linear");
    this.backend.quant4Linear!(out, g, this.arrays, true);
  }

  dequantize(): Tensor {
    if (!this.backend.quant4Dequantize) throw new MethodError(`backend ${this.backend.name} cannot dequantise 4-bit weights`);
    const out = empty([this.rows, this.cols], { backend: this.backend });
    this.backend.quant4Dequantize(out, this.arrays);
    return out;
  }

  dispose(): void {
    for (const t of this.owned) t.dispose();
    this.owned.length = 0;
  }
}

export class Int8Weight implements FrozenWeight {
  readonly format = "int8";
  private readonly arrays: Int8Arrays;

  private constructor(
    readonly rows: number,
    readonly cols: number,
    readonly backend: Backend,
    private readonly q: Tensor,
    private readonly scale: Tensor,
  ) {
    this.arrays = { rows, cols, q, rowScale: scale };
  }

  static quantize(values: Float32Array, rows: number, cols: number, backend: Backend = defaultBackend()): Int8Weight {
    return Int8Weight.fromParts(rows, cols, quantizeInt8(values, rows, cols), backend);
  }

  static fromParts(rows: number, cols: number, w: QuantizedInt8, backend: Backend = defaultBackend()): Int8Weight {
    const q = bytesTensor(new Uint8Array(w.q.buffer, w.q.byteOffset, w.q.byteLength), backend);
    return new Int8Weight(rows, cols, backend, q, tensor(w.rowScale, [rows], { backend }));
  }

  get bytes(): number {
    return (this.q.numel + this.scale.numel) * 4;
  }

  forward(out: Tensor, x: Tensor): void {
    need(this.backend, "int8Linear");
    this.backend.int8Linear!(out, x, this.arrays, false);
  }

  backwardInput(out: Tensor, g: Tensor): void {
    need(this.backend, "int8Linear");
    this.backend.int8Linear!(out, g, this.arrays, true);
  }

  dequantize(): Tensor {
    if (!this.backend.int8Dequantize) throw new MethodError(`backend ${this.backend.name} cannot dequantise int8 weights`);
    const out = empty([this.rows, this.cols], { backend: this.backend });
    this.backend.int8Dequantize(out, this.arrays);
    return out;
  }

  dispose(): void {
    this.q.dispose();
    this.scale.dispose();
  }
}
