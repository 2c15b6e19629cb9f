// What a recipe needs from the disk, checked before anything loads (`lft check`, `lft run`): the model
// folder and its config.json (and, without a family word, a family for its model_type), the template's
// special tokens in the tokenizer files, dataset files and dataset_info names, data for eval/predict,
// writable output folders. Reads only small JSON files, never weights. A hub id is checked by syntax,
// and like a folder when its snapshot is in the local HF cache.

import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import {
  confinedEntry,
  datasetAttr,
  datasetFiles,
  didYouMean,
  parseRepoId,
  pathKind,
  type Registry,
  type ResolvedRecipe,
  readDatasetInfoText,
  suggest,
} from "../core/index.ts";
import { cachedSnapshot } from "../plugins/hub/index.ts";
import { defaultRunDir } from "../plugins/runner/index.ts";
import { type Diagnostic, error, type Span } from "./diagnostics";
import { checkModelBounds, type ModelConfigSeen } from "./model-bounds";
import type { Block, Entry, Recipe } from "./recipe";

export function checkResources(recipe: Recipe, resolved: ResolvedRecipe, registry: Registry): Diagnostic[] {
  const out: Diagnostic[] = [];
  const blocks = recipe.statements.filter((s): s is Block => s.kind === "block");
  const file = recipe.file;
  const at = (block: Block): Span => block.source?.span ?? block.span;
  const optionSpan = (block: Block, key: string): Span => block.body?.entries.find((e: Entry) => e.key === key)?.value.span ?? at(block);
  const path = (p: string): string => (isAbsolute(p) ? p : resolve(resolved.baseDir, p));

  const modelBlock = blocks.find((b) => b.block === "model");
  if (modelBlock !== undefined && resolved.model !== undefined) {
    const seen: { config?: ModelConfigSeen } = {};
    out.push(...checkModel(modelBlock, resolved.model, registry, file, path, optionSpan, seen));
    if (seen.config !== undefined) out.push(...checkModelBounds(seen.config, blocks, resolved, registry, file));
  }

  const dataBlocks = blocks.filter((b) => b.block === "dataset");
  resolved.datasets.forEach((d, i) => {
    const block = dataBlocks[i];
    if (block !== undefined) out.push(...checkData(d.source, d.options.dir, block, file, path));
  });

  const actionBlocks = blocks.filter((b) => ["train", "eval", "predict", "export", "chat"].includes(b.block));
  let heldOut = false;
  resolved.actions.forEach((action, i) => {
    const block = actionBlocks[i];
    if (block === undefined) return;
    if (action.action === "train") {
      heldOut = typeof action.options.holdout === "number" && action.options.holdout > 0;
      // Without an output the run writes to runs/<recipe name>: that must be a folder too.
      if (typeof action.options.output === "string") out.push(...writable(action.options.output, optionSpan(block, "output"), file, path));
      else
        out.push(
          ...writable(defaultRunDir(resolved), block.span, file, path).map((d) => ({
            ...d,
            message: `${d.message} (the default output; set output = "<folder>" in the train block to write elsewhere)`,
          })),
        );
    } else if (action.action === "eval") {
      if (action.source !== undefined) out.push(...checkData(action.source, action.options.dir, block, file, path));
      else if (!heldOut)
        out.push(
          error(
            "semantic",
            file,
            block.span,
            'eval has no data: give it a source (eval alpaca "data/val.json"), or hold data out in the train block before it (holdout = 10%)',
          ),
        );
    } else if (action.action === "predict") {
      if (action.source === "") out.push(error("semantic", file, block.span, 'predict has no data: give it a source (predict alpaca "data/test.json")'));
      else out.push(...checkData(action.source, action.options.dir, block, file, path));
      out.push(...writable(action.options.output, optionSpan(block, "output"), file, path, true));
    } else if (action.action === "export") out.push(...writable(action.path, at(block), file, path));
  });
  return out;
}

function checkModel(
  block: Block,
  model: NonNullable<ResolvedRecipe["model"]>,
  registry: Registry,
  file: string,
  path: (p: string) => string,
  optionSpan: (block: Block, key: string) => Span,
  seen: { config?: ModelConfigSeen } = {},
): Diagnostic[] {
  const span = block.source?.span ?? block.span;
  let dir = path(model.path);
  if (!existsSync(dir)) {
    // A hub id is checked by its syntax, and its snapshot like a folder when the HF cache has it
    // (otherwise the download happens at run time).
    const repo = parseRepoId(model.path);
    if (repo === undefined) return [error("io", file, span, `no model folder ${dir}`)];
    const cached = cachedSnapshot("model", repo.id, repo.revision);
    if (cached === undefined) return [];
    dir = cached;
  }
  if (!statSync(dir).isDirectory()) return [error("io", file, span, `${dir} is a file; a model is a folder with config.json`)];
  const config = readJson(resolve(dir, "config.json"));
  if (typeof config === "string") return [error("io", file, span, config)];
  seen.config = { config, file: resolve(dir, "config.json") };
  const out: Diagnostic[] = [];
  const modelType = config.model_type;
  if (model.family === undefined && typeof modelType === "string" && !registry.list("models").some((m) => m.modelTypes?.includes(modelType))) {
    const known = registry.list("models").flatMap((m) => m.modelTypes ?? []);
    out.push(
      error(
        "unavailable",
        file,
        span,
        `${dir}/config.json: no model family reads model_type "${modelType}" (known: ${known.length ? known.sort().join(", ") : "none registered"})`,
      ),
    );
  }
  const template = model.options.template;
  if (typeof template === "string" && registry.has("templates", template)) {
    const vocab = tokenizerVocabulary(dir);
    if (vocab !== undefined) {
      const stops = registry.get("templates", template)._unsafeUnwrap().stopWords;
      const missing = stops.filter((s) => /^<[^\s<>]+>$/.test(s) && !vocab.has(s));
      if (missing.length > 0)
        out.push(
          error(
            "semantic",
            file,
            optionSpan(block, "template"),
            `template ${template} needs the special token${missing.length > 1 ? "s" : ""} ${missing.join(", ")}, which the tokenizer in ${dir} does not have; pick the model's own template (or leave template out to use its chat_template)`,
          ),
        );
    }
  }
  return out;
}

