// The contract every family's model meets, and the steps every family's forward shares. A family file
// (plugins/models/<family>.ts) writes its blocks and its forward; CausalLM gives it the per-forward
// context (position ids, RoPE frequencies, segment ids, the cache step), the layer loop with
// activation checkpointing, and the last-position slice that generation asks for.
import * as ops from "../autograd/ops/index.ts";
import { isGradEnabled } from "../autograd/tape.ts";
import { tensor } from "../tensor/create.ts";
import { keep } from "../tensor/scope.ts";
import { formatShape, ShapeError } from "../tensor/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { AttentionContext } from "./attention.ts";
import type { KVCache } from "./kv-cache.ts";
import { Module } from "./module.ts";
import { recompute } from "./recompute.ts";
import { ropeDependsOnLength, ropeParameters } from "./rope.ts";
import type { ModelSpec } from "./spec.ts";

export interface ForwardOptions {
  /** [B, T] i32; default cache length + 0 .. T-1 for every row. */
  positionIds?: Tensor | null;
  /** [B, T] i32 for these tokens (left padding, packed samples): a token sees keys of its own id only. */
  segmentIds?: Tensor | null;
  /** Decoding: keys/values of earlier steps, extended by this call (inference only). */
  cache?: KVCache | null;
  /** Logits for each row's last position only, [B, 1, V] (what generation needs). */
  lastOnly?: boolean;
  /**
   * The final hidden states after the last norm, [B, T, hidden] ([B, 1, hidden] with lastOnly), instead
   * of logits: what a value head (reward model, PPO critic) reads.
   */
  hiddenOnly?: boolean;
}

/** One decoder layer as the layer loop sees it: hidden states in, hidden states out. */
export interface DecoderBlock extends Module {
  forward(x: Tensor, ctx: AttentionContext): Tensor;
}

/** The largest position id (given ids are read back to the host; dynamic NTK RoPE needs it). */
function maxPosition(pos: Tensor | null, fallback: number): number {
  if (!pos) return fallback;
  let m = 0;
  for (const p of pos.toArray()) if (p > m) m = p;
  return m;
}

export abstract class CausalLM<S extends ModelSpec = ModelSpec> extends Module {
  /** Recompute each decoder layer in backward instead of keeping its activations. */
  gradientCheckpointing = false;
  private staticInvFreq: Tensor | null = null;

  constructor(readonly spec: S) {
    super();
  }

  /** ids [B, T] i32 -> logits [B, T, vocab] f32 ([B, 1, vocab] with lastOnly; [B, T, hidden] with hiddenOnly). */
  abstract forward(ids: Tensor, opts?: ForwardOptions): Tensor;

  /**
   * The output matrix W [vocab, hidden] when logits are exactly hiddenOnly-states · Wᵀ (no bias, scale,
   * soft cap or adapter on the head): the loss then fuses the head with cross-entropy and never holds
   * the whole logits. null (the default): the loss runs forward's logits.
   */
  outputWeight(): Tensor | null {
    return null;
  }

  /** RoPE frequencies for a forward whose positions are below seqLen (only dynamic NTK depends on it). */
  private invFreq(seqLen: number): { invFreq: Tensor; attentionScaling: number } {
    if (ropeDependsOnLength(this.spec.rope)) {
      const p = ropeParameters(this.spec.rope, seqLen);
      return { invFreq: tensor(p.invFreq), attentionScaling: p.attentionScaling };
    }
    const p = ropeParameters(this.spec.rope);
    this.staticInvFreq ??= keep(tensor(p.invFreq));
    return { invFreq: this.staticInvFreq, attentionScaling: p.attentionScaling };
  }

  /** Checks ids [B, T] i32 and builds what every layer of this forward shares (and starts a cache step). */
  protected context(ids: Tensor, opts: ForwardOptions): AttentionContext {
    if (ids.ndim !== 2 || ids.dtype !== "i32") throw new ShapeError(`CausalLM.forward: ids must be [B, T] i32, got ${formatShape(ids.shape)} ${ids.dtype}`);
    const [B, T] = ids.shape as [number, number];
    const cache = opts.cache ?? null;
    const start = cache?.length ?? 0;
    const pos =
      opts.positionIds ??
      tensor(
        Int32Array.from({ length: B * T }, (_, i) => start + (i % T)),
        [B, T],
        { dtype: "i32" },
      );
    if (pos.dtype !== "i32" || pos.ndim !== 2 || pos.shape[0] !== B || pos.shape[1] !== T)
      throw new ShapeError(`CausalLM.forward: positionIds must be [${B}, ${T}] i32, got ${formatShape(pos.shape)} ${pos.dtype}`);
    const seqLen = ropeDependsOnLength(this.spec.rope) ? maxPosition(opts.positionIds ? pos : null, start + T - 1) + 1 : 0;
    const rope = this.invFreq(seqLen);
    const segmentIds = cache ? cache.beginStep(T, opts.segmentIds ?? null) : (opts.segmentIds ?? null);
    return { positionIds: pos, segmentIds, invFreq: rope.invFreq, attentionScaling: rope.attentionScaling, cache };
  }

  /** x through each layer in order; with gradientCheckpointing (training, no cache) each is recomputed in backward. */
  protected runLayers(layers: readonly DecoderBlock[], x: Tensor, ctx: AttentionContext): Tensor {
    const again = this.gradientCheckpointing && !ctx.cache && isGradEnabled();
    for (const layer of layers) {
      if (!again) {
        x = layer.forward(x, ctx);
        continue;
      }
      // Everything the block reads besides its weights is an input, so the recomputation sees live views.
      const { positionIds, invFreq, segmentIds } = ctx;
      const inputs = segmentIds ? [x, positionIds, invFreq, segmentIds] : [x, positionIds, invFreq];
      x = recompute((h, p, f, s) => layer.forward(h!, { ...ctx, positionIds: p!, invFreq: f!, segmentIds: s ?? null }), inputs, layer.parameters());
    }
    return x;
  }

  override dispose(): void {
    super.dispose();
    this.staticInvFreq?.dispose();
    this.staticInvFreq = null;
  }
}

/** x [B, T, hidden] -> [B, 1, hidden] at the last position when opts.lastOnly, else x. */
export function lastPositions(x: Tensor, opts: ForwardOptions): Tensor {
  const T = x.shape[1]!;
  return opts.lastOnly && T > 1 ? ops.slice(x, 1, T - 1, T) : x;
}
