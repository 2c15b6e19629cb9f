// A model folder (with an adapter and a template) opened for serving chat requests: what `lft api` and
// other long-lived servers use. It loads exactly as `lft chat` and a recipe's chat block do (ensureModel,
// promptRenderer), and generates step by step so a server can interleave its other work between steps.
import { basename } from "node:path";
import { err, ok, type Result } from "neverthrow";
import {
  type CommandIO,
  contextLength,
  type GenerateResult,
  generateSteps,
  type Message,
  type Registry,
  type ResolvedRecipe,
  type TokenEvent,
} from "../../core/index.ts";
import { rememberedSettings } from "./chat-settings.ts";
import { ensureModel } from "./model.ts";
import { recipePath } from "./paths.ts";
import { promptRenderer } from "./prompts.ts";
import { generateOptionsFor, type Sampling } from "./sampling.ts";
import { dropModelState } from "./state.ts";

export interface ServeModelOptions {
  /** The model folder (Hugging Face layout). */
  readonly path: string;
  readonly adapter?: string;
  /** A registered template name; default what the adapter remembers, else the tokenizer's chat template. */
  readonly template?: string;
  /** cpu | cuda | auto (default auto). */
  readonly device?: string;
}

export interface ServedModel {
  /** The name clients ask for: the model folder's name. */
  readonly id: string;
  /** How prompts are rendered (`template default`, `the tokenizer's chat template`, ...). */
  readonly describe: string;
  /** Positions the model can attend to: prompt plus generated tokens never exceed it. */
  readonly contextLength: number;
  /** The template's tool format; undefined when the template cannot take tools. */
  readonly toolFormat?: string;
  /** The system prompt an adapter remembers ("" for the template's default). */
  readonly defaultSystem: string;
  render(turns: readonly Message[], system: string, tools: string): Result<number[], string>;
  /** Generation for `prompts` as steps (see core's generateSteps); `stop` adds to the template's stop words. */
  start(
    prompts: readonly (readonly number[])[],
    sampling: Sampling,
    stop: readonly string[],
    onToken?: (e: TokenEvent) => void,
  ): Result<Generator<number, GenerateResult, void>, string>;
  close(): void;
}

export function openServedModel(o: ServeModelOptions, registry: Registry, io: CommandIO): Result<ServedModel, string> {
  const recipe: ResolvedRecipe = {
    file: "lft api",
    baseDir: io.cwd,
    uses: [],
    model: {
      path: o.path,
      options: {
        device: o.device ?? "auto",
        seed: 42,
        ...(o.template !== undefined && { template: o.template }),
        ...(o.adapter !== undefined && { adapter: o.adapter }),
      },
    },
    datasets: [],
    actions: [],
  };
  const live = new Map<string, unknown>();
  const state = ensureModel(recipe, recipe.model!, registry, live, io);
  if (state.isErr()) return err(state.error.message);
  const renderer = promptRenderer({ recipe, registry, state: state.value });
  if (renderer.isErr()) {
    dropModelState(live);
    return err(renderer.error.message);
  }
  const r = renderer.value;
  const remembered = rememberedSettings(recipe, (p) => recipePath(recipe, p));
  return ok({
    id: basename(recipePath(recipe, o.path)),
    describe: r.describe,
    contextLength: contextLength(state.value.spec.rope),
    ...(r.toolFormat !== undefined && { toolFormat: r.toolFormat }),
    defaultSystem: remembered?.system ?? "",
    render: (turns, system, tools) => r.render(turns, system, tools).mapErr((e) => e.message),
    start(prompts, sampling, stop, onToken) {
      const steps = generateSteps(state.value.model, prompts, generateOptionsFor(state.value, r, sampling, onToken, stop));
      return steps.mapErr((e) => e.message);
    },
    close: () => dropModelState(live),
  });
}
