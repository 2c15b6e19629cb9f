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
import type { AttentionContext, RotaryFrequencies } from "./attention.ts";
import type { AuxiliaryLoss } from "./auxiliary-loss.ts";
import type { KVCache } from "./kv-cache.ts";
import { Module } from "./module.ts";
import { recompute } from "./recompute.ts";
import { type RopeSpec, ropeDependsOnLength, ropeParameters } from "./rope.ts";
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
  /** A loss term the model's modules record during training forwards (MoE load balancing); null when it has none. */
  auxiliaryLoss: AuxiliaryLoss | null = null;
  /** Frequencies that do not depend on the length, by RoPE key ("" = spec.rope), made once. */
  private readonly staticInvFreq = new Map<string, Tensor>();

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

  /**
   * Whether outputWeight() gives the head (logits exactly hidden · Wᵀ), answered from the module tree alone
   * (no weights needed): the memory planner asks it of a model it never loads.
   */
  plainHead(): boolean {
    return false;
  }

  /** Every RoPE of the spec by key: "" is spec.rope, the others its ropeVariants. */
  private ropes(): [string, RopeSpec][] {
    return [["", this.spec.rope], ...Object.entries(this.spec.ropeVariants ?? {})];
  }

  /** One RoPE's frequencies for a forward whose positions are below seqLen (only dynamic NTK and LongRoPE read it). */
  private frequencies(key: string, rope: RopeSpec, seqLen: number): RotaryFrequencies {
    if (ropeDependsOnLength(rope)) {
      const p = ropeParameters(rope, seqLen);
      return { invFreq: tensor(p.invFreq), attentionScaling: p.attentionScaling };
    }
    const p = ropeParameters(rope);
    let invFreq = this.staticInvFreq.get(key);
    if (!invFreq) {
      invFreq = keep(tensor(p.invFreq));
      this.staticInvFreq.set(key, invFreq);
    }
    return { invFreq, attentionScaling: p.attentionScaling };
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
    const ropes = this.ropes();
    const seqLen = ropes.some(([, r]) => ropeDependsOnLength(r)) ? maxPosition(opts.positionIds ? pos : null, start + T - 1) + 1 : 0;
    const [main, ...variants] = ropes.map(([key, r]) => [key, this.frequencies(key, r, seqLen)] as const);
    const segmentIds = cache ? cache.beginStep(T, opts.segmentIds ?? null) : (opts.segmentIds ?? null);
    const ctx: AttentionContext = { positionIds: pos, segmentIds, ...main![1], cache };
    return variants.length ? { ...ctx, ropeVariants: Object.fromEntries(variants) } : ctx;
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
      const { inputs, rebuild } = contextTensors(ctx);
      x = recompute((h, ...rest) => layer.forward(h!, rebuild(rest)), [x, ...inputs], layer.parameters());
    }
    return x;
  }

  override dispose(): void {
    super.dispose();
    for (const t of this.staticInvFreq.values()) t.dispose();
    this.staticInvFreq.clear();
  }
}

/**
 * The tensors of a context (positions, every RoPE's frequencies, segment ids) as a list, and the context
 * rebuilt around other tensors in the same order: what a recomputed layer takes as inputs.
 */
function contextTensors(ctx: AttentionContext): { inputs: Tensor[]; rebuild: (t: (Tensor | undefined)[]) => AttentionContext } {
  const variants = Object.entries(ctx.ropeVariants ?? {});
  const inputs = [ctx.positionIds, ctx.invFreq, ...variants.map(([, r]) => r.invFreq), ...(ctx.segmentIds ? [ctx.segmentIds] : [])];
  const rebuild = (t: (Tensor | undefined)[]): AttentionContext => {
    const out: AttentionContext = { ...ctx, positionIds: t[0]!, invFreq: t[1]!, segmentIds: ctx.segmentIds ? t[2 + variants.length]! : null };
    if (variants.length) out.ropeVariants = Object.fromEntries(variants.map(([key, r], i) => [key, { ...r, invFreq: t[2 + i]! }]));
    return out;
  };
  return { inputs, rebuild };
}

/** x [B, T, hidden] -> [B, 1, hidden] at the last position when opts.lastOnly, else x. */
export function lastPositions(x: Tensor, opts: ForwardOptions): Tensor {
  const T = x.shape[1]!;
  return opts.lastOnly && T > 1 ? ops.slice(x, 1, T - 1, T) : x;
}
