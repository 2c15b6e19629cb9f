// The model block → a loaded model in the session: the backend chosen by `device`, the weights in the
// asked storage dtype, the tokenizer beside them, and an adapter put on top when `adapter` names one.
// The same block twice (the REPL after every statement) keeps the model already loaded.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ok, type Result } from "neverthrow";
import type { ModelBlock, ResolvedRecipe } from "../../core/index.ts";
import {
  type CommandIO,
  countElements,
  defaultBackend,
  Linear,
  type LoadHooks,
  loadModel,
  loadTokenizer,
  methodEntry,
  type Registry,
  selectBackend,
  setDefaultBackend,
} from "../../core/index.ts";
import { fail, messageOf, type RunFailure } from "./failure.ts";
import { count, seconds } from "./format.ts";
import { methodKey } from "./method.ts";
import { recipePath, shown } from "./paths.ts";
import { say, warn } from "./scope.ts";
import { dropModelState, type ModelState, modelState, setModelState } from "./state.ts";

/** The recipe method's load hooks (QLoRA quantises while loading), if it has any. */
function loadHooks(recipe: ResolvedRecipe, registry: Registry): LoadHooks | null {
  if (!recipe.method) return null;
  const entry = registry.get("methods", recipe.method.name);
  if (entry.isErr()) return null;
  const method = methodEntry(entry.value);
  return method.isOk() && method.value.loadHooks ? method.value.loadHooks(recipe.method.options) : null;
}

function modelKey(recipe: ResolvedRecipe, block: ModelBlock, transformed: boolean): string {
  const o = block.options;
  const adapter = typeof o.adapter === "string" ? recipePath(recipe, o.adapter) : null;
  // A load hook makes the loaded weights depend on the method's options: a change means a reload.
  const method = transformed && recipe.method ? methodKey(recipe.method) : null;
  return JSON.stringify({
    dir: recipePath(recipe, block.path),
    family: block.family ?? null,
    dtype: o.dtype ?? "auto",
    device: o.device ?? "auto",
    adapter,
    method,
  });
}

/** The session's model for this recipe: the one in `live` when the block is unchanged, else a fresh load. */
export function ensureModel(
  recipe: ResolvedRecipe,
  block: ModelBlock,
  registry: Registry,
  live: Map<string, unknown>,
  io: CommandIO,
  force = false,
): Result<ModelState, RunFailure> {
  const hooks = loadHooks(recipe, registry);
  const key = modelKey(recipe, block, hooks !== null);
  const current = modelState(live);
  if (current !== undefined && current.key === key && !force) return ok(current);
  if (current !== undefined) dropModelState(live);

  const t0 = performance.now();
  const dir = recipePath(recipe, block.path);
  const where = `model ${shown(dir, io.cwd)}`;
  const device = String(block.options.device ?? "auto");
  const backend = selectBackend(registry, device);
  if (backend.isErr()) return fail(`${where}: ${backend.error.message}`);
  // Tensors the loss and generation make go to the default backend: it must be the model's.
  if (defaultBackend() !== backend.value) setDefaultBackend(backend.value);

  if (!existsSync(join(dir, "config.json")))
    return fail(`${where}: no config.json in ${dir}; a model block names a Hugging Face model folder (config.json, *.safetensors, tokenizer.json)`);
  const dtype = (block.options.dtype as "f32" | "bf16" | "f16" | undefined) ?? "auto";
  const loaded = loadModel(dir, registry, { dtype, backend: backend.value, ...hooks });
  if (loaded.isErr()) return fail(`${where}: ${loaded.error.message}`);
  const { model, family, spec, generation, warnings } = loaded.value;
  if (block.family !== undefined && block.family !== family.name) {
    model.dispose();
    return fail(
      `${where}: the recipe says model family "${block.family}", but ${join(dir, "config.json")} has model_type "${spec.family}" (family "${family.name}"); write model ${family.name} "${block.path}" or leave the family out`,
    );
  }
  const tokenizer = loadTokenizer(dir);
  if (tokenizer.isErr()) {
    model.dispose();
    return fail(`${where}: ${tokenizer.error.message}`);
  }
  if (tokenizer.value.vocabSize > spec.vocabSize)
    warn(
      io,
      `${where}: the tokenizer has ${tokenizer.value.vocabSize} tokens but the model's vocabulary is ${spec.vocabSize}; ids above it cannot be embedded`,
    );
  for (const w of warnings) warn(io, `${where}: ${w}`);

  const state: ModelState = { key, dir, model, family, spec, generation, tokenizer: tokenizer.value, backend: backend.value, history: [], data: new Map() };
  setModelState(live, state);
  // Weights a load hook stored in another form (QLoRA's NF4) count as parameters too, under their format.
  const frozen = model.namedModules().flatMap(([, m]) => (m instanceof Linear && m.frozen ? [m.frozen] : []));
  const dtypes = [...new Set([...model.parameters().map((p) => p.dtype), ...frozen.map((f) => f.format)])].join("/");
  const total = countElements(model.parameters()) + frozen.reduce((s, f) => s + f.rows * f.cols, 0);
  say(
    io,
    `model ${family.name} ${shown(dir, io.cwd)}: ${count(total)} parameters (${spec.numLayers} layers, hidden ${spec.hiddenSize}, vocabulary ${spec.vocabSize}), ${dtypes} on ${backend.value.name}, loaded in ${seconds(performance.now() - t0)}`,
  );

  const adapter = block.options.adapter;
  if (typeof adapter === "string") {
    const attached = loadAdapter(recipe, state, registry, recipePath(recipe, adapter), io);
    if (attached.isErr()) {
      dropModelState(live);
      return attached;
    }
  }
  return ok(state);
}

