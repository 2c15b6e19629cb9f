// PPO's batch source (StageEntry.batches), trl 0.9's PPOTrainer.step as LLaMA-Factory drives it: each
// rollout takes batch × ppo_buffer_size prompts, samples one completion each with the KV-cache generator
// (batched, left-padded), scores them (reward adapter, full reward model or reward function), records
// the policy's log-probs and the critic's values (the same adapters + the value head) and the
// reference's log-probs (adapters off), builds per-token rewards with the KL penalty, GAE advantages
// and returns, then serves ppo_epochs passes of shuffled mini-batches of `batch` rows. The KL
// coefficient adapts after each rollout. Its whole state is checkpointed, so a resumed run is exact.
import { err, ok, type Result } from "neverthrow";
import {
  type AppliedMethod,
  type Batch,
  type CausalLM,
  type JsonValue,
  noGrad,
  type PromptSample,
  type ResumableBatches,
  type StageBatchesInput,
  shuffledBatches,
  type Tensor,
  tidy,
} from "../../../core/index.ts";
import { completionTargets, policyLogProbs, referenceLogProbs, type SequenceBatch, sampleCompletions, sequenceBatch } from "../rollout.ts";
import { VALUE_HEAD_BIAS, VALUE_HEAD_WEIGHT, type ValueHead } from "../value-head.ts";
import { onDispose } from "./cleanup.ts";
import { freshMoments, gae, normaliseScores, type RunningMoments, tokenRewards, updatedKlCoef } from "./math.ts";
import { rewardSource } from "./reward-source.ts";
import { tokenValues } from "./values.ts";

export interface PpoSourceSettings {
  readonly maxNewTokens: number;
  readonly temperature: number;
  readonly topP: number;
  readonly topK: number;
  readonly bufferSize: number;
  readonly epochs: number;
  readonly gamma: number;
  readonly lam: number;
  readonly initKlCoef: number;
  readonly adaptiveKl: boolean;
  readonly target: number;
  readonly horizon: number;
  readonly scoreNorm: boolean;
  readonly whitenRewards: boolean;
}

/** A mini-batch as the PPO loss reads it. */
export interface PpoBatch extends SequenceBatch {
  readonly mask: Uint8Array;
  readonly oldLogps: Float32Array;
  readonly oldValues: Float32Array;
  readonly advantages: Float64Array;
  readonly returns: Float64Array;
  readonly rolloutMetrics: Readonly<Record<string, number>>;
}

/** The critic's values of a batch, host-side, no graph, no dropout. */
function criticValues(model: CausalLM, method: AppliedMethod, head: ValueHead, batch: Batch): Float32Array {
  const training = method.training;
  method.training = false;
  try {
    return noGrad(() => tidy(() => Float32Array.from((tokenValues(model, head, batch) as Tensor).toArray())));
  } finally {
    method.training = training;
  }
}

/** Rows `idx` of a rollout as a mini-batch (same sequence length). */
function sliceRows(r: PpoBatch, idx: readonly number[]): PpoBatch {
  const T = r.seqLen;
  const take = <A extends Int32Array | Float32Array | Float64Array | Uint8Array>(a: A, make: (n: number) => A): A => {
    const out = make(idx.length * T);
    idx.forEach((row, k) => {
      out.set(a.subarray(row * T, (row + 1) * T), k * T);
    });
    return out;
  };
  const i32 = (n: number) => new Int32Array(n);
  return {
    batchSize: idx.length,
    seqLen: T,
    completionStart: r.completionStart,
    inputIds: take(r.inputIds, i32),
    labels: take(r.labels, i32),
    attentionMask: take(r.attentionMask, i32),
    positionIds: take(r.positionIds, i32),
    segmentIds: r.segmentIds ? take(r.segmentIds, i32) : null,
    mask: take(r.mask, (n) => new Uint8Array(n)),
    oldLogps: take(r.oldLogps, (n) => new Float32Array(n)),
    oldValues: take(r.oldValues, (n) => new Float32Array(n)),
    advantages: take(r.advantages, (n) => new Float64Array(n)),
    returns: take(r.returns, (n) => new Float64Array(n)),
    rolloutMetrics: r.rolloutMetrics,
  };
}

