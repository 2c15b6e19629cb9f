// RoPE inverse frequencies with the `rope_scaling` variants of HF's modeling_rope_utils: default,
// linear, dynamic (NTK), llama3, YaRN and LongRoPE. Computed in double and rounded once to f32.
import { ropeInvFreq } from "../autograd/ops/rope.ts";

export type RopeScaling =
  /** `_compute_linear_scaling_rope_parameters`: inv_freq / factor */
  | { type: "linear"; factor: number }
  /** `_compute_dynamic_ntk_parameters`: the base grows with the sequence once it passes maxPositionEmbeddings */
  | { type: "dynamic"; factor: number }
  /** `_compute_llama3_parameters`: long wavelengths divided by factor, short kept, a smooth ramp between */
  | { type: "llama3"; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number }
  /**
   * `_compute_longrope_parameters` (HF's `longrope`, formerly `su`): inv_freq / short_factor[i] while
   * the sequence fits originalMaxPositionEmbeddings, / long_factor[i] beyond; cos and sin (the rotated
   * dims only) are multiplied by attentionFactor, which the family resolves from its config.
   */
  /**
   * `_compute_yarn_parameters`: frequencies interpolated (/ factor) below the correction range set by
   * betaFast/betaSlow rotations over originalMaxPositionEmbeddings, kept above it, a linear ramp between
   * (its ends floored/ceiled when `truncate`); cos and sin times attentionFactor, which the config
   * reader resolves (given, or from mscale/mscale_all_dim, or 0.1 ln(factor) + 1).
   */
  | { type: "yarn"; factor: number; originalMaxPositionEmbeddings: number; betaFast: number; betaSlow: number; truncate: boolean; attentionFactor: number }
  | { type: "longrope"; shortFactor: readonly number[]; longFactor: readonly number[]; originalMaxPositionEmbeddings: number; attentionFactor: number };

export interface RopeSpec {
  /** rope_theta */
  theta: number;
  /** Dims rotated per head: head_dim * partial_rotary_factor (even). */
  rotaryDim: number;
  /** max_position_embeddings (dynamic NTK's threshold). */
  maxPositionEmbeddings: number;
  scaling: RopeScaling | null;
}

export interface RopeParameters {
  invFreq: Float32Array;
  /** HF's attention_factor, multiplying cos and sin (1 for every type here but LongRoPE). */
  attentionScaling: number;
}

/** Whether the frequencies depend on the sequence length (then they are recomputed per forward). */
export function ropeDependsOnLength(spec: RopeSpec): boolean {
  return spec.scaling?.type === "dynamic" || spec.scaling?.type === "longrope";
}

/**
 * The inverse frequencies for a forward whose largest position id is seqLen - 1. Only `dynamic` and
 * `longrope` read seqLen: HF recomputes it from max(position_ids) + 1, which this matches for a fresh model
 * and for cached decoding (its cache of the largest length seen only differs after a longer earlier call).
 */
export function ropeParameters(spec: RopeSpec, seqLen = spec.maxPositionEmbeddings): RopeParameters {
  const dim = spec.rotaryDim;
  const s = spec.scaling;
  if (!s) return { invFreq: ropeInvFreq(dim, spec.theta), attentionScaling: 1 };
  switch (s.type) {
    case "linear": {
      const inv = defaultInvFreq(dim, spec.theta).map((f) => f / s.factor);
      return { invFreq: Float32Array.from(inv), attentionScaling: 1 };
    }
    case "dynamic": {
      const max = spec.maxPositionEmbeddings;
      const len = Math.max(seqLen, max);
      const base = spec.theta * ((s.factor * len) / max - (s.factor - 1)) ** (dim / (dim - 2));
      return { invFreq: Float32Array.from(defaultInvFreq(dim, base)), attentionScaling: 1 };
    }
    case "llama3": {
      const old = s.originalMaxPositionEmbeddings;
      const lowWavelen = old / s.lowFreqFactor;
      const highWavelen = old / s.highFreqFactor;
      const inv = defaultInvFreq(dim, spec.theta).map((f) => {
        const wavelen = (2 * Math.PI) / f;
        if (wavelen < highWavelen) return f;
        if (wavelen > lowWavelen) return f / s.factor;
        const smooth = (old / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        return ((1 - smooth) * f) / s.factor + smooth * f;
      });
      return { invFreq: Float32Array.from(inv), attentionScaling: 1 };
    }
    case "yarn": {
      const correction = (rotations: number) => (dim * Math.log(s.originalMaxPositionEmbeddings / (rotations * 2 * Math.PI))) / (2 * Math.log(spec.theta));
      let low = correction(s.betaFast);
      let high = correction(s.betaSlow);
      if (s.truncate) [low, high] = [Math.floor(low), Math.ceil(high)];
      low = Math.max(low, 0);
      high = Math.min(high, dim - 1);
      if (low === high) high += 0.001;
      const inv = defaultInvFreq(dim, spec.theta).map((f, i) => {
        // The share of the unscaled (extrapolated) frequency: 1 below the ramp, 0 above it.
        const keep = 1 - Math.min(1, Math.max(0, (i - low) / (high - low)));
        return (f / s.factor) * (1 - keep) + f * keep;
      });
      return { invFreq: Float32Array.from(inv), attentionScaling: s.attentionFactor };
    }
    case "longrope": {
      const ext = seqLen > s.originalMaxPositionEmbeddings ? s.longFactor : s.shortFactor;
      const inv = defaultInvFreq(dim, spec.theta).map((f, i) => f / ext[i]!);
      return { invFreq: Float32Array.from(inv), attentionScaling: s.attentionFactor };
    }
  }
}

/** theta^(-2i/dim) in double, i < dim/2. */
function defaultInvFreq(dim: number, theta: number): number[] {
  return Array.from({ length: dim / 2 }, (_, i) => 1 / theta ** ((2 * i) / dim));
}
