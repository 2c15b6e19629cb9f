// The fine-tuning methods that ship with lft (full, freeze and lora), and the methods area's public
// entry: other plugin areas (runner, commands) and the DSL import methods' functions from here only.
import { definePlugin } from "../../core/index.ts";
import { freeze } from "./freeze.ts";
import { full } from "./full.ts";
import { lora } from "./lora/index.ts";

export { full, freeze, lora };
export { type ExportedModel, type MergeExportOptions, exportMerged } from "./merged-export.ts";
export {
  ADAPTER_CONFIG,
  ADAPTER_WEIGHTS,
  type AdapterTargets,
  LoraLinear,
  LoraMethod,
  type LoraSettings,
  applyLora,
  exportPeftMerged,
  loadPeftAdapter,
  loraScale,
  settingsFromPeftConfig,
  writePeftAdapter,
} from "./lora/index.ts";

export default definePlugin({
  name: "lft-methods",
  setup(api) {
    api.register.methods(full);
    api.register.methods(freeze);
    api.register.methods(lora);
  },
});
