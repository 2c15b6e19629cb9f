// Converters between checkpoint formats: llama2.c -> a Hugging Face model folder (`lft convert`), and a
// Hugging Face model folder -> GGUF for llama.cpp (`lft export --gguf`).
export { exportGguf, GGUF_TYPES, type GgufExport, type GgufFileType, type GgufSource, openGgufSource } from "./gguf-export.ts";
export { convertLlama2c } from "./llama2c.ts";
