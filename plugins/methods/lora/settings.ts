// A LoRA adapter's settings as one value (what a recipe's options and a PEFT adapter_config.json both
// map to), its scaling rule (plain or rsLoRA) and the checks the option schema cannot express.
import type { LoraInit } from "./lora-linear.ts";

export interface LoraSettings {
  readonly rank: number;
  readonly alpha: number;
  readonly dropout: number;
  /** Module names (PEFT target_modules as a list); `all` must already be expanded. */
  readonly targets: readonly string[];
  /** A PEFT config's string target_modules: one regular expression over whole module paths (wins over `targets`). */
  readonly targetPattern?: string;
  readonly rslora: boolean;
  readonly dora: boolean;
  readonly init: LoraInit;
  /** PiSSA: subspace iterations (negative: exact SVD). */
  readonly pissaIter: number;
  /** LoRA+: B matrices train at lr × this; null: off. */
  readonly loraplusRatio: number | null;
  /** Modules trained fully and saved with the adapter (PEFT's modules_to_save). */
  readonly additionalTargets: readonly string[];
}

/** The update's multiplier: alpha / r, or alpha / sqrt(r) with rsLoRA (Kalajdzievski 2023). */
export function loraScale(alpha: number, rank: number, rslora: boolean): number {
  return rslora ? alpha / Math.sqrt(rank) : alpha / rank;
}

export interface AdapterTargets {
  readonly adapterTargets: readonly string[];
}

/** Problems with settings that the option schema cannot express. */
export function settingProblems(s: LoraSettings): string[] {
  const p: string[] = [];
  if (!(Number.isInteger(s.rank) && s.rank >= 1)) p.push(`rank must be an integer >= 1, found ${s.rank}`);
  if (!(Number.isFinite(s.alpha) && s.alpha > 0)) p.push(`alpha must be > 0, found ${s.alpha}`);
  if (!(s.dropout >= 0 && s.dropout < 1)) p.push(`dropout must be in [0, 1), found ${s.dropout}`);
  if (s.loraplusRatio !== null && !(Number.isFinite(s.loraplusRatio) && s.loraplusRatio > 0)) p.push(`loraplus_lr_ratio must be > 0, found ${s.loraplusRatio}`);
  if (s.targetPattern === undefined && s.targets.length === 0) p.push("targets is empty: name the linear layers to adapt (or all)");
  return p;
}
