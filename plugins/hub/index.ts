// Models and datasets by Hugging Face Hub id (`org/name[@revision]`): the answer to core's
// resolveRepoSource hook, from the shared HF cache or downloaded into it with @huggingface/hub.
import { definePlugin } from "../../core/index.ts";
import { resolveFromHub } from "./resolve.ts";

export { cachedSnapshot, resolveFromHub } from "./resolve.ts";
export { type HubSettings, hubSettings } from "./settings.ts";

export default definePlugin({
  name: "lft-hub",
  version: "0.1.0",
  setup(api) {
    api.declareHook("resolveRepoSource", "first");
    api.on("resolveRepoSource", (request) => resolveFromHub(request));
  },
});
