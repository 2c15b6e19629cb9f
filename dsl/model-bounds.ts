// What a recipe asks of a model whose config.json is readable, checked before anything loads (`lft
// check`, `lft run`): the model fits this machine's memory at the asked dtype (core's estimate, the
// odd config key named), an adapter's rank fits the layers it targets, and generation stays within the
// model's context. The loader, the method and generate() enforce the same bounds again at run time.
import { bytesPerParameter, contextLengthOfConfig, modelSizeProblem, type Registry, type ResolvedRecipe } from "../core/index.ts";
import { type Diagnostic, error, type Span } from "./diagnostics";
import type { Block, Entry } from "./recipe";

export interface ModelConfigSeen {
  readonly config: Readonly<Record<string, unknown>>;
  /** The config.json path, for messages. */
  readonly file: string;
}

export function checkModelBounds(seen: ModelConfigSeen, blocks: readonly Block[], resolved: ResolvedRecipe, registry: Registry, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const { config } = seen;
  const valueSpan = (block: Block, key: string): Span | undefined => block.body?.entries.find((e: Entry) => e.key === key)?.value.span;
  const modelBlock = blocks.find((b) => b.block === "model");
  const methodBlock = blocks.find((b) => b.block === "method");

  if (modelBlock !== undefined && resolved.model !== undefined) {
    const quantised = resolved.method?.name === "qlora";
    const bytes = bytesPerParameter(resolved.model.options.dtype ?? "auto", config, quantised);
    const problem = modelSizeProblem(config, { bytesPerParameter: bytes });
    if (problem !== undefined) {
      const key = problem.key === undefined ? "" : ` (look at "${problem.key}")`;
      const smaller = problem.detail.includes("of memory")
        ? bytes > 2
          ? "; dtype = bf16 in the model block halves the weights, method qlora stores them in 4 bits"
          : bytes > 0.5
            ? "; method qlora stores the weights in 4 bits"
            : ""
        : "";
      out.push(error("semantic", file, modelBlock.source?.span ?? modelBlock.span, `${seen.file}: ${problem.detail}${key}${smaller}`));
      return out;
    }
  }

  if (methodBlock !== undefined && resolved.method !== undefined) {
    const rankProblem = adapterRankProblem(resolved.method.options, config, familyTargets(resolved, config, registry));
    if (rankProblem !== undefined) out.push(error("semantic", file, valueSpan(methodBlock, "rank") ?? methodBlock.span, `${rankProblem} (${seen.file})`));
  }

  const context = contextLengthOfConfig(config);
  if (context !== undefined) {
    const actions = blocks.filter((b) => ["train", "eval", "predict", "export", "chat"].includes(b.block));
    for (const block of actions) {
      const span = valueSpan(block, "max_new_tokens");
      const asked = block.body?.entries.find((e) => e.key === "max_new_tokens");
      const value = asked?.value.kind === "number" ? asked.value.value : undefined;
      if (span === undefined || value === undefined || value < context) continue;
      const scaled = context === config.max_position_embeddings ? "max_position_embeddings" : "max_position_embeddings × rope_scaling factor";
      out.push(
        error(
          "semantic",
          file,
          span,
          `max_new_tokens = ${asked?.value.kind === "number" ? asked.value.text : value} does not fit the model's context of ${context} positions (${scaled} in ${seen.file}); the prompt and the answer share it: at most ${context - 1}`,
        ),
      );
    }
  }
  return out;
}

/** The model family's adapter targets (what `targets = [all]` expands to), when the family is known. */
function familyTargets(resolved: ResolvedRecipe, config: Readonly<Record<string, unknown>>, registry: Registry): readonly string[] {
  const named = resolved.model?.family;
  const modelType = config.model_type;
  const family = registry
    .list("models")
    .find((m) => (named !== undefined ? m.name === named : typeof modelType === "string" && m.modelTypes?.includes(modelType)));
  return family?.adapterTargets ?? [];
}

/** [out, in] of each adapter target a Llama-style config describes, by module name. */
function targetShapes(config: Readonly<Record<string, unknown>>): Map<string, readonly [number, number]> {
  const int = (key: string): number | undefined => {
    const v = config[key];
    return typeof v === "number" && Number.isSafeInteger(v) && v > 0 ? v : undefined;
  };
  const shapes = new Map<string, readonly [number, number]>();
  const hidden = int("hidden_size");
  const heads = int("num_attention_heads");
  if (hidden === undefined || heads === undefined) return shapes;
  const headDim = int("head_dim") ?? Math.floor(hidden / heads);
  const kv = int("num_key_value_heads") ?? heads;
  const width = int("intermediate_size");
  shapes.set("q_proj", [heads * headDim, hidden]);
  shapes.set("k_proj", [kv * headDim, hidden]);
  shapes.set("v_proj", [kv * headDim, hidden]);
  shapes.set("o_proj", [hidden, heads * headDim]);
  shapes.set("qkv_proj", [(heads + 2 * kv) * headDim, hidden]);
  if (width !== undefined) {
    for (const name of ["gate_proj", "up_proj", "w1", "w3"]) shapes.set(name, [width, hidden]);
    for (const name of ["down_proj", "w2"]) shapes.set(name, [hidden, width]);
    shapes.set("gate_up_proj", [2 * width, hidden]);
  }
  const experts = int("num_local_experts");
  if (experts !== undefined) shapes.set("gate", [experts, hidden]);
  return shapes;
}

/**
 * The method's rank against its targets' shapes (the rule the LoRA method applies when it attaches):
 * PiSSA's rank is at most every target's smaller side, any other rank at most the widest target's.
 * Only for methods with `rank` and `targets` options; targets the config does not describe are skipped.
 */
export function adapterRankProblem(
  options: Readonly<Record<string, unknown>>,
  config: Readonly<Record<string, unknown>>,
  allTargets: readonly string[],
): string | undefined {
  const rank = options.rank;
  const targets = options.targets;
  if (typeof rank !== "number" || !Array.isArray(targets)) return undefined;
  const names = [...new Set(targets.flatMap((t) => (t === "all" ? allTargets : typeof t === "string" ? [t] : [])))];
  const shapes = targetShapes(config);
  const known = names.flatMap((name) => {
    const shape = shapes.get(name);
    return shape === undefined ? [] : [{ name, shape, side: Math.min(shape[0], shape[1]) }];
  });
  if (known.length === 0) return undefined;
  const pissa = options.init === "pissa";
  const bound = pissa ? known.reduce((a, b) => (b.side < a.side ? b : a)) : known.reduce((a, b) => (b.side > a.side ? b : a));
  if (rank <= bound.side) return undefined;
  const which = pissa ? `PiSSA's rank is at most the smaller side of every target; ${bound.name}` : `the widest target, ${bound.name},`;
  return `rank ${rank} is more than the layers can hold: ${which} is [${bound.shape[0]}, ${bound.shape[1]}], so rank is at most min(in, out) = ${bound.side}`;
}
