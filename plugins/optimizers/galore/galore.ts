// `optimizer = galore` (Zhao et al. 2024, as LLaMA-Factory's use_galore): Adam in the gradient's
// top-r singular subspace for targeted 2-D weights, the update projected back and multiplied by
// `scale`; AdamW for every other parameter. Options are LF's galore_* names without the prefix.
import type { OptimizerEntry, OptionSchema, OptionsOf } from "../../../core/index.ts";
import { LowRankAdamW, type LowRankVariant, lowRankStateBytes } from "../lowrank/lowrank-adamw.ts";
import { lowRankConflicts, lowRankOptions, lowRankSettings } from "../lowrank/options.ts";
import { projectBack } from "../lowrank/projection.ts";
import { type GaloreProjType, galoreProjTypes, galoreSide, svdProjection } from "./svd-projection.ts";

export const galoreOptions = {
  ...lowRankOptions,
  scale: { type: "number", min: 0, default: 2, doc: "multiplies the projected-back update (LF: galore_scale)" },
  proj_type: {
    type: "enum",
    values: galoreProjTypes,
    default: "std",
    doc: "which side is projected: std, reverse_std, right, left or full (LF: galore_proj_type)",
  },
} as const satisfies OptionSchema;

export type GaloreOptions = OptionsOf<typeof galoreOptions>;

export function galoreVariant(projType: GaloreProjType, scale: number): LowRankVariant {
  return {
    kind: "galore",
    side: (m, n) => galoreSide(projType, m, n),
    projection: svdProjection,
    direction: ({ norm, m, n, projection }) => {
      const back = projectBack(norm, m, n, projection);
      for (let i = 0; i < back.length; i++) back[i] = back[i]! * scale;
      return back;
    },
  };
}

export const galoreEntry: OptimizerEntry = {
  name: "galore",
  doc: "GaLore: Adam moments in the gradient's top-r SVD subspace for Linear weights, AdamW elsewhere",
  options: galoreOptions,
  build(groups, settings) {
    const o = settings.options as GaloreOptions;
    return lowRankSettings("galore", o, settings).map((s) => new LowRankAdamW(groups, s, galoreVariant(o.proj_type, o.scale)));
  },
  stateBytes: (groups, options) => {
    const o = options as GaloreOptions;
    return lowRankStateBytes(groups, { side: (m, n) => galoreSide(o.proj_type ?? "std", m, n) }, o.rank ?? 16, o.target ?? "all");
  },
  conflicts: (use) => lowRankConflicts("galore", use),
};
