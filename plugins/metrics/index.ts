// Built-in metrics for `predict`: bleu-4 and rouge-1/2/l as LLaMA-Factory reports them, plus
// exact match. Each registers into the `metrics` collection.
import { definePlugin } from "../../core/index.ts";
import { bleu4 } from "./bleu.ts";
import { rougeScores } from "./rouge.ts";

export default definePlugin({
  name: "lft-metrics",
  setup(api) {
    api.register.metrics({
      name: "bleu-4",
      doc: "character-level sentence BLEU-4 with NLTK smoothing method3, percent",
      compute: ({ predictions, references }) => bleu4(predictions, references),
    });
    api.register.metrics({
      name: "rouge-1",
      doc: "unigram F1, percent",
      compute: ({ predictions, references }) => rougeScores(predictions, references)["rouge-1"],
    });
    api.register.metrics({
      name: "rouge-2",
      doc: "bigram F1, percent",
      compute: ({ predictions, references }) => rougeScores(predictions, references)["rouge-2"],
    });
    api.register.metrics({
      name: "rouge-l",
      doc: "longest-common-subsequence F, percent",
      compute: ({ predictions, references }) => rougeScores(predictions, references)["rouge-l"],
    });
    api.register.metrics({
      name: "exact_match",
      doc: "fraction of predictions equal to their reference after trimming, percent",
      compute: ({ predictions, references }) =>
        predictions.length === 0 ? 0 : (100 * predictions.filter((p, i) => p.trim() === references[i]!.trim()).length) / predictions.length,
    });
  },
});
