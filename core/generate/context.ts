// How many positions a model can attend over: max_position_embeddings, stretched by the rope_scaling
// types whose config keeps the pre-scaling length there (linear and dynamic NTK multiply it by their
// factor; llama3, yarn and longrope configs already state the extended length). Prompt plus generated tokens
// stay within it, at the recipe's check and at generation.
import type { RopeSpec } from "../nn/rope.ts";

/** The longest sequence (prompt + generated tokens) the model's positions cover. */
export function contextLength(rope: Pick<RopeSpec, "maxPositionEmbeddings" | "scaling"> | undefined): number {
  // A model without positions (a test double) is not bounded here.
  if (rope === undefined || !(rope.maxPositionEmbeddings > 0)) return Number.POSITIVE_INFINITY;
  const s = rope.scaling;
  const factor = (s?.type === "linear" || s?.type === "dynamic") && Number.isFinite(s.factor) && s.factor > 1 ? s.factor : 1;
  return Math.floor(rope.maxPositionEmbeddings * factor);
}

/** The same from a config.json object (for checks that read the config without building a model). */
export function contextLengthOfConfig(config: Readonly<Record<string, unknown>>): number | undefined {
  const max = config.max_position_embeddings;
  if (typeof max !== "number" || !Number.isSafeInteger(max) || max <= 0) return undefined;
  const scaling = config.rope_scaling as { type?: unknown; rope_type?: unknown; factor?: unknown } | null | undefined;
  const type = scaling?.rope_type ?? scaling?.type;
  const factor = typeof scaling?.factor === "number" ? scaling.factor : 1;
  return type === "linear" || type === "dynamic" ? contextLength({ maxPositionEmbeddings: max, scaling: { type, factor } }) : max;
}
