// The stages' memory formulas (StageEntry.memory, core/plan): how many sequences per batch row carry
// gradients, whether the loss reads logits over the vocabulary, the trainable modules a stage adds (a
// value head) and the extra copies it holds (an explicit reference model is a second frozen model).
import type { MemoryPart, StageMemory, StageMemoryInput } from "../../core/index.ts";

/** A separate reference model (`ref_model = "..."`) is a second copy of the frozen weights. */
function referenceCopy(input: StageMemoryInput): MemoryPart[] {
  const ref = input.options.ref_model;
  if (typeof ref !== "string" || ref === "") return [];
  return [{ name: "reference-model", bytes: input.frozenBytes, detail: `a second frozen model from ${ref} (planned as the base's size)` }];
}

/** DPO and its family: chosen and rejected rows of each pair run through the policy with gradients. */
export function dpoMemory(input: StageMemoryInput): StageMemory {
  const free = input.options.loss === "orpo" || input.options.loss === "simpo";
  return { sequencesPerRow: 2, logits: true, referenceForwards: free ? 0 : 1, extra: referenceCopy(input) };
}

/** KTO: each example's own rows carry gradients; its KL rows and the reference run under noGrad. */
export function ktoMemory(input: StageMemoryInput): StageMemory {
  // The policy's KL rows, and the reference over the example and KL rows.
  return { sequencesPerRow: 1, logits: true, referenceForwards: 3, extra: referenceCopy(input) };
}

/** A value head [1, hidden] plus its bias [1] (reward model, PPO critic). */
function valueHead(input: StageMemoryInput) {
  return [
    { name: "v_head.summary.weight", shape: [1, input.spec.hiddenSize] },
    { name: "v_head.summary.bias", shape: [1] },
  ];
}

/** Reward modelling: chosen and rejected rows, scored from the last hidden state (no vocabulary logits). */
export function rmMemory(input: StageMemoryInput): StageMemory {
  return { sequencesPerRow: 2, logits: false, trainable: valueHead(input) };
}

/** PPO: the policy's logits over its rollouts plus the critic's value head. */
export function ppoMemory(input: StageMemoryInput): StageMemory {
  return { sequencesPerRow: 1, logits: true, trainable: valueHead(input) };
}

/** GRPO: every prompt's group of completions (prompt + completion) trains together. */
export function grpoMemory(input: StageMemoryInput): StageMemory {
  // The reference's and old policy's log-probs are computed with the rollouts, by the stage's batch
  // source, and freed before the loss's forward: measured, they are not live at the step's peak.
  const o = input.options;
  return { sequencesPerRow: Number(o.group ?? 4), logits: true, tokensPerRow: input.seqLen + Number(o.max_new_tokens ?? 32) };
}
