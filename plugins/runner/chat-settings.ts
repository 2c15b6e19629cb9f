// What an adapter or export remembers about chatting with it: `lft_chat.json` beside PEFT's own files
// (which stay untouched) holds the template the run trained with, its default system prompt and the
// generation settings of the recipe's chat/predict blocks. `lft chat --adapter DIR` and a model block's
// `adapter = "DIR"` read it when no template is named. An export also writes the template into its
// tokenizer_config.json: `chat_template` as Jinja where the slot template has that form, and always
// `lft_template` (the name), since some templates (fused system, reasoning) have no Jinja rendering here.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ResolvedRecipe } from "../../core/index.ts";

export const CHAT_SETTINGS_FILE = "lft_chat.json";

export interface ChatSettings {
  readonly template: string;
  readonly system?: string;
  readonly generation?: Readonly<Record<string, number>>;
}

const GENERATION_KEYS = ["max_new_tokens", "temperature", "top_p", "top_k", "repetition_penalty"];

/** The settings a recipe trains or exports with; undefined when it names no template (the tokenizer's own applies). */
export function chatSettingsOf(recipe: Pick<ResolvedRecipe, "model" | "actions">): ChatSettings | undefined {
  const template = recipe.model?.options.template;
  if (typeof template !== "string") return undefined;
  const asked = recipe.actions.find((a) => a.action === "chat" || a.action === "predict");
  const options = (asked?.options ?? {}) as Record<string, unknown>;
  const generation: Record<string, number> = {};
  for (const k of GENERATION_KEYS) if (typeof options[k] === "number") generation[k] = options[k] as number;
  const system = typeof options.system === "string" ? options.system : undefined;
  return { template, ...(system !== undefined && { system }), ...(Object.keys(generation).length > 0 && { generation }) };
}

/** Writes lft_chat.json into `dir`; returns the file written, or none when there is nothing to remember. */
export function writeChatSettings(dir: string, settings: ChatSettings | undefined): string[] {
  if (settings === undefined) return [];
  const file = join(dir, CHAT_SETTINGS_FILE);
  writeFileSync(file, `${JSON.stringify(settings, null, 2)}\n`);
  return [file];
}

/** Adds `lft_template`, and `chat_template` when `jinja` is given, to an exported tokenizer_config.json. */
export function recordTemplateInTokenizerConfig(dir: string, settings: ChatSettings | undefined, jinja: string | undefined): void {
  const file = join(dir, "tokenizer_config.json");
  if (settings === undefined || !existsSync(file)) return;
  const config = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  config.lft_template = settings.template;
  if (jinja !== undefined) config.chat_template = jinja;
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
}

/** lft_chat.json of an adapter or export folder; undefined when it has none or it does not parse. */
export function readChatSettings(dir: string): ChatSettings | undefined {
  const file = join(dir, CHAT_SETTINGS_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as ChatSettings;
    return typeof parsed.template === "string" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The template to chat with: the recipe's own, else what its adapter remembers. */
export function rememberedSettings(recipe: Pick<ResolvedRecipe, "model" | "baseDir">, resolve: (path: string) => string): ChatSettings | undefined {
  if (typeof recipe.model?.options.template === "string") return undefined;
  const adapter = recipe.model?.options.adapter;
  if (typeof adapter === "string") return readChatSettings(resolve(adapter));
  return recipe.model === undefined ? undefined : readChatSettings(resolve(recipe.model.path));
}
