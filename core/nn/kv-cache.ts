// Per-layer key/value cache for decoding. Keys are stored after RoPE, so a step only rotates its own
// tokens. Each layer keeps [B, capacity, Hkv, D] buffers that grow by doubling; a step writes its tokens
// in place (one row copy), and with one sequence (chat) attention reads a view of the filled prefix, so
// decoding copies nothing per step. With B > 1 the prefix is not contiguous and is compacted per step.
// The cache is for inference: nothing in it records gradients.

import * as ops from "../autograd/ops/index.ts";
import { noGrad } from "../autograd/tape.ts";
import { keep } from "../tensor/scope.ts";
import { formatShape } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";

interface LayerBuffers {
  k: Tensor;
  v: Tensor;
  /** Positions the buffers hold. */
  capacity: number;
}

export class KVCache {
  private readonly layers: (LayerBuffers | null)[];
  private seg: Tensor | null = null;
  private tokens = 0;
  /** Tokens of the step in progress (set by beginStep, committed by the last layer's append). */
  private pending = 0;

  constructor(readonly numLayers: number) {
    this.layers = new Array(numLayers).fill(null);
  }

  /** Tokens cached so far (the position of the next token when there is no padding). */
  get length(): number {
    return this.tokens;
  }

  /**
   * Starts a step of `newTokens` tokens and returns the segment ids of the whole sequence [B, length +
   * newTokens] (null when the sequence has none). A cache started with segment ids needs them every step.
   */
  beginStep(newTokens: number, segmentIds: Tensor | null): Tensor | null {
    if (this.pending) throw new Error("KVCache: a step is already in progress (a forward with this cache failed half-way?)");
    if (this.tokens > 0 && (segmentIds === null) !== (this.seg === null)) {
      throw new Error(
        `KVCache: segment ids must be given on every step or on none (this step ${segmentIds ? "has" : "has none"}, the cache ${this.seg ? "has" : "has none"})`,
      );
    }
    this.pending = newTokens;
    if (!segmentIds) return null;
    noGrad(() => {
      const next = this.seg ? ops.concat([this.seg, segmentIds], 1) : segmentIds.view(segmentIds.shape);
      this.seg?.dispose();
      this.seg = keep(next);
    });
    return this.seg;
  }

  /** Appends a layer's k, v [B, T, Hkv, D] for this step and returns that layer's whole k, v. */
  append(layer: number, k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
    if (layer < 0 || layer >= this.numLayers) throw new RangeError(`KVCache: layer ${layer} out of range (${this.numLayers} layers)`);
    const [B, T, H, D] = k.shape as [number, number, number, number];
    if (T !== this.pending) throw new Error(`KVCache: layer ${layer} appends ${formatShape(k.shape)} but the step has ${this.pending} tokens`);
    const len = this.tokens;
    let buf = this.layers[layer];
    if (buf && (buf.k.shape[0] !== B || buf.k.shape[2] !== H || buf.k.shape[3] !== D)) {
      throw new Error(`KVCache: layer ${layer} holds ${formatShape(buf.k.shape)}, cannot append ${formatShape(k.shape)}`);
    }
    if (!buf || len + T > buf.capacity) buf = this.grow(layer, k, Math.max(2 * (buf?.capacity ?? 0), len + T, 16));
    const row = H * D * 4;
    for (const [dst, src] of [
      [buf.k, k],
      [buf.v, v],
    ] as const)
      dst.backend.copyRows(dst, dst.byteOffset + len * row, buf.capacity * row, src, src.byteOffset, T * row, B, T * row);
    if (layer === this.numLayers - 1) {
      this.tokens += this.pending;
      this.pending = 0;
    }
    return { k: this.prefix(buf.k, buf.capacity, len + T), v: this.prefix(buf.v, buf.capacity, len + T) };
  }

  /** Buffers of a larger capacity holding what the layer had. */
  private grow(layer: number, like: Tensor, capacity: number): LayerBuffers {
    const [B, , H, D] = like.shape as [number, number, number, number];
    const old = this.layers[layer];
    const fresh = (prev: Tensor | undefined) => {
      const t = Tensor.alloc(like.backend, [B, capacity, H, D], "f32", false);
      const row = H * D * 4;
      if (prev && this.tokens > 0) t.backend.copyRows(t, 0, capacity * row, prev, 0, old!.capacity * row, B, this.tokens * row);
      prev?.dispose();
      return t;
    };
    const buf = { k: fresh(old?.k), v: fresh(old?.v), capacity };
    this.layers[layer] = buf;
    return buf;
  }

  /** The first n positions as [B, n, H, D]: a view when B = 1, else a compacted copy. */
  private prefix(buf: Tensor, capacity: number, n: number): Tensor {
    const [B, , H, D] = buf.shape as [number, number, number, number];
    if (B === 1) return buf.view([1, n, H, D]);
    const out = Tensor.alloc(buf.backend, [B, n, H, D], "f32");
    const row = H * D * 4;
    out.backend.copyRows(out, 0, n * row, buf, 0, capacity * row, B, n * row);
    return out;
  }

  /** Bytes held by the cache's buffers and segment ids. */
  get bytes(): number {
    let n = this.seg?.bytes ?? 0;
    for (const l of this.layers) n += (l?.k.bytes ?? 0) + (l?.v.bytes ?? 0);
    return n;
  }

  dispose(): void {
    for (const l of this.layers) {
      l?.k.dispose();
      l?.v.dispose();
    }
    this.layers.fill(null);
    this.seg?.dispose();
    this.seg = null;
    this.tokens = 0;
    this.pending = 0;
  }
}
