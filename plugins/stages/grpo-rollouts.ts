// GRPO's batch source (StageEntry.batches): each micro-batch takes `batch` prompts from the shuffled
// prompt samples, samples `group` completions per prompt from the policy, scores them with the reward
// function, turns the scores into group-relative advantages and records the old-policy and reference
// log-probs. With num_iterations > 1 the same rollout feeds that many micro-batches. Its state (prompt
// cursor, rollout counter, a rollout still in use) is checkpointed, so a resumed run continues exactly.
import { err, ok, type Result } from "neverthrow";
import {
  type Batch,
  type JsonValue,
  type PromptSample,
  type ResolvedOptions,
  type ResumableBatches,
  type RewardEntry,
  type StageBatchesInput,
  shuffledBatches,
  validateOptions,
} from "../../core/index.ts";
import { groupAdvantages } from "./grpo-loss.ts";
import { policyLogProbs, referenceLogProbs, type SequenceBatch, sampleCompletions, sequenceBatch } from "./rollout.ts";

/** A rollout as the loss reads it. */
export interface RolloutBatch extends SequenceBatch {
  readonly advantages: Float64Array;
  readonly oldLogps: Float32Array | null;
  readonly refLogps: Float32Array | null;
  /** Rollout metrics (reward/mean, reward/std, completions/mean_length, ...). */
  readonly rolloutMetrics: Readonly<Record<string, number>>;
}

export interface GrpoSourceSettings {
  readonly group: number;
  readonly maxNewTokens: number;
  readonly temperature: number;
  readonly topP: number;
  readonly topK: number;
  readonly beta: number;
  readonly numIterations: number;
  readonly scaleRewards: boolean;
}

/** The reward entry the options name, with its own options validated. */
export function rewardFor(input: StageBatchesInput): Result<{ entry: RewardEntry; options: ResolvedOptions }, Error> {
  const name = input.options.reward;
  if (typeof name !== "string") return err(new Error("grpo needs a reward function: reward = exact_match (or regex, length, a plugin's)"));
  const entry = input.registry.get("rewards", name);
  if (entry.isErr()) return err(entry.error);
  const own = Object.fromEntries(
    Object.keys(entry.value.options ?? {})
      .filter((k) => input.options[k] !== undefined)
      .map((k) => [k, input.options[k]]),
  );
  const options = validateOptions(entry.value.options ?? {}, own, `reward ${name}`);
  if (options.isErr()) return err(new Error(options.error.map((e) => e.message).join("; ")));
  return ok({ entry: entry.value, options: options.value as ResolvedOptions });
}

function std(xs: readonly number[]): number {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / Math.max(xs.length - 1, 1));
}

/** Float arrays to and from checkpoint JSON (float32 values print and parse back exactly). */
const saveFloats = (a: ArrayLike<number> | null): JsonValue => (a === null ? null : Array.from(a));
const loadF32 = (v: unknown): Float32Array | null => (Array.isArray(v) ? Float32Array.from(v as number[]) : null);

function saveRollout(r: RolloutBatch): JsonValue {
  return {
    batchSize: r.batchSize,
    seqLen: r.seqLen,
    completionStart: r.completionStart,
    inputIds: Array.from(r.inputIds),
    labels: Array.from(r.labels),
    attentionMask: Array.from(r.attentionMask),
    positionIds: Array.from(r.positionIds),
    segmentIds: saveFloats(r.segmentIds),
    advantages: Array.from(r.advantages),
    oldLogps: saveFloats(r.oldLogps),
    refLogps: saveFloats(r.refLogps),
    rolloutMetrics: { ...r.rolloutMetrics },
  };
}

function loadRollout(v: JsonValue): RolloutBatch {
  const o = v as Record<string, unknown>;
  const i32 = (k: string) => Int32Array.from(o[k] as number[]);
  return {
    batchSize: o.batchSize as number,
    seqLen: o.seqLen as number,
    completionStart: o.completionStart as number,
    inputIds: i32("inputIds"),
    labels: i32("labels"),
    attentionMask: i32("attentionMask"),
    positionIds: i32("positionIds"),
    segmentIds: o.segmentIds === null ? null : i32("segmentIds"),
    advantages: Float64Array.from(o.advantages as number[]),
    oldLogps: loadF32(o.oldLogps),
    refLogps: loadF32(o.refLogps),
    rolloutMetrics: o.rolloutMetrics as Record<string, number>,
  };
}