/** Token texts of tokenizer.json (vocab and added tokens) and tokenizer_config.json's added tokens; undefined when neither is there. */
function tokenizerVocabulary(dir: string): Set<string> | undefined {
  const tokens = new Set<string>();
  let found = false;
  const tok = readJson(resolve(dir, "tokenizer.json"));
  if (typeof tok !== "string") {
    found = true;
    const model = tok.model as { vocab?: unknown } | undefined;
    if (model?.vocab !== null && typeof model?.vocab === "object") for (const k of Object.keys(model.vocab as object)) tokens.add(k);
    if (Array.isArray(model?.vocab)) for (const item of model.vocab) if (Array.isArray(item) && typeof item[0] === "string") tokens.add(item[0]);
    for (const t of (tok.added_tokens as { content?: unknown }[] | undefined) ?? []) if (typeof t.content === "string") tokens.add(t.content);
  }
  const cfg = readJson(resolve(dir, "tokenizer_config.json"));
  if (typeof cfg !== "string") {
    const decoder = cfg.added_tokens_decoder as Record<string, { content?: unknown }> | undefined;
    for (const t of Object.values(decoder ?? {})) if (typeof t.content === "string") tokens.add(t.content);
    for (const key of ["eos_token", "bos_token", "pad_token", "unk_token"]) {
      const v = cfg[key];
      if (typeof v === "string") tokens.add(v);
    }
    if (decoder !== undefined) found = true;
  }
  return found ? tokens : undefined;
}

/** A dataset file or folder, or a name in <dir>/dataset_info.json whose file exists; a hub dataset is not fetched. */
function checkData(source: string, dirOption: unknown, block: Block, file: string, path: (p: string) => string): Diagnostic[] {
  const span = block.source?.span ?? block.span;
  const local = path(source);
  if (existsSync(local)) {
    const kind = pathKind(local);
    return kind.kind === "special"
      ? [error("io", file, span, `${local} is ${kind.what}, not a regular file; lft reads data only from regular files and folders of them`)]
      : [];
  }
  const dir = path(typeof dirOption === "string" ? dirOption : "data");
  const infoFile = resolve(dir, "dataset_info.json");
  const looksLikeFile = /[/\\]|\.(jsonl?|csv|parquet|txt|arrow)$/i.test(source);
  if (looksLikeFile) return [error("io", file, span, `no such file ${local}`)];
  if (!existsSync(infoFile)) return [error("io", file, span, `no such file ${local}, and no ${infoFile} to look the name up in`)];
  const text = readDatasetInfoText(infoFile);
  if (text.isErr()) return [error("io", file, span, text.error.message)];
  const info = readJson(infoFile);
  if (typeof info === "string") return [error("io", file, span, info)];
  const entry = info[source] as Record<string, unknown> | undefined;
  if (entry === undefined) {
    return [error("io", file, span, `no such file ${local}, and ${infoFile} has no dataset "${source}"${didYouMean(suggest(source, Object.keys(info)))}`)];
  }
  if (typeof entry.hf_hub_url === "string" || typeof entry.ms_hub_url === "string" || typeof entry.script_url === "string") return [];
  if (typeof entry.file_name !== "string") return [error("io", file, span, `${infoFile}: dataset "${source}" names no file_name (or hub url)`)];
  const data = isAbsolute(entry.file_name) ? entry.file_name : resolve(dir, entry.file_name);
  if (!existsSync(data)) return [error("io", file, span, `dataset "${source}" (${infoFile}) names ${data}, which does not exist`)];
  // A file: inside the folder, a regular file, a .json small enough to parse whole, as the run will check
  // (by stat alone). A folder's files depend on the split the run asks for: the run checks them.
  if (pathKind(data).kind === "folder") return [];
  const attr = datasetAttr({ [source]: confinedEntry(entry, dir) }, source, infoFile);
  const files = attr.andThen((a) => datasetFiles(a, dir));
  return files.isErr() ? [error("io", file, span, files.error.message)] : [];
}

/** An output folder (or, for a file, its folder) is writable, or can be made inside a writable one. */
function writable(output: unknown, span: Span, file: string, path: (p: string) => string, isFile = false): Diagnostic[] {
  if (typeof output !== "string" || output === "") return [];
  let dir = path(output);
  if (isFile) dir = dirname(dir);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    if (!statSync(dir).isDirectory()) return [error("io", file, span, `cannot write ${path(output)}: ${dir} is a file`)];
    accessSync(dir, constants.W_OK);
    return [];
  } catch {
    return [error("io", file, span, `cannot write ${path(output)}: ${dir} is not writable`)];
  }
}

/** The parsed JSON object, or a message saying why not. */
function readJson(p: string): Record<string, unknown> | string {
  if (!existsSync(p)) return `no ${p}`;
  try {
    const value = JSON.parse(readFileSync(p, "utf8")) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : `${p}: not a JSON object`;
  } catch (e) {
    return `${p}: not valid JSON: ${e instanceof Error ? e.message : String(e)}`;
  }
}
