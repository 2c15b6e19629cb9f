// The fine-tuning methods that ship with lft (full, freeze, lora and llama_pro), and the methods area's public
// entry: other plugin areas (runner, commands) and the DSL import methods' functions from here only.
import { definePlugin } from "../../core/index.ts";
import { freeze } from "./freeze.ts";
import { full } from "./full.ts";
import { llamaPro } from "./llama-pro/index.ts";
import { lora } from "./lora/index.ts";
import { qlora } from "./qlora/index.ts";

export { expandedBlockIds, expandedConfig, expandModel, expansionPlan } from "./llama-pro/index.ts";
export {
  ADAPTER_CONFIG,
  ADAPTER_WEIGHTS,
  type AdapterTargets,
  applyLora,
  exportPeftMerged,
  LoraLinear,
  LoraMethod,
  type LoraSettings,
  loadPeftAdapter,
  loraScale,
  settingsFromPeftConfig,
  writePeftAdapter,
} from "./lora/index.ts";
export { type ExportedModel, exportMerged, type MergeExportOptions } from "./merged-export.ts";
export {
  Int8Weight,
  QloraMethod,
  Quant4Weight,
  type QuantizeSettings,
  type QuantType,
  qloraOptions,
  quantizeLinears,
  quantizeOnLoad,
} from "./qlora/index.ts";
export { freeze, full, llamaPro, lora, qlora };

export default definePlugin({
  name: "lft-methods",
  setup(api) {
    api.register.methods(full);
    api.register.methods(freeze);
    api.register.methods(lora);
    api.register.methods(llamaPro);
    api.register.methods(qlora);
  },
});
