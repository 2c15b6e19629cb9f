// Reading a model's answer to a multiple-choice prompt as LLaMA-Factory's evaluator does: a batch of
// prompts padded on the right, one forward, and at each row's last real token the logits of the
// choice letters' token ids; the answer is the letter with the largest one.
import { type Backend, type CausalLM, noGrad, ops, type Tokenizer, tensor, tidy } from "../../core/index.ts";
import { CHOICES, type Choice } from "./task.ts";

/** Scores a batch of prompts: per row, one number per choice letter (A, B, C, D). */
export type ChoiceScorer = (prompts: readonly (readonly number[])[]) => number[][];

/** The id each letter's answer starts with: the last id of the letter encoded without special tokens. */
export function choiceTokenIds(tokenizer: Pick<Tokenizer, "encode">): number[] {
  return CHOICES.map((ch) => {
    const ids = tokenizer.encode(ch, { addSpecialTokens: false });
    const last = ids[ids.length - 1];
    if (last === undefined) throw new Error(`the tokenizer encodes "${ch}" to no tokens`);
    return last;
  });
}

/** The letter with the largest score; the first one on a tie (torch.argmax's rule). */
export function argmaxChoice(scores: readonly number[]): Choice {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  return CHOICES[best]!;
}

/**
 * The model's choice logits for each prompt. Rows are right-padded with padId (pads come after every
 * real token, so a causal model's logits at the real positions do not see them); the logits are read
 * at each row's own last token, as LF reads them at `attention_mask.sum() - 1`.
 */
export function modelChoiceScorer(model: CausalLM, backend: Backend, padId: number, choiceIds: readonly number[]): ChoiceScorer {
  return (prompts) => {
    if (prompts.length === 0) return [];
    const B = prompts.length;
    const T = Math.max(...prompts.map((p) => p.length));
    const ids = new Int32Array(B * T).fill(padId);
    prompts.forEach((p, b) => {
      ids.set(p, b * T);
    });
    return noGrad(() =>
      tidy(() => {
        const logits = model.forward(tensor(ids, [B, T], { dtype: "i32", backend }));
        const V = logits.shape[2]!;
        return prompts.map((p, b) => {
          const row = ops.slice(ops.slice(logits, 0, b, b + 1), 1, p.length - 1, p.length);
          const values = row.toArray();
          return choiceIds.map((id) => {
            if (id < 0 || id >= V) throw new Error(`choice token id ${id} is outside the model's ${V} logits`);
            return values[id]!;
          });
        });
      }),
    );
  };
}
