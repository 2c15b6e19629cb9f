// Where a PPO run's scores come from, as LLaMA-Factory's `reward_model_type` says: `lora` (a reward
// adapter + value head trained by `train rm`, loaded as a second adapter set on the shared base and
// switched in to score), `full` (a whole reward model folder + its value head, a frozen second model),
// or a reward-function plugin (`reward = exact_match`, as grpo). Sequences are scored at their last
// real token with left padding masked out.
import { err, ok, type Result } from "neverthrow";
import { type CausalLM, noGrad, type StageBatchesInput, tensor, tidy } from "../../../core/index.ts";
import { rewardFor } from "../grpo-rollouts.ts";
import type { SequenceBatch } from "../rollout.ts";
import { lastTokenPositions, loadValueHead, modelBackend, type ValueHead, valueHeadScores } from "../value-head.ts";

/** Scores per row of a rollout batch: the completions as text (reward functions) and the token batch (reward models). */
export type ScoreFn = (batch: SequenceBatch, texts: { prompts: string[]; completions: string[]; references: string[]; tokens: number[] }) => number[];

export const REWARD_SET = "reward";

/** A value head's score of each left-padded row at its last real token, without a graph. */
export function sequenceScores(model: CausalLM, head: ValueHead, batch: SequenceBatch): number[] {
  return noGrad(() =>
    tidy(() => {
      const { batchSize: B, seqLen: T } = batch;
      const backend = head.weight.backend;
      const ids = tensor(batch.inputIds, [B, T], { dtype: "i32", backend });
      const positionIds = tensor(batch.positionIds, [B, T], { dtype: "i32", backend });
      const segmentIds = batch.segmentIds ? tensor(batch.segmentIds, [B, T], { dtype: "i32", backend }) : null;
      const hidden = model.forward(ids, { positionIds, segmentIds, hiddenOnly: true });
      return Array.from(valueHeadScores(head, hidden, lastTokenPositions(batch)).toArray() as ArrayLike<number>);
    }),
  );
}

/** The scorer the options name; errors name the reward model's files. */
export function rewardSource(input: StageBatchesInput): Result<{ score: ScoreFn; dispose: () => void; kind: string }, Error> {
  const path = input.options.reward_model;
  const type = (input.options.reward_model_type as string | undefined) ?? "lora";
  if (typeof path === "string" && path !== "") {
    const dir = input.resolvePath ? input.resolvePath(path) : path;
    const hidden = input.model.spec.hiddenSize;
    if (type === "full") {
      if (!input.loadFrozen) return err(new Error(`reward_model = "${path}" (full) needs a runner that loads models`));
      const m = input.loadFrozen(path);
      if (m.isErr()) return err(new Error(`reward_model: ${m.error.message}`));
      const head = loadValueHead(dir, m.value.spec.hiddenSize, modelBackend(m.value));
      if (head.isErr()) return err(head.error);
      return ok({
        kind: "full",
        score: (batch) => sequenceScores(m.value, head.value, batch),
        dispose: () => {
          head.value.weight.dispose();
          head.value.bias.dispose();
        },
      });
    }
    const method = input.method;
    if (!method.loadAdapterSet || !method.withAdapterSet)
      return err(
        new Error(
          `reward_model_type = lora shares the base with the policy's adapters, but method ${method.method} has none; use method lora, or reward_model_type = full`,
        ),
      );
    const head = loadValueHead(dir, hidden, modelBackend(input.model));
    if (head.isErr()) return err(head.error);
    const loaded = method.loadAdapterSet(REWARD_SET, dir);
    if (loaded.isErr()) {
      head.value.weight.dispose();
      head.value.bias.dispose();
      return err(new Error(`reward_model: ${loaded.error.message}`));
    }
    return ok({
      kind: "lora",
      score: (batch) => {
        const training = method.training;
        method.training = false;
        try {
          const r = method.withAdapterSet!(REWARD_SET, () => sequenceScores(input.model, head.value, batch));
          if (r.isErr()) throw r.error;
          return r.value;
        } finally {
          method.training = training;
        }
      },
      dispose: () => {
        method.dropAdapterSet?.(REWARD_SET);
        head.value.weight.dispose();
        head.value.bias.dispose();
      },
    });
  }
  if (typeof input.options.reward !== "string")
    return err(
      new Error(
        'ppo needs a reward source: reward_model = "a train rm output folder" (reward_model_type = lora | full), or reward = exact_match (a reward function)',
      ),
    );
  const fn = rewardFor(input);
  if (fn.isErr()) return err(fn.error);
  const { entry, options } = fn.value;
  return ok({
    kind: "function",
    score: (_batch, t) => {
      const out: number[] = [];
      for (let i = 0; i < t.completions.length; i++) {
        const s = entry.score(
          { prompt: t.prompts[i]!, completions: [t.completions[i]!], completionTokens: [t.tokens[i]!], reference: t.references[i]! },
          options,
        );
        if (s.length !== 1 || !Number.isFinite(s[0]!))
          throw new Error(`reward ${entry.name} gave ${s.join(", ")} for one completion; expected one finite number`);
        out.push(s[0]!);
      }
      return out;
    },
    dispose: () => {},
  });
}
