// The runner: executes checked recipes (the DSL's runRecipe hook) with the loaded plugins — model
// loading, methods, the data worker, the one train() loop, evaluation, prediction, export and chat.
// Optimizers come from the registry (plugins/optimizers and any `use "package"` plugin).
import { definePlugin } from "../../core/index.ts";
import { runRecipeHook } from "./run.ts";

export { ensureModel } from "./model.ts";
export { defaultRunDir, trainOutput } from "./paths.ts";
export { type PreviewSample, previewRecipeSamples } from "./preview.ts";
export { type Sampling, samplingOf } from "./sampling.ts";
export { type ScoredReply, scoreReplies, scoreWithRewardModel } from "./score.ts";
export { openServedModel, type ServedModel, type ServeModelOptions } from "./served-model.ts";
export { dropModelState, type ModelState, modelState } from "./state.ts";
export { recordActionRun } from "./store.ts";

export default definePlugin({
  name: "lft-runner",
  version: "0.1.0",
  setup(api) {
    // lft's own plugin declares the hook first in a session; declaring it here too (a no-op then)
    // lets the built-in plugins load into any registry.
    api.declareHook("runRecipe", "first");
    api.on("runRecipe", runRecipeHook);
  },
});
