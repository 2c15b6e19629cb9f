// The form pages: Train (every section), Evaluate & predict and Export (the model plus one action,
// the train block switched off). All three are generated from the registry's schemas by /api/form.

import type { Info } from "./api.ts";
import { formPage } from "./form-page.ts";

const noTraining = { "dataset.enabled": false, "method.enabled": false, "train.enabled": false };

export function trainPage(root: HTMLElement, info: Info): Promise<void> {
  return formPage(root, info, {
    title: "Train",
    intro:
      "Pick a model, a dataset, a method and a stage; the recipe on the right follows. Sections after Train (evaluate, predict, export, chat) run after it when switched on.",
    preview: true,
  });
}

export function evaluatePage(root: HTMLElement, info: Info): Promise<void> {
  return formPage(root, info, {
    title: "Evaluate & predict",
    intro:
      "Evaluate reports the loss (and metrics) on a dataset; predict writes an answer for every prompt. Load a trained adapter with the model's adapter option. Multiple-choice benchmarks (MMLU, C-Eval, CMMLU) are a command, not a recipe block: lft eval MODEL --task mmlu_test.",
    only: ["model", "eval", "predict"],
    fixed: noTraining,
    initial: { "eval.enabled": true },
  });
}

export function exportPage(root: HTMLElement, info: Info): Promise<void> {
  return formPage(root, info, {
    title: "Export",
    intro: "Writes the model as a Hugging Face folder: with merge the adapter is merged into the weights, without it the adapter is written in PEFT's layout.",
    only: ["model", "export"],
    fixed: { ...noTraining, "export.enabled": true },
    initial: { "export.merge": true },
  });
}
