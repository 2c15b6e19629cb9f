// Tensor factories: empty, zeros, full, from host data, and seeded random (Philox, reproducible).
import type { Backend } from "../backend/backend.ts";
import { defaultBackend } from "../backend/default.ts";
import type { DType } from "./dtype.ts";
import { checkedNumel, formatShape, type Shape, ShapeError } from "./shape.ts";
import { Tensor } from "./tensor.ts";

export interface CreateOptions {
  dtype?: DType;
  backend?: Backend;
  requiresGrad?: boolean;
  name?: string;
}

function finish(t: Tensor, o: CreateOptions): Tensor {
  if (o.requiresGrad) t.requiresGrad = true;
  if (o.name) t.name = o.name;
  return t;
}

export function empty(shape: Shape, o: CreateOptions = {}): Tensor {
  return finish(Tensor.alloc(o.backend ?? defaultBackend(), shape, o.dtype ?? "f32"), o);
}

export function full(shape: Shape, value: number, o: CreateOptions = {}): Tensor {
  const dtype = o.dtype ?? "f32";
  const t = empty(shape, { ...o, dtype: dtype === "i32" ? "i32" : "f32" });
  t.backend.fill(t, value);
  if (dtype === "f32" || dtype === "i32") return t;
  const h = empty(shape, o);
  h.backend.cast(h, t);
  t.dispose();
  return h;
}

export function zeros(shape: Shape, o: CreateOptions = {}): Tensor {
  return full(shape, 0, o);
}

/** From host numbers. A half dtype is converted from f32 on the device (round to nearest even). */
export function tensor(data: ArrayLike<number>, shape: Shape = [data.length], o: CreateOptions = {}): Tensor {
  if (checkedNumel(shape, "tensor") !== data.length) throw new ShapeError(`tensor: ${data.length} values do not fill shape ${formatShape(shape)}`);
  const dtype = o.dtype ?? "f32";
  const hostType = dtype === "i32" ? "i32" : "f32";
  const t = empty(shape, { ...o, dtype: hostType });
  t.backend.upload(t, hostType === "i32" ? Int32Array.from(data) : Float32Array.from(data));
  if (dtype === hostType) return t;
  const h = empty(shape, o);
  h.backend.cast(h, t);
  t.dispose();
  return h;
}

export interface RandomOptions extends CreateOptions {
  seed: bigint | number;
  /** Philox counter offset, so separate draws from one seed do not overlap. */
  offset?: bigint | number;
}

function seedOf(v: bigint | number, what: string): bigint {
  if (typeof v === "number" && (!Number.isSafeInteger(v) || v < 0)) throw new RangeError(`${what} must be a non-negative integer, got ${v}`);
  return BigInt(v);
}

export function randn(shape: Shape, o: RandomOptions & { mean?: number; std?: number }): Tensor {
  const t = empty(shape, { ...o, dtype: "f32" });
  t.backend.randNormal(t, seedOf(o.seed, "randn: seed"), seedOf(o.offset ?? 0, "randn: offset"), o.mean ?? 0, o.std ?? 1);
  return t;
}

/** Uniform in [low, high). */
export function rand(shape: Shape, o: RandomOptions & { low?: number; high?: number }): Tensor {
  const t = empty(shape, { ...o, dtype: "f32" });
  t.backend.randUniform(t, seedOf(o.seed, "rand: seed"), seedOf(o.offset ?? 0, "rand: offset"));
  const low = o.low ?? 0;
  const high = o.high ?? 1;
  if (low !== 0 || high !== 1) {
    t.backend.scale(t, t, high - low);
    if (low !== 0) {
      const l = full([1], low, { backend: t.backend });
      t.backend.binaryForward("add", t, t, l);
      l.dispose();
    }
  }
  return t;
}