/** A seeded permutation of 0..n-1 (mulberry32 Fisher-Yates), trl's per-epoch np.random.permutation. */
export function permutation(n: number, seed: number): number[] {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const arr = (a: ArrayLike<number> | null): JsonValue => (a === null ? null : Array.from(a));

function saveRollout(r: PpoBatch): JsonValue {
  return {
    batchSize: r.batchSize,
    seqLen: r.seqLen,
    completionStart: r.completionStart,
    inputIds: arr(r.inputIds),
    labels: arr(r.labels),
    attentionMask: arr(r.attentionMask),
    positionIds: arr(r.positionIds),
    segmentIds: arr(r.segmentIds),
    mask: arr(r.mask),
    oldLogps: arr(r.oldLogps),
    oldValues: arr(r.oldValues),
    advantages: arr(r.advantages),
    returns: arr(r.returns),
    rolloutMetrics: { ...r.rolloutMetrics },
  };
}

function loadRollout(v: JsonValue): PpoBatch {
  const o = v as Record<string, unknown>;
  const n = (k: string) => o[k] as number[];
  return {
    batchSize: o.batchSize as number,
    seqLen: o.seqLen as number,
    completionStart: o.completionStart as number,
    inputIds: Int32Array.from(n("inputIds")),
    labels: Int32Array.from(n("labels")),
    attentionMask: Int32Array.from(n("attentionMask")),
    positionIds: Int32Array.from(n("positionIds")),
    segmentIds: o.segmentIds === null ? null : Int32Array.from(n("segmentIds")),
    mask: Uint8Array.from(n("mask")),
    oldLogps: Float32Array.from(n("oldLogps")),
    oldValues: Float32Array.from(n("oldValues")),
    advantages: Float64Array.from(n("advantages")),
    returns: Float64Array.from(n("returns")),
    rolloutMetrics: o.rolloutMetrics as Record<string, number>,
  };
}

const mean = (xs: ArrayLike<number>): number => (xs.length === 0 ? 0 : Array.from(xs).reduce((a, b) => a + b, 0) / xs.length);

export function ppoBatches(input: StageBatchesInput, s: PpoSourceSettings): Result<ResumableBatches<Batch>, Error> {
  const weight = input.prepared?.params[VALUE_HEAD_WEIGHT];
  const bias = input.prepared?.params[VALUE_HEAD_BIAS];
  if (!weight || !bias) return err(new Error("ppo: the critic's value head was not prepared (StageEntry.prepare must run before the batch source)"));
  const head: ValueHead = { weight, bias };
  if (!input.method.withAdaptersDisabled)
    return err(
      new Error(`ppo's reference model is the base with the adapters off, but method ${input.method.method} cannot switch its changes off; use method lora`),
    );
  if (input.samples.length === 0) return err(new Error("ppo: no prompt samples"));
  const source = rewardSource(input);
  if (source.isErr()) return err(source.error);
  onDispose(input.prepared, source.value.dispose);
  const { model, method, tokenizer, padId, eosTokenIds } = input;
  const prompts = shuffledBatches(input.samples as readonly PromptSample[], { batchSize: input.batchSize, seed: input.seed });
  const eos = new Set(eosTokenIds);
  let rollouts = 0;
  let klCoef = s.initKlCoef;
  let moments: RunningMoments = freshMoments();
  // The rollout in use and where its mini-batches stand.
  let buffer: { rollout: PpoBatch; served: number } | null = null;

  const rollout = (): PpoBatch | undefined => {
    const taken: PromptSample[] = [];
    for (let i = 0; i < s.bufferSize; i++) {
      const next = prompts.next();
      if (next === undefined) break;
      taken.push(...next);
    }
    if (taken.length === 0) return undefined;
    const seed = BigInt(input.seed) * 1_000_003n + BigInt(rollouts) + 1n;
    rollouts++;
    const sampled = sampleCompletions(
      model,
      method,
      taken.map((p) => p.prompt.inputIds),
      1,
      { maxNewTokens: s.maxNewTokens, temperature: s.temperature, topP: s.topP, topK: s.topK, seed, eosTokenIds, padId },
    );
    if (sampled.isErr()) throw sampled.error;
    const { completions } = sampled.value;
    const batch = sequenceBatch(sampled.value.prompts, completions, padId);
    const rawScores = source.value.score(batch, {
      prompts: taken.map((p) => tokenizer.decode(p.prompt.inputIds, { skipSpecialTokens: false })),
      completions: completions.map((c) =>
        tokenizer.decode(
          c.filter((t) => !eos.has(t)),
          { skipSpecialTokens: true },
        ),
      ),
      references: taken.map((p) => tokenizer.decode(p.reference.inputIds, { skipSpecialTokens: true })),
      tokens: completions.map((c) => c.length),
    });
    const scores = s.scoreNorm ? normaliseScores(moments, rawScores) : rawScores;
    const { mask } = completionTargets(batch);
    const oldLogps = policyLogProbs(model, method, batch, s.temperature);
    const oldValues = criticValues(model, method, head, batch);
    const ref = referenceLogProbs(model, method, batch, s.temperature);
    if (ref.isErr()) throw ref.error;
    const B = batch.batchSize;
    const T = batch.seqLen;
    const coefUsed = klCoef;
    const { rewards, klPerRow, nonScorePerRow } = tokenRewards(B, T, mask, oldLogps, ref.value, scores, klCoef);
    const { advantages, returns } = gae(B, T, mask, rewards, oldValues, s.gamma, s.lam, s.whitenRewards);
    const klMean = mean(klPerRow);
    klCoef = updatedKlCoef(klCoef, s.adaptiveKl, klMean, s.target, s.horizon, B);
    let masked = 0;
    let retSum = 0;
    let valSum = 0;
    for (let i = 0; i < mask.length; i++)
      if (mask[i]) {
        masked++;
        retSum += returns[i]!;
        valSum += oldValues[i]!;
      }
    return {
      ...batch,
      mask,
      oldLogps,
      oldValues,
      advantages,
      returns,
      rolloutMetrics: {
        "ppo/mean_scores": mean(rawScores),
        "ppo/mean_non_score_reward": mean(nonScorePerRow),
        "objective/kl": klMean,
        "objective/kl_coef": coefUsed,
        "ppo/returns/mean": retSum / Math.max(masked, 1),
        "ppo/val/mean": valSum / Math.max(masked, 1),
        "tokens/responses_len_mean": mean(completions.map((c) => c.length)),
      },
    };
  };

  return ok({
    next() {
      if (buffer === null || buffer.served >= s.epochs * Math.ceil(buffer.rollout.batchSize / input.batchSize)) {
        const r = rollout();
        if (r === undefined) return undefined;
        buffer = { rollout: r, served: 0 };
      }
      const rows = buffer.rollout.batchSize;
      const perEpoch = Math.ceil(rows / input.batchSize);
      const epoch = Math.floor(buffer.served / perEpoch);
      const k = buffer.served % perEpoch;
      const order = permutation(rows, input.seed * 7919 + rollouts * 131 + epoch);
      buffer.served++;
      return sliceRows(buffer.rollout, order.slice(k * input.batchSize, (k + 1) * input.batchSize));
    },
    state() {
      return {
        prompts: prompts.state(),
        rollouts,
        klCoef,
        moments: { ...moments },
        buffer: buffer === null ? null : { served: buffer.served, rollout: saveRollout(buffer.rollout) },
      };
    },
    restore(st) {
      const o = st as {
        prompts?: JsonValue;
        rollouts?: unknown;
        klCoef?: unknown;
        moments?: RunningMoments;
        buffer?: { served: number; rollout: JsonValue } | null;
      };
      if (!o || typeof o !== "object" || o.prompts === undefined || !Number.isInteger(o.rollouts) || typeof o.klCoef !== "number" || !o.moments)
        return err(new Error(`ppo rollout cursor: expected { prompts, rollouts, klCoef, moments, buffer }, found ${JSON.stringify(st).slice(0, 200)}`));
      const restored = prompts.restore(o.prompts);
      if (restored.isErr()) return restored;
      rollouts = o.rollouts as number;
      klCoef = o.klCoef;
      moments = { ...o.moments };
      buffer = o.buffer ? { served: o.buffer.served, rollout: loadRollout(o.buffer.rollout) } : null;
      return ok(undefined);
    },
    epoch: () => prompts.epoch!(),
  });
}
