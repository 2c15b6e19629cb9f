// LoraLinear: the adapter a LoRA method puts in a Linear's slot (mlx-lm's LoRALinear: `fromBase` wraps
// a layer, `fuse` folds the update back into it). Its parameters sit under the layer's path with PEFT's
// names (`...q_proj.lora_A.weight`, `...q_proj.lora_B.weight`, DoRA's `...q_proj.lora_magnitude_vector`).
//   LoRA:  y = base(x) + scale · B(A(dropout(x)))                      A [r, in], B [out, r]
//   DoRA:  y = base(x) + (f − 1) · W·x̃ + f · scale · B(A(x̃)),  x̃ = dropout(x),
//          f = m / ‖W + scale·B·A‖ (row norms, treated as a constant in backward, as PEFT and the paper do)
// which without dropout is f ⊙ (W + scale·B·A)·x + bias: exactly what `fuse` writes into the weight.
import {
  asF32,
  type Linear,
  type LinearAdapter,
  linearForward,
  MethodError,
  Module,
  noGrad,
  ops,
  type ParamSlot,
  type RandomStream,
  rand,
  randn,
  type Tensor,
  tensor,
  tidy,
  zeros,
} from "../../../core/index.ts";
import { pissaFactors } from "./pissa.ts";

/** kaiming: PEFT's default (A kaiming-uniform, B zero); gaussian: A ~ N(0, 1/r); pissa: SVD of W; none: zeros (a load fills them). */
export type LoraInit = "kaiming" | "gaussian" | "pissa" | "none";

export interface LoraLayerConfig {
  readonly rank: number;
  /** alpha / r, or alpha / sqrt(r) with rsLoRA. */
  readonly scale: number;
  readonly dropout: number;
  readonly dora: boolean;
}

export interface LoraInitOptions {
  readonly kind: LoraInit;
  readonly seed: bigint;
  /** Philox offset of this layer's draw (each layer its own range). */
  readonly offset: bigint;
  /** PiSSA: subspace iterations, negative for the exact SVD. */
  readonly pissaIter?: number;
}

/** State every adapter of one method shares: train mode and where dropout masks come from. */
export interface LoraRuntime {
  training: boolean;
  /** While true every adapter passes the base output through (the reference model of preference stages). */
  disabled: boolean;
  /** The named adapter set in use instead of the trained one (a reward adapter), or null (see LoraLinear.sets). */
  active: string | null;
  /** Bound by beginForward: masks are drawn once per forward pass (epoch) and reused by a recomputation. */
  bound: RandomStream | null;
  epoch: number;
  /** Used until beginForward binds a stream: every call draws fresh offsets. */
  readonly fallback: RandomStream;
  readonly model: { readonly gradientCheckpointing: boolean };
}

/** A parameter holder named like torch's nn.Linear without bias (`lora_A.weight`). */
class AdapterMatrix extends Module {
  private readonly slot: ParamSlot;
  constructor(shape: readonly number[]) {
    super();
    this.slot = this.declareParameter("weight", shape, "zeros");
  }
  get weight(): Tensor {
    return this.tensorOf(this.slot, "adapter matrix");
  }
}

export class LoraLinear extends Module implements LinearAdapter {
  readonly lora_A: AdapterMatrix;
  readonly lora_B: AdapterMatrix;
  private readonly magnitude: ParamSlot | null;
  /** PiSSA's starting A₀ and B₀: a saved adapter is rewritten against the original base with them. */
  pissaInitial: { readonly a: Float32Array; readonly b: Float32Array } | null = null;
  /** Frozen alternative A, B pairs by set name (a second adapter on the same base), used while runtime.active names one. */
  readonly sets = new Map<string, { readonly a: Tensor; readonly b: Tensor; readonly scale: number }>();
  private dropEpoch = -1;
  private dropOffset = 0n;
  private dropNumel = 0;

  private constructor(
    readonly base: Linear,
    readonly cfg: LoraLayerConfig,
    private readonly runtime: LoraRuntime,
  ) {
    super();
    this.lora_A = this.addModule("lora_A", new AdapterMatrix([cfg.rank, base.inFeatures]));
    this.lora_B = this.addModule("lora_B", new AdapterMatrix([base.outFeatures, cfg.rank]));
    this.magnitude = cfg.dora ? this.declareParameter("lora_magnitude_vector", [base.outFeatures], "ones") : null;
  }

  /** Wraps `base` (which must have no adapter): freezes it, initialises A, B (and for PiSSA the residual base), then attaches. */
  static fromBase(base: Linear, cfg: LoraLayerConfig, runtime: LoraRuntime, init: LoraInitOptions): LoraLinear {
    if (base.adapter) throw new MethodError("this linear layer already has an adapter");
    base.freeze();
    const lora = new LoraLinear(base, cfg, runtime);
    const { rank: r } = cfg;
    const [out, inF] = [base.outFeatures, base.inFeatures];
    const backend = base.backend;
    let a: Tensor;
    let b: Tensor;
    if (init.kind === "pissa") {
      const f = pissaFactors(base.weight.toArray(), out, inF, r, cfg.scale, init.pissaIter ?? -1, init.seed);
      a = tensor(f.a, [r, inF], { backend });
      b = tensor(f.b, [out, r], { backend });
      lora.pissaInitial = { a: f.a, b: f.b };
      base.setParameter("weight", tensor(f.residual, [out, inF], { dtype: base.weight.dtype, backend }))._unsafeUnwrap();
    } else {
      // kaiming_uniform_(a=sqrt(5)) on [r, in]: gain sqrt(2 / (1 + 5)) · sqrt(3 / in) = 1 / sqrt(in).
      const bound = 1 / Math.sqrt(inF);
      if (init.kind === "kaiming") a = rand([r, inF], { seed: init.seed, offset: init.offset, low: -bound, high: bound, backend });
      else if (init.kind === "gaussian") a = randn([r, inF], { seed: init.seed, offset: init.offset, std: 1 / r, backend });
      else a = zeros([r, inF], { backend });
      b = zeros([out, r], { backend });
    }
    lora.setParameter("lora_A.weight", a)._unsafeUnwrap();
    lora.setParameter("lora_B.weight", b)._unsafeUnwrap();
    // DoRA's magnitude starts at the row norms of the adapted weight, so the layer starts unchanged.
    if (lora.magnitude) lora.setParameter("lora_magnitude_vector", lora.weightNorm())._unsafeUnwrap();
    base.adapter = lora;
    return lora;
  }

