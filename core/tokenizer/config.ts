// tokenizer_config.json: the named special tokens (strings or AddedToken objects), Llama-style
// add_bos_token / add_eos_token, the chat template(s) (one string, or a list of {name, template}), and
// clean_up_tokenization_spaces.

export interface TokenizerConfig {
  bosToken: string | null;
  eosToken: string | null;
  padToken: string | null;
  unkToken: string | null;
  /** undefined when the config does not say (then tokenizer.json's post-processor decides). */
  addBosToken: boolean | undefined;
  addEosToken: boolean | undefined;
  /** The template transformers uses by default ("default" when the config has a list), or null. */
  chatTemplate: string | null;
  /** Every named template (a single string is named "default"). */
  chatTemplates: Record<string, string>;
  /** clean_up_tokenization_spaces: decode drops the space before punctuation and contractions (default false). */
  cleanUpTokenizationSpaces: boolean;
}

export const EMPTY_CONFIG: TokenizerConfig = {
  bosToken: null,
  eosToken: null,
  padToken: null,
  unkToken: null,
  addBosToken: undefined,
  addEosToken: undefined,
  chatTemplate: null,
  chatTemplates: {},
  cleanUpTokenizationSpaces: false,
};

/** Parses the config object, or returns an error message naming the offending key. */
export function parseTokenizerConfig(json: unknown): TokenizerConfig | string {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return "expected a JSON object";
  const c = json as Record<string, unknown>;
  const names: Record<string, string | null> = {};
  for (const key of ["bos_token", "eos_token", "pad_token", "unk_token"]) {
    const v = c[key];
    if (v === undefined || v === null) names[key] = null;
    else if (typeof v === "string") names[key] = v;
    else if (typeof v === "object" && typeof (v as { content?: unknown }).content === "string") names[key] = (v as { content: string }).content;
    else return `${key} must be a string, an AddedToken object with "content", or null; found ${JSON.stringify(v)}`;
  }
  const flags: Record<string, boolean | undefined> = {};
  for (const key of ["add_bos_token", "add_eos_token"]) {
    const v = c[key];
    if (v !== undefined && v !== null && typeof v !== "boolean") return `${key} must be true or false; found ${JSON.stringify(v)}`;
    flags[key] = v ?? undefined;
  }
  const cleanUp = c.clean_up_tokenization_spaces;
  if (cleanUp !== undefined && cleanUp !== null && typeof cleanUp !== "boolean")
    return `clean_up_tokenization_spaces must be true or false; found ${JSON.stringify(cleanUp)}`;
  const templates: Record<string, string> = {};
  const t = c.chat_template;
  if (typeof t === "string") templates.default = t;
  else if (Array.isArray(t)) {
    for (const [i, entry] of t.entries()) {
      const e = entry as { name?: unknown; template?: unknown };
      if (typeof e?.name !== "string" || typeof e.template !== "string") {
        return `chat_template[${i}] must be {"name": string, "template": string}; found ${JSON.stringify(entry).slice(0, 80)}`;
      }
      templates[e.name] = e.template;
    }
  } else if (t !== undefined && t !== null) return `chat_template must be a string or a list of {name, template}; found ${typeof t}`;
  return {
    bosToken: names.bos_token ?? null,
    eosToken: names.eos_token ?? null,
    padToken: names.pad_token ?? null,
    unkToken: names.unk_token ?? null,
    addBosToken: flags.add_bos_token,
    addEosToken: flags.add_eos_token,
    chatTemplate: templates.default ?? null,
    chatTemplates: templates,
    cleanUpTokenizationSpaces: cleanUp === true,
  };
}
