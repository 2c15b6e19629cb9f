// LayerNorm as a module for the families that use it instead of RMSNorm: StarCoder 2's nn.LayerNorm (weight
// and bias) and Cohere's CohereLayerNorm (weight only, mean-centred). Normalises over the last dim; the
// weight may span more dims than that (Cohere's per-head q/k norms keep one [heads, head_dim] weight).
import { asF32, full, keep, Module, ops, type ParamSlot, type Tensor } from "../../core/index.ts";

export interface LayerNormOptions {
  /** added to the (biased) variance */
  eps: number;
  /** a learned bias of the weight's shape (nn.LayerNorm's); false for CohereLayerNorm */
  bias: boolean;
}

export class LayerNorm extends Module {
  private readonly w: ParamSlot;
  private readonly b: ParamSlot | null;
  readonly eps: number;
  /** ones and zeros over the last dim, for what the fused op needs but the weights do not supply */
  private constants: { ones: Tensor; zeros: Tensor } | null = null;

  constructor(
    /** the weight's shape; its last dim is the one normalised */
    readonly shape: readonly number[],
    opts: LayerNormOptions,
  ) {
    super();
    this.eps = opts.eps;
    this.w = this.declareParameter("weight", shape, "ones");
    this.b = opts.bias ? this.declareParameter("bias", shape, "zeros") : null;
  }

  private get dim(): number {
    return this.shape[this.shape.length - 1]!;
  }

  private constant(which: "ones" | "zeros"): Tensor {
    this.constants ??= { ones: keep(full([this.dim], 1)), zeros: keep(full([this.dim], 0)) };
    return this.constants[which];
  }

  /** x [..., dim] (with the weight's leading dims as x's trailing ones) -> same shape */
  forward(x: Tensor): Tensor {
    const w = asF32(this.tensorOf(this.w, "layer norm weight"));
    const b = this.b ? asF32(this.tensorOf(this.b, "layer norm bias")) : null;
    if (this.shape.length === 1) return ops.layerNorm(x, w, b ?? this.constant("zeros"), { eps: this.eps });
    // A weight over several dims: normalise plainly, then scale (and shift) with the weight broadcast.
    const y = ops.mul(ops.layerNorm(x, this.constant("ones"), this.constant("zeros"), { eps: this.eps }), w);
    return b ? ops.add(y, b) : y;
  }

  override dispose(): void {
    super.dispose();
    this.constants?.ones.dispose();
    this.constants?.zeros.dispose();
    this.constants = null;
  }
}
