// Scoring replies with a reward model that `train rm` wrote: the base model (with the reward adapter
// when the folder holds one, or the folder's own full weights) plus its value_head.safetensors. Each
// prompt and reply is encoded as the pairwise processor encodes a training pair (one turn, the
// template the data worker would pick), and scored at its last token.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { err, ok, type Result } from "neverthrow";
import { type CommandIO, collate, noGrad, type Registry, type ResolvedRecipe, tidy, validateOptions } from "../../core/index.ts";
import { disposeValueHead, loadValueHead, modelBackend, scoreBatch, VALUE_HEAD_FILE } from "../stages/index.ts";
import { fail, type RunFailure } from "./failure.ts";
import { ensureModel } from "./model.ts";
import { dropModelState, type ModelState } from "./state.ts";

export interface ScoredReply {
  readonly prompt: string;
  readonly response: string;
  readonly system?: string;
}

/** The template the data worker picks: the named one, else the tokenizer's chat template (hf), else empty. */
function templateName(recipe: ResolvedRecipe, state: ModelState, registry: Registry): string {
  const named = recipe.model?.options.template;
  if (typeof named === "string") return named;
  return state.tokenizer.chatTemplate !== null && registry.has("templates", "hf") ? "hf" : "empty";
}

/** Rewards of the replies from the loaded model (its reward adapter attached) and the head in rewardDir. */
export function scoreReplies(
  recipe: ResolvedRecipe,
  state: ModelState,
  registry: Registry,
  rewardDir: string,
  replies: readonly ScoredReply[],
): Result<number[], RunFailure> {
  const head = loadValueHead(rewardDir, state.spec.hiddenSize, modelBackend(state.model));
  if (head.isErr()) return fail(head.error.message);
  try {
    const name = templateName(recipe, state, registry);
    const entry = registry.get("templates", name);
    if (entry.isErr()) return fail(`template ${name}: ${entry.error.message}`);
    const options = validateOptions(entry.value.options ?? {}, {}, `chat template "${name}"`);
    if (options.isErr()) return fail(options.error.map((e) => e.message).join("; "));
    const encoder = entry.value.create(state.tokenizer, options.value);
    if (encoder.isErr()) return fail(`template ${name}: ${encoder.error}`);
    const e = encoder.value;
    const seqs = [];
    for (const r of replies) {
      const encoded = e.encodeOneturn(
        [
          { role: "user", content: r.prompt },
          { role: "assistant", content: r.response },
        ],
        r.system ?? "",
        "",
      );
      if (encoded.isErr()) return fail(`template ${e.name}: ${encoded.error}`);
      const [promptIds, replyIds] = encoded.value;
      const inputIds = [...promptIds, ...replyIds, ...(e.efficientEos ? [e.eosId] : [])];
      seqs.push({ inputIds, labels: inputIds });
    }
    const batch = collate(seqs, { padId: e.padId });
    const was = state.method?.applied.training;
    if (state.method) state.method.applied.training = false;
    try {
      return ok(noGrad(() => tidy(() => Array.from(scoreBatch(state.model, head.value, batch).toArray() as ArrayLike<number>))));
    } finally {
      if (state.method && was !== undefined) state.method.applied.training = was;
    }
  } finally {
    disposeValueHead(head.value);
  }
}

/**
 * `lft score`'s work: loads `base` (or the reward folder itself when it holds full weights) with the
 * reward adapter, scores the replies, and frees the model.
 */
export function scoreWithRewardModel(
  rewardDir: string,
  base: string | undefined,
  replies: readonly ScoredReply[],
  registry: Registry,
  io: CommandIO,
  modelOptions: Readonly<Record<string, string>> = {},
): Result<number[], RunFailure> {
  const resolved = resolve(io.cwd, rewardDir);
  if (!existsSync(join(resolved, VALUE_HEAD_FILE)))
    return fail(`${rewardDir}: no ${VALUE_HEAD_FILE} there; lft score takes the output folder of a \`train rm\` run`);
  const hasAdapter = existsSync(join(resolved, "adapter_config.json"));
  const whole = existsSync(join(resolved, "config.json"));
  const modelPath = hasAdapter ? base : (base ?? (whole ? resolved : undefined));
  if (modelPath === undefined) return fail(`${rewardDir} holds a reward adapter: name its base model with --model <dir>`);
  const recipe: ResolvedRecipe = {
    file: "lft score",
    baseDir: io.cwd,
    uses: [],
    model: { path: modelPath, options: { device: "auto", seed: 42, ...modelOptions, ...(hasAdapter ? { adapter: resolved } : {}) } },
    datasets: [],
    actions: [],
  };
  const live = new Map<string, unknown>();
  const state = ensureModel(recipe, recipe.model!, registry, live, io);
  if (state.isErr()) return err(state.error);
  try {
    return scoreReplies(recipe, state.value, registry, resolved, replies);
  } finally {
    dropModelState(live);
  }
}
