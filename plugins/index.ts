// The plugins that ship with lft. A session registers these first, then any `use "package"` ones.
import type { Plugin } from "../core/index.ts";
import { cpuBackendPlugin, cudaBackendPlugin } from "./backends/index.ts";
import llamaModels from "./models/llama.ts";
import mistralModels from "./models/mistral.ts";
import qwen2Models from "./models/qwen2.ts";
import qwen3Models from "./models/qwen3.ts";
import gemmaModels from "./models/gemma.ts";
import gemma2Models from "./models/gemma2.ts";
import phi3Models from "./models/phi3.ts";
import mixtralModels from "./models/mixtral.ts";
import metrics from "./metrics/index.ts";
import methods from "./methods/index.ts";
import { dataPlugins } from "./data/index.ts";
import stages from "./stages/index.ts";
import runner from "./runner/index.ts";
import commands from "./commands/index.ts";

export const builtinPlugins: readonly Plugin[] = [
  cpuBackendPlugin,
  cudaBackendPlugin,
  llamaModels,
  mistralModels,
  qwen2Models,
  qwen3Models,
  gemmaModels,
  gemma2Models,
  phi3Models,
  mixtralModels,
  methods,
  stages,
  metrics,
  ...dataPlugins,
  commands,
  runner,
];

export { useCpuBackendByDefault } from "./backends/index.ts";
