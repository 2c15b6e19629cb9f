// Tensor: a shape and dtype over refcounted device storage from the caching allocator. Views (reshape,
// saved activations) share storage; memory goes back to the allocator when the last view is disposed.
// Release is explicit (`dispose()`, `using`, or a scope from scope.ts), never left to the GC.
import type { Backend } from "../backend/backend.ts";
import type { NativeArray } from "../backend/check.ts";
import { DisposedError } from "../backend/check.ts";
import type { Block } from "./allocator.ts";
import { DTYPE_BYTES, type DType, type HostArray } from "./dtype.ts";
import { trackTensor } from "./scope.ts";
import { checkedBytes, formatShape, numel, type Shape, ShapeError } from "./shape.ts";

/** The autograd record of the op that produced a tensor (defined in core/autograd). */
export interface GradNode {
  readonly op: string;
  /** Frees saved activations; called after the node's backward or when its graph is dropped. */
  release(): void;
}

export class Storage {
  private refs = 1;
  constructor(
    readonly backend: Backend,
    readonly block: Block | null,
    readonly bytes: number,
  ) {
    if (!Number.isSafeInteger(bytes) || bytes < 0 || (bytes > 0 && (block === null || block.size < bytes))) {
      throw new ShapeError(`storage: ${bytes} bytes do not fit its block (${block === null ? "none" : `${block.size} bytes`})`);
    }
  }
  get ptr(): number {
    return this.block?.ptr ?? 0;
  }
  retain(): void {
    this.refs++;
  }
  release(): void {
    if (--this.refs === 0 && this.block) this.backend.allocator.release(this.block);
  }
}

let nextId = 1;

export class Tensor implements NativeArray {
  readonly id = nextId++;
  requiresGrad = false;
  grad: Tensor | null = null;
  node: GradNode | null = null;
  name?: string;
  private isDisposed = false;

  /** Use the factories in create.ts; this constructor takes ownership of one storage reference. */
  constructor(
    readonly shape: Shape,
    readonly dtype: DType,
    readonly storage: Storage,
    readonly byteOffset = 0,
    tracked = true,
  ) {
    // A tensor never claims more bytes than its storage holds, so kernels can trust shape × dtype.
    const bytes = checkedBytes(shape, DTYPE_BYTES[dtype], "tensor");
    if (!Number.isSafeInteger(byteOffset) || byteOffset < 0 || byteOffset + bytes > storage.bytes) {
      throw new ShapeError(`tensor: ${formatShape(shape)} ${dtype} at byte ${byteOffset} overruns its storage of ${storage.bytes} bytes`);
    }
    if (tracked) trackTensor(this);
  }

  static alloc(backend: Backend, shape: Shape, dtype: DType, tracked = true): Tensor {
    const bytes = checkedBytes(shape, DTYPE_BYTES[dtype], "tensor");
    const block = bytes > 0 ? backend.allocator.alloc(bytes, `tensor ${formatShape(shape)} ${dtype}`) : null;
    return new Tensor([...shape], dtype, new Storage(backend, block, bytes), 0, tracked);
  }

  get backend(): Backend {
    return this.storage.backend;
  }
  get ptr(): number {
    return this.storage.ptr + this.byteOffset;
  }
  get disposed(): boolean {
    return this.isDisposed;
  }
  get numel(): number {
    return numel(this.shape);
  }
  get ndim(): number {
    return this.shape.length;
  }
  get bytes(): number {
    return this.numel * DTYPE_BYTES[this.dtype];
  }

  /** Another tensor over the same storage (shares memory; disposing one leaves the other alive). */
  view(shape: Shape, byteOffset = this.byteOffset, tracked = true): Tensor {
    this.assertAlive("view");
    const bytes = checkedBytes(shape, DTYPE_BYTES[this.dtype], "view");
    if (!Number.isSafeInteger(byteOffset) || byteOffset < 0 || byteOffset % DTYPE_BYTES[this.dtype] !== 0) {
      throw new ShapeError(`view: byte offset ${byteOffset} must be a non-negative multiple of ${DTYPE_BYTES[this.dtype]} (the ${this.dtype} element size)`);
    }
    if (byteOffset + bytes > this.storage.bytes) {
      throw new ShapeError(`view: ${formatShape(shape)} at byte ${byteOffset} overruns storage of ${this.storage.bytes} bytes`);
    }
    this.storage.retain();
    return new Tensor([...shape], this.dtype, this.storage, byteOffset, tracked);
  }

  assertAlive(what: string): void {
    if (this.isDisposed) throw new DisposedError(`${what}: tensor${this.name ? ` ${this.name}` : ""} ${formatShape(this.shape)} was disposed`);
  }

  /** Copies the data to the host as a typed array (half types come back as f32). */
  toArray(): Float32Array | Int32Array {
    this.assertAlive("toArray");
    if (this.dtype === "f32" || this.dtype === "i32") return this.backend.download(this) as Float32Array | Int32Array;
    const tmp = Tensor.alloc(this.backend, this.shape, "f32", false);
    try {
      this.backend.cast(tmp, this);
      return this.backend.download(tmp) as Float32Array;
    } finally {
      tmp.dispose();
    }
  }

  /** The raw stored words, without conversion. */
  toHost(): HostArray {
    this.assertAlive("toHost");
    return this.backend.download(this);
  }

  item(): number {
    if (this.numel !== 1) throw new ShapeError(`item: tensor has ${this.numel} elements, expected 1 (shape ${formatShape(this.shape)})`);
    return this.toArray()[0]!;
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    this.storage.release();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    return `Tensor(${formatShape(this.shape)}, ${this.dtype}${this.requiresGrad ? ", requiresGrad" : ""}${this.isDisposed ? ", disposed" : ""})`;
  }
}
