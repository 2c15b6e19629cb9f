// `optimizer = apollo` (Zhu et al. 2024, "APOLLO: SGD-like memory, AdamW-level performance", as
// LLaMA-Factory's use_apollo): Adam moments of a random (or SVD) projection R of the gradient G give
// scaling factors s = ‖N‖/(‖R‖ + 1e-8) per channel (or for the whole tensor), with N = M/(√V + ε) the
// low-rank Adam update; the update is the full-rank G·s, passed through Fira's norm-growth limiter
// (an update's norm may grow at most 1.01× over the last) and multiplied by √scale (before the
// limiter when scale_front). Channels are the rows of the projected side (columns when R is
// [r, n], rows when [m, r]); where they do not line up with G (an explicit proj_type on the
// "wrong" side with r = min(m, n)) the factor is tensor-wise. APOLLO-Mini is rank = 1,
// scale_type = tensor (and scale = 128 in the paper). Options are LF's apollo_* names without the prefix.
import type { OptimizerEntry, OptionSchema, OptionsOf } from "../../../core/index.ts";
import { svdProjection } from "../galore/svd-projection.ts";
import { type DirectionInput, LowRankAdamW, type LowRankVariant, lowRankStateBytes } from "../lowrank/lowrank-adamw.ts";
import { lowRankConflicts, lowRankOptions, lowRankSettings } from "../lowrank/options.ts";
import { lowShape, type Side } from "../lowrank/projection.ts";
import { type ApolloProjType, apolloProjTypes, apolloSide, randomProjection } from "./random-projection.ts";

export const apolloOptions = {
  ...lowRankOptions,
  scale: { type: "number", min: 0, default: 32, doc: "the update is multiplied by √scale (LF: apollo_scale)" },
  proj: { type: "enum", values: ["random", "svd"], default: "random", doc: "projection: seeded Gaussian (random) or the gradient's SVD (LF: apollo_proj)" },
  proj_type: { type: "enum", values: apolloProjTypes, default: "std", doc: "which side is projected: std, right or left (LF: apollo_proj_type)" },
  scale_type: {
    type: "enum",
    values: ["channel", "tensor"],
    default: "channel",
    doc: "scaling factor per channel or for the whole tensor (LF: apollo_scale_type)",
  },
  scale_front: { type: "boolean", default: false, doc: "apply √scale before the norm-growth limiter (LF: apollo_scale_front)" },
} as const satisfies OptionSchema;

export type ApolloOptions = OptionsOf<typeof apolloOptions>;

const norm2 = (x: Float64Array): number => Math.sqrt(x.reduce((s, v) => s + v * v, 0));

/** The factor for each element of G [m, n] (rows, columns or one for all). */
function scalingFactors(x: DirectionInput, side: Side, channel: boolean): (i: number, j: number) => number {
  const { norm, low, m, n, state } = x;
  const [a, b] = lowShape(side, m, n, state.r);
  if (channel) {
    // torch.norm over dim 0 when the projected matrix is wider than tall, else over dim 1.
    if (a < b && b === n) {
      const f = new Float64Array(b);
      for (let j = 0; j < b; j++) {
        let sn = 0;
        let sl = 0;
        for (let i = 0; i < a; i++) {
          sn += norm[i * b + j]! ** 2;
          sl += low[i * b + j]! ** 2;
        }
        f[j] = Math.sqrt(sn) / (Math.sqrt(sl) + 1e-8);
      }
      return (_i, j) => f[j]!;
    }
    if (a >= b && a === m) {
      const f = new Float64Array(a);
      for (let i = 0; i < a; i++) {
        let sn = 0;
        let sl = 0;
        for (let j = 0; j < b; j++) {
          sn += norm[i * b + j]! ** 2;
          sl += low[i * b + j]! ** 2;
        }
        f[i] = Math.sqrt(sn) / (Math.sqrt(sl) + 1e-8);
      }
      return (i) => f[i]!;
    }
  }
  const t = norm2(norm) / (norm2(low) + 1e-8);
  return () => t;
}

export function apolloVariant(o: Pick<ApolloOptions, "proj" | "proj_type" | "scale" | "scale_type" | "scale_front">): LowRankVariant {
  const root = Math.sqrt(o.scale);
  return {
    kind: "apollo",
    side: (m, n) => apolloSide(o.proj_type as ApolloProjType, m, n),
    projection: o.proj === "svd" ? svdProjection : randomProjection,
    direction: (x) => {
      const { grad, m, n, state } = x;
      const factor = scalingFactors(x, state.side, o.scale_type === "channel");
      const out = new Float64Array(m * n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[i * n + j] = grad[i * n + j]! * factor(i, j);
      if (o.scale_front) for (let i = 0; i < out.length; i++) out[i] = out[i]! * root;
      const size = norm2(out);
      if (state.limiter === null) state.limiter = size;
      else {
        const limiter = Math.max(size / (state.limiter + 1e-8), 1.01) / 1.01;
        for (let i = 0; i < out.length; i++) out[i] = out[i]! / limiter;
        state.limiter = size / limiter;
      }
      if (!o.scale_front) for (let i = 0; i < out.length; i++) out[i] = out[i]! * root;
      return out;
    },
  };
}

export const apolloEntry: OptimizerEntry = {
  name: "apollo",
  doc: "APOLLO: channel-wise AdamW scaling from a random low-rank projection (SGD-like memory), AdamW elsewhere",
  options: apolloOptions,
  build(groups, settings) {
    const o = settings.options as ApolloOptions;
    return lowRankSettings("apollo", o, settings).map((s) => new LowRankAdamW(groups, s, apolloVariant(o)));
  },
  stateBytes: (groups, options) => {
    const o = options as ApolloOptions;
    return lowRankStateBytes(groups, { side: (m, n) => apolloSide((o.proj_type ?? "std") as ApolloProjType, m, n) }, o.rank ?? 16, o.target ?? "all");
  },
  conflicts: (use) => lowRankConflicts("apollo", use),
};
