// The Train page's data preview: the recipe checked, then its data blocks templated and tokenised by
// the runner's data worker (as `lft data preview` shows them), a few samples decoded.

import type { Registry } from "../../../core/index.ts";
import { type PreviewSample, previewRecipeSamples } from "../../../plugins/runner/index.ts";
import { type BoardDiagnostic, checkText } from "./check";

export async function previewSamples(
  recipe: string,
  count: number,
  registry: Registry,
  cwd: string,
): Promise<{ samples: PreviewSample[] } | { error: string; diagnostics?: BoardDiagnostic[] }> {
  const checked = await checkText(recipe, registry, cwd);
  if (checked.ok === undefined) return { error: "the recipe has errors; fix them to preview its data", diagnostics: checked.diagnostics };
  const samples = await previewRecipeSamples(checked.ok.checked.recipe, registry, cwd, count);
  return samples.isOk() ? { samples: samples.value } : { error: samples.error };
}