/**
 * `adapter = "dir"`: a PEFT folder put on the base. When the recipe's method is the adapter's own
 * (lora on a LoRA adapter) the adapter stays trainable and training continues it; otherwise it is for
 * inference, and a different method merges it into the base first.
 */
function loadAdapter(recipe: ResolvedRecipe, state: ModelState, registry: Registry, dir: string, io: CommandIO): Result<ModelState, RunFailure> {
  const where = `adapter ${shown(dir, io.cwd)}`;
  const configFile = join(dir, "adapter_config.json");
  if (!existsSync(configFile))
    return fail(
      `${where}: no adapter_config.json there; adapter = names a PEFT adapter folder (what train writes to its output with method lora, or export with merge = false)`,
    );
  let peftType: unknown;
  try {
    peftType = (JSON.parse(readFileSync(configFile, "utf8")) as { peft_type?: unknown }).peft_type;
  } catch (e) {
    return fail(`${where}: adapter_config.json is not valid JSON: ${messageOf(e)}`);
  }
  const name = typeof peftType === "string" ? peftType.toLowerCase() : "lora";
  const entry = registry.get("methods", name);
  if (entry.isErr()) return fail(`${where}: peft_type "${String(peftType)}" needs method "${name}", which no loaded plugin registers`);
  const method = methodEntry(entry.value);
  if (method.isErr() || method.value.load === undefined) return fail(`${where}: method "${name}" cannot load saved adapters`);
  const continues = recipe.method?.name === name;
  const loaded = method.value.load(state.model, dir, state.family, { trainable: continues, seed: Number(recipe.model?.options.seed ?? 42) });
  if (loaded.isErr()) return fail(`${where}: ${loaded.error.message}`);
  state.method = { key: continues ? methodKey(recipe.method!) : `adapter:${dir}`, applied: loaded.value };
  state.history.push(`${name} adapter ${shown(dir, io.cwd)}`);
  say(
    io,
    `${where}: ${name} adapter loaded${continues ? "; training continues it (its adapter_config.json sets rank, alpha and targets, not the method block)" : " for inference"}`,
  );
  return ok(state);
}
