// The special tokens an encode adds around a single text (HF add_special_tokens): from tokenizer.json's
// `post_processor`, or from tokenizer_config.json's add_bos_token / add_eos_token where those are set
// (transformers rebuilds the template from them, as LlamaTokenizerFast does).

export interface SpecialWrap {
  prefix: number[];
  suffix: number[];
}

interface TemplateItem {
  SpecialToken?: { id: string };
  Sequence?: { id: string };
}

interface PostProcessorJson {
  type: string;
  single?: TemplateItem[];
  special_tokens?: Record<string, { ids: number[] }>;
  processors?: PostProcessorJson[];
  cls?: [string, number];
  sep?: [string, number];
}

export const SUPPORTED_POST_PROCESSORS = ["TemplateProcessing", "ByteLevel", "RobertaProcessing", "BertProcessing", "Sequence"];

/** What the post-processor adds around one sequence, or an error message. */
export function buildSpecialWrap(json: unknown): SpecialWrap | string {
  const wrap: SpecialWrap = { prefix: [], suffix: [] };
  const apply = (cfg: PostProcessorJson): string | null => {
    switch (cfg.type) {
      case "ByteLevel":
        return null; // offsets only
      case "Sequence":
        for (const p of cfg.processors ?? []) {
          const e = apply(p);
          if (e) return e;
        }
        return null;
      case "RobertaProcessing":
      case "BertProcessing":
        if (!cfg.cls || !cfg.sep) return `post_processor ${cfg.type} lacks cls or sep`;
        wrap.prefix = [cfg.cls[1], ...wrap.prefix];
        wrap.suffix = [...wrap.suffix, cfg.sep[1]];
        return null;
      case "TemplateProcessing": {
        const before: number[] = [];
        const after: number[] = [];
        let seen = false;
        for (const item of cfg.single ?? []) {
          if (item.Sequence) {
            seen = true;
            continue;
          }
          const name = item.SpecialToken?.id;
          const ids = name === undefined ? undefined : cfg.special_tokens?.[name]?.ids;
          if (!ids) return `post_processor TemplateProcessing names special token ${JSON.stringify(name)} but special_tokens does not define it`;
          (seen ? after : before).push(...ids);
        }
        wrap.prefix = [...before, ...wrap.prefix];
        wrap.suffix = [...wrap.suffix, ...after];
        return null;
      }
      default:
        return `post_processor type "${cfg.type}" is not supported (supported: ${SUPPORTED_POST_PROCESSORS.join(", ")})`;
    }
  };
  if (json === null || json === undefined) return wrap;
  const e = apply(json as PostProcessorJson);
  return e ?? wrap;
}
