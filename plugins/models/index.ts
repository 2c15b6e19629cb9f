// The model families lft ships, one plugin per family file, and the catalog of well-known checkpoints.
import type { Plugin } from "../../core/index.ts";
import gemmaModels from "./gemma.ts";
import gemma2Models from "./gemma2.ts";
import gptOssModels from "./gpt_oss.ts";
import graniteModels from "./granite.ts";
import llamaModels from "./llama.ts";
import mistralModels from "./mistral.ts";
import mixtralModels from "./mixtral.ts";
import olmo2Models from "./olmo2.ts";
import phi3Models from "./phi3.ts";
import qwen2Models from "./qwen2.ts";
import qwen3Models from "./qwen3.ts";

/** In the order sessions register them (the order `lft models` and `lft plugins` list them). */
export const modelPlugins: readonly Plugin[] = [
  llamaModels,
  mistralModels,
  qwen2Models,
  qwen3Models,
  gemmaModels,
  gemma2Models,
  phi3Models,
  mixtralModels,
  olmo2Models,
  graniteModels,
  gptOssModels,
];

export { CATALOG, type CatalogEntry, catalogEntry } from "./catalog.ts";
