// `export "<dir>"`: the model as a Hugging Face folder. merge = false writes what the method trained
// (a PEFT adapter for lora; a whole checkpoint for full and freeze); merge = true folds adapters into
// the base weights and writes a complete model that loads without PEFT. Either way the base's
// tokenizer files go along, so the folder is usable on its own.
import { ok, type Result } from "neverthrow";
import type { ExportAction } from "../../core/index.ts";
import { copyTokenizerFiles, saveModel } from "../../core/index.ts";
import { type SlotTemplateSpec, slotTemplateAsJinja } from "../data/index.ts";
import { exportMerged } from "../methods/index.ts";
import { chatSettingsOf, recordTemplateInTokenizerConfig, writeChatSettings } from "./chat-settings.ts";
import { fail, messageOf, type RunFailure } from "./failure.ts";
import { plural } from "./format.ts";
import { recipePath, shown } from "./paths.ts";
import { type ActionEnd, type Scope, say, warn } from "./scope.ts";

/** The named template as a Jinja chat template, when it is a slot template with that form. */
function templateJinja(scope: Scope, name: string): string | undefined {
  const entry = scope.registry.get("templates", name);
  if (entry.isErr()) return undefined;
  const spec = (entry.value as { spec?: SlotTemplateSpec }).spec;
  return spec === undefined ? undefined : slotTemplateAsJinja(spec);
}

export function exportAction(action: ExportAction, scope: Scope): Result<ActionEnd, RunFailure> {
  const { recipe, io, state } = scope;
  const dir = recipePath(recipe, action.path);
  const where = `export ${shown(dir, io.cwd)}`;
  const dtype = action.options.dtype as "f32" | "bf16" | "f16" | undefined;
  const merge = action.options.merge === true;
  const attached = state.method;
  let files: string[];
  let what: string;
  try {
    if (attached !== undefined && merge) {
      const exported = exportMerged(attached.applied, dir, { baseDir: state.dir, ...(dtype === undefined ? {} : { dtype }) });
      if (exported.isErr()) return fail(`${where}: ${exported.error.message}`);
      // The adapters are folded in: the model is a plain model now, and a later method block starts afresh on it.
      state.method = undefined;
      state.history.push(`${attached.applied.method} merged`);
      files = exported.value.files;
      what = `merged model (${attached.applied.method} folded into the base weights)`;
    } else if (attached !== undefined) {
      if (dtype !== undefined) warn(io, `${where}: dtype applies to merge = true; what the method trained is written as it is stored`);
      const saved = attached.applied.saveTrainable(dir);
      if (saved.isErr()) return fail(`${where}: ${saved.error.message}`);
      files = [...saved.value, ...copyTokenizerFiles(state.dir, dir)];
      what = attached.applied.method === "lora" ? "PEFT adapter" : `${attached.applied.method}-trained model`;
    } else {
      const saved = saveModel(state.model, dir, dtype === undefined ? {} : { dtype });
      if (saved.isErr()) return fail(`${where}: ${saved.error.message}`);
      files = [...saved.value.files, ...copyTokenizerFiles(state.dir, dir)];
      what = "model (no method attached: the weights as they are)";
    }
  } catch (e) {
    return fail(`${where}: ${messageOf(e)}`);
  }
  const settings = chatSettingsOf(recipe);
  files.push(...writeChatSettings(dir, settings));
  recordTemplateInTokenizerConfig(dir, settings, settings === undefined ? undefined : templateJinja(scope, settings.template));
  say(io, `${where}: ${what}, ${plural(files.length, "file")}`);
  return ok("done");
}
