// The built-in data plugins (dataset formats and chat templates; add `...dataPlugins` to builtinPlugins),
// and the public entry of what they are built on, for other areas and for third-party format and
// template plugins: row readers, turn alignment, slot templates, the `hf` encoder, tool formats.
import type { Plugin } from "../../core/index.ts";
import alpaca from "./formats/alpaca.ts";
import kto from "./formats/kto.ts";
import openai from "./formats/openai.ts";
import pairwise from "./formats/pairwise.ts";
import sharegpt from "./formats/sharegpt.ts";
import text from "./formats/text.ts";
import v1 from "./formats/v1.ts";
import alpacaTemplate from "./templates/alpaca.ts";
import chatml from "./templates/chatml.ts";
import chatmlVariants from "./templates/chatml-variants.ts";
import cohere from "./templates/cohere.ts";
import defaultTemplate from "./templates/default.ts";
import fewshot from "./templates/fewshot.ts";
import gemma from "./templates/gemma.ts";
import gemmaVariants from "./templates/gemma-variants.ts";
import glm4 from "./templates/glm4.ts";
import gptOss from "./templates/gpt-oss.ts";
import hf from "./templates/hf.ts";
import llamaVariants from "./templates/llama-variants.ts";
import llama2 from "./templates/llama2.ts";
import llama3 from "./templates/llama3.ts";
import mimo from "./templates/mimo.ts";
import mistral from "./templates/mistral.ts";
import mistralVariants from "./templates/mistral-variants.ts";
import phi from "./templates/phi.ts";
import phiVariants from "./templates/phi-variants.ts";
import qwen from "./templates/qwen.ts";
import qwen35 from "./templates/qwen35.ts";
import vicuna from "./templates/vicuna.ts";

export const dataFormatPlugins: readonly Plugin[] = [alpaca, sharegpt, openai, v1, pairwise, kto, text];
export const templatePlugins: readonly Plugin[] = [
  defaultTemplate,
  alpacaTemplate,
  vicuna,
  chatml,
  llama2,
  llama3,
  mistral,
  qwen,
  gemma,
  phi,
  chatmlVariants,
  llamaVariants,
  mistralVariants,
  gemmaVariants,
  phiVariants,
  mimo,
  qwen35,
  glm4,
  cohere,
  gptOss,
  fewshot,
  hf,
];
export const dataPlugins: readonly Plugin[] = [...dataFormatPlugins, ...templatePlugins];

export { type AlpacaPrompt, alpacaFormat, alpacaPrompt } from "./formats/alpaca.ts";
export { columnOptions, tagOptions } from "./formats/columns.ts";
export { ktoFormat } from "./formats/kto.ts";
export { alignOpenai, OPENAI_TAGS, openaiFormat } from "./formats/openai.ts";
export { pairwiseFormat } from "./formats/pairwise.ts";
export { asRow, optionalString, problem, type Row, requireString, toolsText } from "./formats/row-fields.ts";
export { alignSharegpt, sharegptFormat } from "./formats/sharegpt.ts";
export { textFormat } from "./formats/text.ts";
export { type AlignedTurns, allowedAt, RESPONSE_ROLES, roleOf, splitLastTurn, turnOf } from "./formats/turns.ts";
export { V1_COLUMNS, v1Format, v1Pairwise } from "./formats/v1.ts";
export { createHfEncoder } from "./templates/hf.ts";
export { pyJsonDumps } from "./templates/pyjson.ts";
export { createSlotEncoder, DEFAULT_THOUGHT_WORDS, type SlotTemplateOptions } from "./templates/slot-encoder.ts";
export { slotTemplateAsJinja } from "./templates/slot-jinja.ts";
export { BOS, EOS, type Slot, type SlotTemplateSpec } from "./templates/slot-spec.ts";
export { defineSlotTemplate, reasoningTemplateOptions, type SlotTemplateEntry, slotTemplateOptions } from "./templates/slot-template.ts";
export { fixSpecialTokens, type SpecialTokenIds } from "./templates/special-tokens.ts";
export { extractCalls, type FunctionCall, parseCalls, TOOL_FORMATS, TOOL_UTILS, type ToolFormat, type ToolUtils } from "./templates/tools.ts";
