// The story-word task both RL end-to-end tests (grpo, ppo) train on: story openings whose next word is
// the checkable answer ("Once upon a time, there was a little" → "boy", where the shipped stories260K
// says "girl" twice as often), as prompt-only samples with the answer as the reference, and a registry
// with the llama family, the methods and the reward functions.
import { createRegistry, IGNORE_INDEX, type PromptSample, type Tokenizer } from "../../../core/index.ts";
import methodsPlugin from "../../../plugins/methods/index.ts";
import llamaPlugin from "../../../plugins/models/llama.ts";
import rewardsPlugin from "../../../plugins/rewards/index.ts";

export const registry = createRegistry();
registry.use(llamaPlugin);
registry.use(methodsPlugin);
registry.use(rewardsPlugin);

const TASK: [string, string][] = [
  ["Once upon a time, there was a little", "boy"],
  ["One day, a little", "boy"],
  ["Tom and", "Ben"],
  ["The sun was", "shining"],
];

/** The task as prompt-only samples (prompt masked, the answer's ids as the reference). */
export function samples(tok: Tokenizer): PromptSample[] {
  return TASK.map(([prompt, answer]) => {
    const ids = tok.encode(prompt);
    const ref = tok.encode(answer).filter((id) => id !== tok.bosId);
    return { prompt: { inputIds: ids, labels: ids.map(() => IGNORE_INDEX) }, reference: { inputIds: ref, labels: ref } };
  });
}
