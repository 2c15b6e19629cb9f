// The plugins that ship with lft. A session registers these first, then any `use "package"` ones.
import type { Plugin } from "../core/index.ts";
import { cpuBackendPlugin, cudaBackendPlugin } from "./backends/index.ts";
import benchmark from "./benchmark/index.ts";
import commands from "./commands/index.ts";
import { dataPlugins } from "./data/index.ts";
import dist from "./dist/index.ts";
import hub from "./hub/index.ts";
import methods from "./methods/index.ts";
import metrics from "./metrics/index.ts";
import { modelPlugins } from "./models/index.ts";
import optimizers from "./optimizers/index.ts";
import rewards from "./rewards/index.ts";
import runner from "./runner/index.ts";
import serve from "./serve/index.ts";
import stages from "./stages/index.ts";

export const builtinPlugins: readonly Plugin[] = [
  cpuBackendPlugin,
  cudaBackendPlugin,
  ...modelPlugins,
  methods,
  stages,
  optimizers,
  metrics,
  rewards,
  ...dataPlugins,
  dist,
  commands,
  benchmark,
  hub,
  runner,
  serve,
];

export { useCpuBackendByDefault } from "./backends/index.ts";