export function grpoBatches(input: StageBatchesInput, s: GrpoSourceSettings): Result<ResumableBatches<Batch>, Error> {
  const reward = rewardFor(input);
  if (reward.isErr()) return err(reward.error);
  if (s.beta !== 0 && !input.method.withAdaptersDisabled) {
    return err(
      new Error(`beta = ${s.beta} needs a reference model, but method ${input.method.method} cannot switch its changes off; use method lora, or set beta = 0`),
    );
  }
  if (input.samples.length === 0) return err(new Error("grpo: no prompt samples"));
  const { model, method, tokenizer, padId, eosTokenIds } = input;
  const prompts = shuffledBatches(input.samples as readonly PromptSample[], { batchSize: input.batchSize, seed: input.seed });
  const eos = new Set(eosTokenIds);
  let rollouts = 0;
  let buffered: { batch: RolloutBatch; used: number } | null = null;

  const rollout = (samples: readonly PromptSample[]): RolloutBatch => {
    const seed = BigInt(input.seed) * 1_000_003n + BigInt(rollouts) + 1n;
    rollouts++;
    const sampled = sampleCompletions(
      model,
      method,
      samples.map((p) => p.prompt.inputIds),
      s.group,
      { maxNewTokens: s.maxNewTokens, temperature: s.temperature, topP: s.topP, topK: s.topK, seed, eosTokenIds, padId },
    );
    if (sampled.isErr()) throw sampled.error;
    const { completions } = sampled.value;
    const rewards: number[] = [];
    samples.forEach((p, i) => {
      const rows = completions.slice(i * s.group, (i + 1) * s.group);
      const scores = reward.value.entry.score(
        {
          prompt: tokenizer.decode(p.prompt.inputIds, { skipSpecialTokens: false }),
          completions: rows.map((c) =>
            tokenizer.decode(
              c.filter((t) => !eos.has(t)),
              { skipSpecialTokens: true },
            ),
          ),
          completionTokens: rows.map((c) => c.length),
          reference: tokenizer.decode(p.reference.inputIds, { skipSpecialTokens: true }),
        },
        reward.value.options,
      );
      if (scores.length !== rows.length || scores.some((x) => !Number.isFinite(x)))
        throw new Error(
          `reward ${reward.value.entry.name} gave ${scores.length} scores (${scores.join(", ")}) for ${rows.length} completions; expected one finite number each`,
        );
      rewards.push(...scores);
    });
    const batch = sequenceBatch(sampled.value.prompts, completions, padId);
    const oldLogps = s.numIterations > 1 ? policyLogProbs(model, method, batch, s.temperature) : null;
    let refLogps: Float32Array | null = null;
    if (s.beta !== 0) {
      const ref = referenceLogProbs(model, method, batch, s.temperature);
      if (ref.isErr()) throw ref.error;
      refLogps = ref.value;
    }
    const groupStds = samples.map((_, i) => std(rewards.slice(i * s.group, (i + 1) * s.group)));
    const lengths = completions.map((c) => c.length);
    const ended = completions.filter((c) => c.length > 0 && eos.has(c[c.length - 1]!)).length;
    return {
      ...batch,
      advantages: groupAdvantages(rewards, s.group, s.scaleRewards),
      oldLogps,
      refLogps,
      rolloutMetrics: {
        "reward/mean": rewards.reduce((a, b) => a + b, 0) / rewards.length,
        "reward/std": groupStds.reduce((a, b) => a + b, 0) / groupStds.length,
        "completions/mean_length": lengths.reduce((a, b) => a + b, 0) / lengths.length,
        "completions/clipped_ratio": 1 - ended / completions.length,
      },
    };
  };

  return ok({
    next() {
      if (buffered === null || buffered.used >= s.numIterations) {
        const samples = prompts.next();
        if (samples === undefined) return undefined;
        buffered = { batch: rollout(samples), used: 0 };
      }
      buffered.used++;
      return buffered.batch;
    },
    state() {
      const keep = buffered !== null && buffered.used < s.numIterations;
      return { prompts: prompts.state(), rollouts, buffered: keep ? { used: buffered!.used, batch: saveRollout(buffered!.batch) } : null };
    },
    restore(st) {
      const o = st as { prompts?: JsonValue; rollouts?: unknown; buffered?: { used: number; batch: JsonValue } | null } | null;
      if (!o || typeof o !== "object" || o.prompts === undefined || !Number.isInteger(o.rollouts))
        return err(new Error(`grpo rollout cursor: expected { prompts, rollouts, buffered }, found ${JSON.stringify(st).slice(0, 200)}`));
      const restored = prompts.restore(o.prompts);
      if (restored.isErr()) return restored;
      rollouts = o.rollouts as number;
      buffered = o.buffered ? { used: o.buffered.used, batch: loadRollout(o.buffered.batch) } : null;
      return ok(undefined);
    },
    epoch: () => prompts.epoch!(),
  });
}
