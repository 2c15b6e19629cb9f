// Converters from other checkpoint formats to a Hugging Face model folder; `lft convert` calls them.
export { convertLlama2c } from "./llama2c.ts";
