// Where a PEFT LoRA adapter folder keeps things: its two files and the saved names of the tensors,
// shared by the writer (peft-save.ts) and the reader (peft-load.ts).

export const ADAPTER_CONFIG = "adapter_config.json";
export const ADAPTER_WEIGHTS = "adapter_model.safetensors";
/** PEFT's prefix for a causal LM: PeftModelForCausalLM.base_model (LoraModel).model (the HF model). */
export const PEFT_PREFIX = "base_model.model.";

/** Saved key of an adapted layer's tensor: `lora_A.weight`, `lora_B.weight` or `lora_magnitude_vector`. */
export function peftKey(layerPath: string, part: "lora_A.weight" | "lora_B.weight" | "lora_magnitude_vector"): string {
  return `${PEFT_PREFIX}${layerPath}.${part}`;
}
