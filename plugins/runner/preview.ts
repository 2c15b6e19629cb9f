// The samples a recipe's train action would train on, as the board's Train page previews them:
// the recipe's data blocks through the data worker with the first train stage's sample processor,
// the model's tokenizer and template, decoded back to text with the prompt and the learned part apart.
import { err, ok, type Result } from "neverthrow";
import {
  dataOptionSchema,
  IGNORE_INDEX,
  loadTokenizer,
  prepareData,
  type Registry,
  type ResolvedRecipe,
  type Tokenizer,
  type TokenSeq,
  validateOptions,
} from "../../core/index.ts";
import { sequences } from "./data.ts";
import { selectData } from "./datasets.ts";
import { messageOf } from "./failure.ts";
import { recipePath } from "./paths.ts";

export interface PreviewSample {
  /** The whole sequence decoded. */
  readonly text: string;
  /** What is masked out of the loss (the prompt, template tokens). */
  readonly prompt: string;
  /** What the model learns (labels kept). */
  readonly response: string;
  readonly tokens: number;
}

function decodeSplit(tokenizer: Tokenizer, seq: TokenSeq): PreviewSample {
  const masked = seq.inputIds.filter((_, i) => seq.labels[i] === IGNORE_INDEX);
  const learned = seq.inputIds.filter((_, i) => seq.labels[i] !== IGNORE_INDEX);
  return { text: tokenizer.decode(seq.inputIds), prompt: tokenizer.decode(masked), response: tokenizer.decode(learned), tokens: seq.inputIds.length };
}

export async function previewRecipeSamples(recipe: ResolvedRecipe, registry: Registry, cwd: string, count: number): Promise<Result<PreviewSample[], string>> {
  if (recipe.model === undefined) return err("the recipe has no model block: the preview needs its tokenizer");
  if (recipe.datasets.length === 0) return err("the recipe has no dataset block to preview");
  const train = recipe.actions.find((a) => a.action === "train");
  const stageName = train?.action === "train" ? train.stage : "sft";
  const stage = registry.get("stages", stageName);
  if (stage.isErr()) return err(stage.error.message);
  const processor = stage.value.processor;
  if (processor === undefined) return err(`stage "${stageName}" builds no samples (it registers no sample processor)`);
  const tokenizer = loadTokenizer(recipePath(recipe, recipe.model.path));
  if (tokenizer.isErr()) return err(`model: ${tokenizer.error.message}`);
  const selection = await selectData(recipe, recipe.datasets, registry, cwd);
  if (selection.isErr()) return err(messageOf(selection.error));
  const template = recipe.model.options.template;
  const cutoff = train?.action === "train" ? Number(train.options.cutoff) : 1024;
  // The first rows of each source are enough to show a few (some may be skipped): a big set is not read whole.
  const ownLimit = selection.value.mix.max_samples;
  const maxSamples = Math.min(typeof ownLimit === "number" ? ownLimit : Number.POSITIVE_INFINITY, Math.max(count, 64));
  const options = validateOptions(
    dataOptionSchema,
    {
      dataset: selection.value.names,
      dataset_dir: recipe.baseDir,
      cutoff_len: cutoff,
      ...selection.value.mix,
      max_samples: maxSamples,
      ...(typeof template === "string" ? { template } : {}),
    },
    "data",
  );
  if (options.isErr()) return err(options.error.map((e) => e.message).join("; "));
  const prepared = await prepareData({ registry, tokenizer: tokenizer.value, processor, options: options.value, datasetInfo: selection.value.info });
  if (prepared.isErr()) return err(`data: ${prepared.error.message}`);
  return ok(
    prepared.value.train
      .slice(0, count)
      .flatMap(sequences)
      .map((seq) => decodeSplit(tokenizer.value, seq)),
  );
}
