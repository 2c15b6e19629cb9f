// Well-known Hugging Face checkpoints: repo id -> family plugin, default chat template and size. Data,
// not code: `lft models` and the board's model picker list it; a recipe naming a repo id gets its
// family and template from here. (Weights are never downloaded by lft; point `model` at a local folder.)

export interface CatalogEntry {
  /** Hugging Face repo id */
  id: string;
  /** lft model family plugin (HF model_type) */
  family: "llama" | "mistral" | "qwen2" | "qwen3" | "gemma" | "gemma2" | "phi3" | "mixtral" | "olmo2" | "granite";
  /** lft chat template; "default" for base models */
  template: string;
  /** parameters, in billions (approximate, as the model card states) */
  paramsB: number;
  instruct: boolean;
}

type Row = [id: string, family: CatalogEntry["family"], template: string, paramsB: number, instruct: boolean];

const ROWS: Row[] = [
  // Llama 2
  ["meta-llama/Llama-2-7b-hf", "llama", "default", 7, false],
  ["meta-llama/Llama-2-7b-chat-hf", "llama", "llama2", 7, true],
  ["meta-llama/Llama-2-13b-hf", "llama", "default", 13, false],
  ["meta-llama/Llama-2-13b-chat-hf", "llama", "llama2", 13, true],
  ["meta-llama/Llama-2-70b-hf", "llama", "default", 70, false],
  ["meta-llama/Llama-2-70b-chat-hf", "llama", "llama2", 70, true],
  ["codellama/CodeLlama-7b-hf", "llama", "default", 7, false],
  ["codellama/CodeLlama-7b-Instruct-hf", "llama", "llama2", 7, true],
  ["codellama/CodeLlama-13b-Instruct-hf", "llama", "llama2", 13, true],
  ["codellama/CodeLlama-34b-Instruct-hf", "llama", "llama2", 34, true],
  // Llama 3 / 3.1 / 3.2 / 3.3
  ["meta-llama/Meta-Llama-3-8B", "llama", "default", 8, false],
  ["meta-llama/Meta-Llama-3-8B-Instruct", "llama", "llama3", 8, true],
  ["meta-llama/Meta-Llama-3-70B", "llama", "default", 70, false],
  ["meta-llama/Meta-Llama-3-70B-Instruct", "llama", "llama3", 70, true],
  ["meta-llama/Llama-3.1-8B", "llama", "default", 8, false],
  ["meta-llama/Llama-3.1-8B-Instruct", "llama", "llama3", 8, true],
  ["meta-llama/Llama-3.1-70B", "llama", "default", 70, false],
  ["meta-llama/Llama-3.1-70B-Instruct", "llama", "llama3", 70, true],
  ["meta-llama/Llama-3.1-405B-Instruct", "llama", "llama3", 405, true],
  ["meta-llama/Llama-3.2-1B", "llama", "default", 1.2, false],
  ["meta-llama/Llama-3.2-1B-Instruct", "llama", "llama3", 1.2, true],
  ["meta-llama/Llama-3.2-3B", "llama", "default", 3.2, false],
  ["meta-llama/Llama-3.2-3B-Instruct", "llama", "llama3", 3.2, true],
  ["meta-llama/Llama-3.3-70B-Instruct", "llama", "llama3", 70, true],
  ["deepseek-ai/DeepSeek-R1-Distill-Llama-8B", "llama", "hf", 8, true],
  ["deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "llama", "hf", 70, true],
  ["NousResearch/Hermes-2-Pro-Llama-3-8B", "llama", "chatml", 8, true],
  ["NousResearch/Hermes-3-Llama-3.1-8B", "llama", "chatml", 8, true],
  ["TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T", "llama", "default", 1.1, false],
  ["TinyLlama/TinyLlama-1.1B-Chat-v1.0", "llama", "hf", 1.1, true],
  ["lmsys/vicuna-7b-v1.5", "llama", "vicuna", 7, true],
  ["lmsys/vicuna-13b-v1.5", "llama", "vicuna", 13, true],
  ["01-ai/Yi-6B", "llama", "default", 6, false],
  ["01-ai/Yi-6B-Chat", "llama", "chatml", 6, true],
  ["01-ai/Yi-34B-Chat", "llama", "chatml", 34, true],
  ["01-ai/Yi-1.5-9B-Chat", "llama", "chatml", 9, true],
  ["HuggingFaceTB/SmolLM2-135M", "llama", "default", 0.135, false],
  ["HuggingFaceTB/SmolLM2-135M-Instruct", "llama", "chatml", 0.135, true],
  ["HuggingFaceTB/SmolLM2-360M-Instruct", "llama", "chatml", 0.36, true],
  ["HuggingFaceTB/SmolLM2-1.7B-Instruct", "llama", "chatml", 1.7, true],
  ["openlm-research/open_llama_3b_v2", "llama", "default", 3, false],
  ["karpathy/tinyllamas-stories260K", "llama", "default", 0.00026, false],
  // Mistral
  ["mistralai/Mistral-7B-v0.1", "mistral", "default", 7, false],
  ["mistralai/Mistral-7B-Instruct-v0.1", "mistral", "mistral", 7, true],
  ["mistralai/Mistral-7B-Instruct-v0.2", "mistral", "mistral", 7, true],
  ["mistralai/Mistral-7B-v0.3", "mistral", "default", 7, false],
  ["mistralai/Mistral-7B-Instruct-v0.3", "mistral", "mistral", 7, true],
  ["mistralai/Mistral-Nemo-Base-2407", "mistral", "default", 12, false],
  ["mistralai/Mistral-Nemo-Instruct-2407", "mistral", "mistral", 12, true],
  ["mistralai/Mistral-Small-Instruct-2409", "mistral", "mistral", 22, true],
  ["HuggingFaceH4/zephyr-7b-beta", "mistral", "hf", 7, true],
  ["teknium/OpenHermes-2.5-Mistral-7B", "mistral", "chatml", 7, true],
  ["NousResearch/Hermes-2-Pro-Mistral-7B", "mistral", "chatml", 7, true],
  ["openchat/openchat-3.5-0106", "mistral", "hf", 7, true],
  // Mixtral
  ["mistralai/Mixtral-8x7B-v0.1", "mixtral", "default", 47, false],
  ["mistralai/Mixtral-8x7B-Instruct-v0.1", "mixtral", "mistral", 47, true],
  ["mistralai/Mixtral-8x22B-v0.1", "mixtral", "default", 141, false],
  ["mistralai/Mixtral-8x22B-Instruct-v0.1", "mixtral", "mistral", 141, true],
  ["NousResearch/Nous-Hermes-2-Mixtral-8x7B-DPO", "mixtral", "chatml", 47, true],
  // Qwen2 / Qwen2.5
  ["Qwen/Qwen2-0.5B", "qwen2", "default", 0.5, false],
  ["Qwen/Qwen2-0.5B-Instruct", "qwen2", "qwen", 0.5, true],
  ["Qwen/Qwen2-1.5B-Instruct", "qwen2", "qwen", 1.5, true],
  ["Qwen/Qwen2-7B", "qwen2", "default", 7, false],
  ["Qwen/Qwen2-7B-Instruct", "qwen2", "qwen", 7, true],
  ["Qwen/Qwen2-72B-Instruct", "qwen2", "qwen", 72, true],
  ["Qwen/Qwen2.5-0.5B", "qwen2", "default", 0.5, false],
  ["Qwen/Qwen2.5-0.5B-Instruct", "qwen2", "qwen", 0.5, true],
  ["Qwen/Qwen2.5-1.5B", "qwen2", "default", 1.5, false],
  ["Qwen/Qwen2.5-1.5B-Instruct", "qwen2", "qwen", 1.5, true],
  ["Qwen/Qwen2.5-3B-Instruct", "qwen2", "qwen", 3, true],
  ["Qwen/Qwen2.5-7B", "qwen2", "default", 7, false],
  ["Qwen/Qwen2.5-7B-Instruct", "qwen2", "qwen", 7, true],
  ["Qwen/Qwen2.5-14B-Instruct", "qwen2", "qwen", 14, true],
  ["Qwen/Qwen2.5-32B-Instruct", "qwen2", "qwen", 32, true],
  ["Qwen/Qwen2.5-72B-Instruct", "qwen2", "qwen", 72, true],
  ["Qwen/Qwen2.5-Coder-1.5B-Instruct", "qwen2", "qwen", 1.5, true],
  ["Qwen/Qwen2.5-Coder-7B-Instruct", "qwen2", "qwen", 7, true],
  ["Qwen/Qwen2.5-Coder-32B-Instruct", "qwen2", "qwen", 32, true],
  ["Qwen/Qwen2.5-Math-7B-Instruct", "qwen2", "qwen", 7, true],
  ["Qwen/QwQ-32B", "qwen2", "hf", 32, true],
  ["deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "qwen2", "hf", 1.5, true],
  ["deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "qwen2", "hf", 7, true],
  ["deepseek-ai/DeepSeek-R1-Distill-Qwen-14B", "qwen2", "hf", 14, true],
  ["deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", "qwen2", "hf", 32, true],
  // Qwen3
  ["Qwen/Qwen3-0.6B-Base", "qwen3", "default", 0.6, false],
  ["Qwen/Qwen3-0.6B", "qwen3", "qwen", 0.6, true],
  ["Qwen/Qwen3-1.7B-Base", "qwen3", "default", 1.7, false],
  ["Qwen/Qwen3-1.7B", "qwen3", "qwen", 1.7, true],
  ["Qwen/Qwen3-4B-Base", "qwen3", "default", 4, false],
  ["Qwen/Qwen3-4B", "qwen3", "qwen", 4, true],
  ["Qwen/Qwen3-8B-Base", "qwen3", "default", 8, false],
  ["Qwen/Qwen3-8B", "qwen3", "qwen", 8, true],
  ["Qwen/Qwen3-14B", "qwen3", "qwen", 14, true],
  ["Qwen/Qwen3-32B", "qwen3", "qwen", 32, true],
  // Gemma
  ["google/gemma-2b", "gemma", "default", 2.5, false],
  ["google/gemma-2b-it", "gemma", "gemma", 2.5, true],
  ["google/gemma-7b", "gemma", "default", 8.5, false],
  ["google/gemma-7b-it", "gemma", "gemma", 8.5, true],
  ["google/gemma-1.1-2b-it", "gemma", "gemma", 2.5, true],
  ["google/gemma-1.1-7b-it", "gemma", "gemma", 8.5, true],
  ["google/codegemma-7b-it", "gemma", "gemma", 8.5, true],
  // Gemma 2
  ["google/gemma-2-2b", "gemma2", "default", 2.6, false],
  ["google/gemma-2-2b-it", "gemma2", "gemma", 2.6, true],
  ["google/gemma-2-9b", "gemma2", "default", 9, false],
  ["google/gemma-2-9b-it", "gemma2", "gemma", 9, true],
  ["google/gemma-2-27b", "gemma2", "default", 27, false],
  ["google/gemma-2-27b-it", "gemma2", "gemma", 27, true],
  // Phi-3 / 3.5
  ["microsoft/Phi-3-mini-4k-instruct", "phi3", "phi", 3.8, true],
  ["microsoft/Phi-3-mini-128k-instruct", "phi3", "phi", 3.8, true],
  ["microsoft/Phi-3-small-8k-instruct", "phi3", "phi", 7, true],
  ["microsoft/Phi-3-medium-4k-instruct", "phi3", "phi", 14, true],
  ["microsoft/Phi-3-medium-128k-instruct", "phi3", "phi", 14, true],
  ["microsoft/Phi-3.5-mini-instruct", "phi3", "phi", 3.8, true],
  ["microsoft/Phi-4-mini-instruct", "phi3", "phi", 3.8, true],
  // OLMo 2
  ["allenai/OLMo-2-0425-1B", "olmo2", "default", 1.5, false],
  ["allenai/OLMo-2-1124-7B", "olmo2", "default", 7, false],
  ["allenai/OLMo-2-1124-7B-Instruct", "olmo2", "hf", 7, true],
  ["allenai/OLMo-2-1124-13B", "olmo2", "default", 13, false],
  ["allenai/OLMo-2-0325-32B", "olmo2", "default", 32, false],
  // Granite 3.x (their chat template is the checkpoint's own: "hf")
  ["ibm-granite/granite-3.0-2b-base", "granite", "default", 2.5, false],
  ["ibm-granite/granite-3.0-2b-instruct", "granite", "hf", 2.5, true],
  ["ibm-granite/granite-3.0-8b-base", "granite", "default", 8.2, false],
  ["ibm-granite/granite-3.0-8b-instruct", "granite", "hf", 8.2, true],
  ["ibm-granite/granite-3.1-2b-instruct", "granite", "hf", 2.5, true],
  ["ibm-granite/granite-3.1-8b-base", "granite", "default", 8.2, false],
  ["ibm-granite/granite-3.1-8b-instruct", "granite", "hf", 8.2, true],
  ["ibm-granite/granite-3.2-8b-instruct", "granite", "hf", 8.2, true],
  ["ibm-granite/granite-3.3-2b-instruct", "granite", "hf", 2.5, true],
  ["ibm-granite/granite-3.3-8b-instruct", "granite", "hf", 8.2, true],
];

export const CATALOG: readonly CatalogEntry[] = ROWS.map(([id, family, template, paramsB, instruct]) => ({ id, family, template, paramsB, instruct }));

const byId = new Map(CATALOG.map((e) => [e.id.toLowerCase(), e]));

/** The catalog entry for a repo id (case-insensitive), or undefined. */
export function catalogEntry(id: string): CatalogEntry | undefined {
  return byId.get(id.toLowerCase());
}
