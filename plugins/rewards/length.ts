// `length`: closeness of a completion's length to a target, 1 at the target falling linearly to 0 at
// `tolerance` away (in tokens or characters); a simple shaping reward and a way to test RL plumbing.
import type { OptionSchema, RewardEntry } from "../../core/index.ts";

export const lengthOptions = {
  target: { type: "number", min: 0, required: true, doc: "the wanted completion length" },
  tolerance: { type: "number", min: 0, default: 0, doc: "lengths this far from the target score 0 (0: the target itself)" },
  unit: { type: "enum", values: ["tokens", "chars"], default: "tokens", doc: "what length counts (tokens include the EOS)" },
} as const satisfies OptionSchema;

export function lengthScore(length: number, target: number, tolerance: number): number {
  const off = Math.abs(length - target);
  if (tolerance <= 0) return off === 0 ? 1 : 0;
  return Math.max(0, 1 - off / tolerance);
}

export const lengthReward: RewardEntry = {
  name: "length",
  doc: "1 when the completion has `target` tokens (or chars), falling linearly to 0 at `tolerance` away",
  options: lengthOptions,
  score(input, o) {
    const target = Number(o.target);
    const tolerance = Number(o.tolerance ?? 0);
    const lengths = o.unit === "chars" ? input.completions.map((c) => c.length) : input.completionTokens;
    return lengths.map((n) => lengthScore(n, target, tolerance));
  },
};