  get magnitudeVector(): Tensor | null {
    return this.magnitude ? this.tensorOf(this.magnitude, "DoRA magnitude vector") : null;
  }

  /** ‖W + scale·B·A‖ per output row, [out], outside the graph. */
  weightNorm(): Tensor {
    return noGrad(() =>
      tidy(() => {
        const w = asF32(this.base.weight);
        const delta = ops.scale(ops.matmul(this.lora_B.weight, this.lora_A.weight), this.cfg.scale);
        const merged = ops.add(w, delta);
        const squares = ops.sumLastDim(ops.mul(merged, merged)).toArray();
        return tensor(
          Float32Array.from(squares, (s) => Math.sqrt(s)),
          [this.base.outFeatures],
          { backend: w.backend },
        );
      }),
    );
  }

  private dropoutOptions(numel: number): ops.DropoutOptions {
    const rt = this.runtime;
    const p = this.cfg.dropout;
    if (rt.bound) {
      if (this.dropEpoch !== rt.epoch) {
        this.dropEpoch = rt.epoch;
        this.dropOffset = rt.bound.offsetFor(numel);
        this.dropNumel = numel;
      } else if (numel !== this.dropNumel) {
        throw new MethodError(
          `LoRA dropout: this layer ran twice in one forward pass with inputs of ${this.dropNumel} and ${numel} elements; call beginForward before each forward pass`,
        );
      }
      return { p, seed: rt.bound.seed, offset: this.dropOffset };
    }
    if (rt.model.gradientCheckpointing) {
      throw new MethodError(
        "LoRA dropout with gradient checkpointing needs the masks fixed per forward pass: call beginForward(rng) before each forward (the recomputation must see the same masks)",
      );
    }
    return { p, seed: rt.fallback.seed, offset: rt.fallback.offsetFor(numel) };
  }

  /** x [..., in], baseOut = base(x) [..., out] -> [..., out] */
  forward(x: Tensor, baseOut: Tensor): Tensor {
    if (this.runtime.disabled) return baseOut;
    if (this.runtime.active !== null) {
      const set = this.sets.get(this.runtime.active);
      if (!set) return baseOut;
      return ops.addmm(baseOut, ops.matmul(x, set.a, { transB: true }), set.b, { transB: true, alpha: set.scale });
    }
    const { dropout, scale } = this.cfg;
    const dropped = dropout > 0 && this.runtime.training;
    const xd = dropped ? ops.dropout(x, this.dropoutOptions(x.numel)) : x;
    const ax = ops.matmul(xd, this.lora_A.weight, { transB: true });
    // base + scale · (A x) Bᵀ in one accumulating GEMM: no [..., out] temporary for B·A·x or its scaled copy.
    if (!this.magnitude) return ops.addmm(baseOut, ax, this.lora_B.weight, { transB: true, alpha: scale });
    const lora = ops.matmul(ax, this.lora_B.weight, { transB: true });
    const f = ops.div(this.magnitudeVector!, this.weightNorm());
    // W·x̃ without bias: recomputed on the dropped input, else read off the base output.
    const bias = this.base.bias;
    const wx = dropped ? linearForward(xd, this.base.weight) : bias ? ops.sub(baseOut, asF32(bias)) : baseOut;
    return ops.sub(ops.add(baseOut, ops.mul(ops.add(wx, ops.scale(lora, scale)), f)), wx);
  }

  /** W + scale·B·A, row-rescaled by m / ‖·‖ for DoRA: the fused weight as f32 values [out, in]. */
  mergedWeight(): Float32Array {
    const [out, inF, r] = [this.base.outFeatures, this.base.inFeatures, this.cfg.rank];
    const w = this.base.weight.toArray();
    const a = this.lora_A.weight.toArray();
    const b = this.lora_B.weight.toArray();
    const merged = new Float32Array(out * inF);
    const row = new Float64Array(inF);
    const m = this.magnitudeVector?.toArray() ?? null;
    for (let o = 0; o < out; o++) {
      row.fill(0);
      for (let i = 0; i < r; i++) {
        const bo = b[o * r + i]!;
        if (bo === 0) continue;
        for (let l = 0; l < inF; l++) row[l] = row[l]! + bo * a[i * inF + l]!;
      }
      let norm = 0;
      for (let l = 0; l < inF; l++) {
        row[l] = w[o * inF + l]! + this.cfg.scale * row[l]!;
        norm += row[l]! * row[l]!;
      }
      const f = m ? m[o]! / Math.sqrt(norm) : 1;
      for (let l = 0; l < inF; l++) merged[o * inF + l] = row[l]! * f;
    }
    return merged;
  }

  /** Folds the adapter into the base weight (kept in its storage dtype), detaches and frees it. */
  fuse(): void {
    const w = this.base.weight;
    const fused = tensor(this.mergedWeight(), w.shape, { dtype: w.dtype, backend: w.backend });
    this.base.setParameter("weight", fused)._unsafeUnwrap();
    this.base.adapter = null;
    this.dispose();
  }
}
