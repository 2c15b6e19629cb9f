// The plugins that ship with lft. A session registers these first, then any `use "package"` ones.
import type { Plugin } from "../core/index.ts";
import cpuBackend from "./backends/cpu.ts";
import llamaModels from "./models/llama.ts";
import metrics from "./metrics/index.ts";
import methods from "./methods/index.ts";
import { dataPlugins } from "./data/index.ts";

export const builtinPlugins: readonly Plugin[] = [cpuBackend, llamaModels, methods, metrics, ...dataPlugins];
