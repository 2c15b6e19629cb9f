// The model families lft ships, one plugin per family file, and the catalog of well-known checkpoints.
import type { Plugin } from "../../core/index.ts";
import cohereModels from "./cohere.ts";
import deepseekV3Models, { deepseekV2Plugin as deepseekV2Models } from "./deepseek.ts";
import gemmaModels from "./gemma.ts";
import gemma2Models from "./gemma2.ts";
import gemma3Models from "./gemma3.ts";
import glm4Models from "./glm4.ts";
import gptOssModels from "./gpt_oss.ts";
import graniteModels from "./granite.ts";
import internlm3Models from "./internlm3.ts";
import llamaModels from "./llama.ts";
import mistralModels from "./mistral.ts";
import mistral3Models from "./mistral3.ts";
import mixtralModels from "./mixtral.ts";
import olmo2Models from "./olmo2.ts";
import phi3Models from "./phi3.ts";
import qwen2Models from "./qwen2.ts";
import qwen2MoeModels from "./qwen2_moe.ts";
import qwen3Models from "./qwen3.ts";
import qwen3MoeModels from "./qwen3_moe.ts";
import smollm3Models from "./smollm3.ts";
import starcoder2Models from "./starcoder2.ts";

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
  smollm3Models,
  internlm3Models,
  mistral3Models,
  deepseekV2Models,
  deepseekV3Models,
  qwen2MoeModels,
  qwen3MoeModels,
  gemma3Models,
  glm4Models,
  cohereModels,
  starcoder2Models,
  gptOssModels,
];

export { CATALOG, type CatalogEntry, catalogEntry } from "./catalog.ts";
