// The built-in data plugins: dataset formats and chat templates. Add `...dataPlugins` to builtinPlugins.
import type { Plugin } from "../../core/index.ts";
import alpaca from "./formats/alpaca.ts";
import kto from "./formats/kto.ts";
import openai from "./formats/openai.ts";
import pairwise from "./formats/pairwise.ts";
import sharegpt from "./formats/sharegpt.ts";
import text from "./formats/text.ts";
import alpacaTemplate from "./templates/alpaca.ts";
import chatml from "./templates/chatml.ts";
import defaultTemplate from "./templates/default.ts";
import gemma from "./templates/gemma.ts";
import hf from "./templates/hf.ts";
import llama2 from "./templates/llama2.ts";
import llama3 from "./templates/llama3.ts";
import mistral from "./templates/mistral.ts";
import phi from "./templates/phi.ts";
import qwen from "./templates/qwen.ts";
import vicuna from "./templates/vicuna.ts";

export const dataFormatPlugins: readonly Plugin[] = [alpaca, sharegpt, openai, pairwise, kto, text];
export const templatePlugins: readonly Plugin[] = [defaultTemplate, alpacaTemplate, vicuna, chatml, llama2, llama3, mistral, qwen, gemma, phi, hf];
export const dataPlugins: readonly Plugin[] = [...dataFormatPlugins, ...templatePlugins];
