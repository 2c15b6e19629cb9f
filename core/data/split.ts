// The validation split, as Hugging Face's train_test_split that LLaMA-Factory calls: val_size > 1 is
// a row count, otherwise a fraction rounded up; the split is a seeded permutation, so the training
// rows come out shuffled too.
import type { Philox } from "../random/philox.ts";
import { permutation } from "./random.ts";

export function splitTrainEval<T>(samples: readonly T[], valSize: number, rng: Philox): { train: T[]; eval: T[] } {
  if (valSize <= 0) return { train: [...samples], eval: [] };
  const n = samples.length;
  const nEval = valSize > 1 ? Math.min(Math.trunc(valSize), n) : Math.ceil(valSize * n);
  const perm = permutation(n, rng);
  return { eval: perm.slice(0, nEval).map((i) => samples[i]!), train: perm.slice(nEval).map((i) => samples[i]!) };
}
