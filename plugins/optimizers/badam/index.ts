// `optimizer = badam`: BAdam (Luo et al. 2024), block coordinate descent with Adam. Option names and
// defaults are LLaMA-Factory's `badam_*` arguments without the prefix, so `lft import` maps them one
// to one. mode = layer trains one decoder layer at a time (layer.ts); mode = ratio a random share of
// every parameter's entries (ratio.ts). The inner Adam's betas and eps are the adamw plugin's options.
import { err, ok } from "neverthrow";
import type { OptimizerEntry, OptionSchema, OptionsOf, ParamGroup } from "../../../core/index.ts";
import { adamwOptions } from "../adamw.ts";
import { checkBelowOne } from "../entry-helpers.ts";
import { partitionBlocks, type SwitchMode } from "./blocks.ts";
import { BlockAdam } from "./layer.ts";
import { type MaskMode, maskSize, RatioAdam } from "./ratio.ts";

export { type BlockPartition, blockAt, partitionBlocks, permutation, type Schedule, type SwitchMode } from "./blocks.ts";
export { BlockAdam } from "./layer.ts";
export { type MaskMode, maskOf, maskSize, RatioAdam } from "./ratio.ts";

export const badamOptions = {
  mode: {
    type: "enum",
    values: ["layer", "ratio"],
    default: "layer",
    doc: "layer: one decoder layer trains at a time; ratio: a share of every weight's entries",
  },
  start_block: { type: "number", integer: true, min: 0, doc: "first block for mode = layer (default: 0, the last when descending, random when random)" },
  switch_mode: {
    type: "enum",
    values: ["ascending", "descending", "random", "fixed"],
    default: "ascending",
    doc: "order in which mode = layer visits the blocks",
  },
  switch_interval: { type: "number", integer: true, min: -1, default: 50, doc: "steps per block (ratio: per mask); -1 never switches" },
  update_ratio: { type: "number", min: 0, max: 1, default: 0.05, doc: "share of each weight's entries that mode = ratio updates" },
  mask_mode: { type: "enum", values: ["adjacent", "scatter"], default: "adjacent", doc: "mode = ratio: one contiguous run of entries, or scattered ones" },
  verbose: { type: "number", integer: true, min: 0, max: 2, default: 0, doc: "accepted for LLaMA-Factory configs; lft reports through its run events instead" },
  ...adamwOptions,
} as const satisfies OptionSchema;

type BAdamOptions = OptionsOf<typeof badamOptions>;

/** Seed of the random visiting order and of the ratio masks (fixed: runs are deterministic). */
const SEED = 42;

const numel = (ps: readonly { numel: number }[]) => ps.reduce((n, p) => n + p.numel, 0);

export const badamEntry: OptimizerEntry = {
  name: "badam",
  doc: "BAdam: block coordinate descent with Adam (one layer, or a share of each weight, at a time)",
  options: badamOptions,
  build(groups, { lr, options }) {
    const o = options as BAdamOptions;
    const betas = checkBelowOne("badam", o, ["beta1", "beta2"]);
    if (betas.isErr()) return err(betas.error);
    if (o.switch_interval === 0) return err(new Error(`optimizer "badam": switch_interval must be >= 1, or -1 to never switch; found 0`));
    const hyper = { beta1: o.beta1, beta2: o.beta2, eps: o.eps };
    if (o.mode === "ratio") {
      if (!(o.update_ratio > 1e-6)) return err(new Error(`optimizer "badam": update_ratio must be > 1e-6 for mode = ratio, found ${o.update_ratio}`));
      return ok(new RatioAdam(groups, lr, hyper, o.update_ratio, o.mask_mode as MaskMode, o.switch_interval, SEED));
    }
    const partition = partitionBlocks(groups.flatMap((g) => g.names));
    if (partition.isErr()) return err(partition.error);
    const count = partition.value.blocks.length;
    const start = o.start_block ?? null;
    if (start !== null && start >= count)
      return err(new Error(`optimizer "badam": start_block is ${start} but the model has ${count} blocks (0-${count - 1})`));
    const schedule = { blockCount: count, mode: o.switch_mode as SwitchMode, start, interval: o.switch_interval, seed: SEED };
    return ok(new BlockAdam(groups, lr, hyper, partition.value, schedule));
  },
  // layer: two f32 moments for the largest block (only the active one holds state);
  // ratio: two f32 moments per selected entry of every parameter but the embeddings.
  stateBytes(groups: readonly ParamGroup[], options) {
    const params = groups.flatMap((g) => g.params);
    const names = groups.flatMap((g) => g.names);
    if (options.mode === "ratio") return 8 * params.reduce((n, p, i) => n + (/embed/.test(names[i]!) ? 0 : maskSize(p.numel, Number(options.update_ratio))), 0);
    const partition = partitionBlocks(names);
    if (partition.isErr()) return 0;
    return 8 * Math.max(...partition.value.blocks.map((b) => numel(b.map((i) => params[i]!))));
  },
  // layer: only the active block has requiresGrad on, so backward keeps the largest block's gradients at most.
  gradientBytes(groups: readonly ParamGroup[], options) {
    const params = groups.flatMap((g) => g.params);
    if (options.mode === "ratio") return 4 * numel(params);
    const partition = partitionBlocks(groups.flatMap((g) => g.names));
    if (partition.isErr()) return 4 * numel(params);
    return 4 * Math.max(...partition.value.blocks.map((b) => numel(b.map((i) => params[i]!))));
  },
};
