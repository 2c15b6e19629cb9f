// Semantic checks: a parsed Recipe against the registry as it is now. Names (families, formats,
// methods, stages, templates, metrics) must be registered, every option is validated against the
// schema of lft's block options plus the named plugin's, and every problem is reported at once.

import { err, ok, type Result } from "neverthrow";
import {
  didYouMean,
  type EntryBase,
  type OptionSchema,
  type OptionValue,
  type Registry,
  type ResolvedOptions,
  suggest,
  validateOptions,
} from "../core/index.ts";
import { type BlockRule, blockRules, type Collection, collectionWords, type RefRule } from "./blocks";
import { type Diagnostic, error, isError, type Span, sortDiagnostics } from "./diagnostics";
import type { Action, Block, BlockKind, DatasetSpec, Entry, MethodSpec, ModelSpec, Recipe, ResolvedRecipe, Unit, Value } from "./recipe";
import { type Env, type Resolved, Resolver } from "./values";

export interface CheckContext {
  readonly registry: Registry;
  /** Directory relative paths in the recipe resolve against (the recipe's own). */
  readonly baseDir: string;
  /**
   * Some statements were dropped for syntax errors: skip the checks that look at the recipe as a
   * whole (a missing model block, an unused let), which would only echo those errors.
   */
  readonly partial?: boolean;
}

export interface Checked {
  readonly recipe: ResolvedRecipe;
  readonly warnings: readonly Diagnostic[];
}

export function checkRecipe(recipe: Recipe, ctx: CheckContext): Result<Checked, Diagnostic[]> {
  const checker = new Checker(recipe.file, ctx.registry);
  const resolved = checker.run(recipe, ctx.baseDir, ctx.partial === true);
  const problems = sortDiagnostics(checker.diagnostics);
  return problems.some(isError) || resolved === undefined ? err(problems) : ok({ recipe: resolved, warnings: problems });
}

/** More epochs than this is a typo (steps are counted as safe integers; epochs times rows must stay one). */
const maxEpochs = 1_000_000;

/** A block's written options by key: the resolved value and where it was written. */
type Values = Map<string, { resolved: Resolved; entry: Entry }>;

interface BlockResult {
  readonly name?: string;
  readonly source?: string;
  readonly options: ResolvedOptions;
  readonly units: Readonly<Record<string, Unit>>;
}

class Checker {
  readonly diagnostics: Diagnostic[] = [];
  readonly #env: Env = new Map();
  readonly #resolver: Resolver;

  constructor(
    readonly file: string,
    readonly registry: Registry,
  ) {
    this.#resolver = new Resolver(this.#env, file, this.diagnostics);
  }

  run(recipe: Recipe, baseDir: string, partial: boolean): ResolvedRecipe | undefined {
    const uses: string[] = [];
    let model: ModelSpec | undefined;
    let method: MethodSpec | undefined;
    const datasets: DatasetSpec[] = [];
    const actions: Action[] = [];
    const first = new Map<BlockKind, Block>();
    const trained: [Block, ResolvedOptions][] = [];
    let complete = true;

    for (const statement of recipe.statements) {
      if (statement.kind === "use") {
        const pkg = this.#resolver.string(statement.pkg);
        if (pkg !== undefined) uses.push(pkg);
        continue;
      }
      if (statement.kind === "let") {
        const name = statement.name.text;
        const earlier = this.#env.get(name);
        if (earlier !== undefined) {
          this.#fail(statement.name.span, `${name} is already bound by the let on line ${earlier.span.line}`);
          continue;
        }
        const resolved = this.#resolver.value(statement.value);
        if (resolved !== undefined) this.#env.set(name, { resolved, span: statement.name.span, used: false });
        continue;
      }
      const rule = blockRules[statement.block];
      const earlier = first.get(statement.block);
      if (earlier !== undefined && rule.repeat === "once") {
        this.#fail(statement.span, `a recipe has one ${statement.block} block; the first is on line ${earlier.span.line}`);
        continue;
      }
      if (earlier === undefined) first.set(statement.block, statement);
      const result = this.#block(statement, rule);
      if (result === undefined) {
        complete = false;
        continue;
      }
      const { name, source, options, units } = result;
      switch (statement.block) {
        case "model":
          model = { ...(name === undefined ? {} : { family: name }), path: source ?? "", options };
          break;
        case "dataset":
          datasets.push({ ...(name === undefined ? {} : { format: name }), source: source ?? "", options });
          break;
        case "method":
          method = { name: name ?? "", options };
          break;
        case "train": {
          trained.push([statement, options]);
          const duration =
            statement.duration === undefined ? { amount: 1, unit: "epochs" as const } : { amount: statement.duration.amount, unit: statement.duration.unit };
          actions.push({ action: "train", stage: name ?? "", duration, options, units });
          this.#stageMethod(statement, name, options, method);
          break;
        }
        case "eval":
          actions.push({ action: "eval", ...(name === undefined ? {} : { format: name }), ...(source === undefined ? {} : { source }), options });
          break;
        case "predict":
          actions.push({ action: "predict", ...(name === undefined ? {} : { format: name }), source: source ?? "", options });
          break;
        case "export":
          actions.push({ action: "export", path: source ?? "", options });
          break;
        case "chat":
          actions.push({ action: "chat", ...(source === undefined ? {} : { prompt: source }), options });
          break;
      }
    }

    if (partial) return undefined;
    this.#structure(first);
    for (const [block, options] of trained) this.#optimizerConflicts(block, options, method?.name);
    this.#dataFits(recipe);
    for (const [name, binding] of this.#env) {
      if (!binding.used) this.diagnostics.push({ ...error("semantic", this.file, binding.span, `let ${name} is never used`), severity: "warning" });
    }
    if (!complete) return undefined;
    return { file: this.file, baseDir, uses, ...(model === undefined ? {} : { model }), datasets, ...(method === undefined ? {} : { method }), actions };
  }

  /** Combinations the train block's optimizer refuses (GaLore with LoRA, ...), each at the option it is about. */
  #optimizerConflicts(block: Block, options: ResolvedOptions, method: string | undefined): void {
    const name = options.optimizer;
    if (typeof name !== "string" || !this.registry.has("optimizers", name)) return;
    const entry = this.registry.get("optimizers", name)._unsafeUnwrap();
    for (const conflict of entry.conflicts?.({ ...(method === undefined ? {} : { method }), train: options }) ?? []) {
      const written = conflict.keys.map((key) => block.body?.entries.find((e) => e.key === key)).find((e) => e !== undefined);
      this.#fail(written?.keySpan ?? block.name?.span ?? block.span, conflict.message);
    }
  }

  /** A stage's own check of the method it trains with (e.g. dpo's reference needs adapters to switch off). */
  #stageMethod(block: Block, stage: string | undefined, options: ResolvedOptions, method: MethodSpec | undefined): void {
    if (stage === undefined || method === undefined) return;
    const entry = this.registry.get("stages", stage);
    if (entry.isErr() || entry.value.checkMethod === undefined) return;
    const problem = entry.value.checkMethod(options, { name: method.name, options: method.options });
    if (problem !== undefined) this.#fail(block.name?.span ?? block.span, problem);
  }

  /** What the blocks need of each other: actions need a model; training needs data and a method. */
  #structure(first: ReadonlyMap<BlockKind, Block>): void {
    const model = first.get("model");
    for (const kind of ["train", "eval", "predict", "export", "chat"] as const) {
      const action = first.get(kind);
      if (action !== undefined && model === undefined) this.#fail(action.span, `${kind} needs a model block first: model <family> "<directory>"`);
    }
    const train = first.get("train");
    if (train === undefined) return;
    if (!first.has("dataset")) this.#fail(train.span, 'train needs at least one dataset block: dataset <format> "<file>"');
    if (!first.has("method")) this.#fail(train.span, "train needs a method block (method full trains every parameter; method lora trains adapters)");
  }

  /**
   * A dataset block that names its format must give examples every train block's stage can use (rm on
   * alpaca data fails here, at the dataset's line); a dataset named in dataset_info.json is checked
   * when its entry is read.
   */
  #dataFits(recipe: Recipe): void {
    const blocks = recipe.statements.filter((s): s is Block => s.kind === "block");
    const stages = blocks.filter((b) => b.block === "train" && b.name !== undefined);
    for (const dataset of blocks) {
      if (dataset.block !== "dataset" || dataset.name === undefined) continue;
      const format = this.registry.get("datasets", dataset.name.text);
      if (format.isErr() || format.value.produces === undefined) continue;
      for (const train of stages) {
        const processor = this.registry.get("stages", train.name!.text).map((e) => e.processor);
        if (processor.isErr() || processor.value === undefined) continue;
        const { accepts, needs } = processor.value;
        if (format.value.produces.some((k) => accepts.includes(k))) continue;
        this.#fail(
          dataset.name.span,
          `dataset format ${dataset.name.text} gives ${format.value.produces.join("/")} examples, but train ${train.name!.text} (line ${train.span.line}) needs ${needs} examples`,
        );
      }
    }
  }

  #block(block: Block, rule: BlockRule): BlockResult | undefined {
    const before = this.diagnostics.filter(isError).length;
    let entry: EntryBase | undefined;
    const name = block.name?.text;
    if (block.name !== undefined && rule.name !== undefined) entry = this.#lookup(rule.name.collection, block.name.text, block.name.span);
    else if (rule.name?.required === true) {
      const example = block.block === "train" ? "train sft for 3 epochs" : `${block.block} <${rule.name.label}>`;
      this.#fail(block.span, `${block.block} needs a ${rule.name.label}: ${example}`);
    }
    const source = block.source === undefined ? undefined : this.#resolver.string(block.source);
    if (block.duration !== undefined) this.#duration(block);

    const where = name === undefined ? block.block : `${block.block} "${name}"`;
    const values = this.#values(block.body?.entries ?? [], rule);
    const schema = this.#schema(block, rule, entry, values);
    const plain: Record<string, OptionValue> = {};
    const units: Record<string, Unit> = {};
    for (const [key, { resolved }] of values) {
      if (schema[key] === undefined && !this.#judgeable(block, rule, entry, values)) continue;
      plain[key] = resolved.value;
      if (resolved.unit !== undefined) units[key] = resolved.unit;
    }
    let options: ResolvedOptions = {};
    const validated = validateOptions(schema, plain, where);
    if (validated.isErr()) {
      for (const problem of validated.error) this.#fail(this.#spanOf(block, values, problem.key, problem.message), problem.message);
    } else {
      // Without a named entry the schema is every entry's: keep their options only where written.
      const keep = (key: string): boolean => entry !== undefined || Object.hasOwn(rule.options, key) || Object.hasOwn(plain, key);
      options = Object.fromEntries(Object.entries(validated.value).filter(([key]) => keep(key)));
      for (const problem of entry?.optionProblems?.(validated.value) ?? [])
        this.#fail(this.#spanOf(block, values, problem.key, problem.message), problem.message);
    }
    this.#fractions(rule, values, units);
    this.#refs(rule, values);
    return this.diagnostics.filter(isError).length > before
      ? undefined
      : { ...(name === undefined ? {} : { name }), ...(source === undefined ? {} : { source }), options, units };
  }

  /**
   * Whether keys outside the schema can be called unknown. Not when the block names an entry no
   * plugin registers, or an option-bringing ref names one (its schema is unknown); that name already
   * has its "not available" error.
   */
  #judgeable(block: Block, rule: BlockRule, entry: EntryBase | undefined, values: Values): boolean {
    if (block.name !== undefined && rule.name !== undefined && entry === undefined) return false;
    // A default nobody registers brings no options (and no error here): the block is still judged.
    return this.#optionRefs(rule, values).every(
      ({ ref, name, span }) => span === undefined || typeof name !== "string" || this.registry.has(ref.collection, name),
    );
  }

  /** The refs whose named entry brings its options, with the name written (or the option's default). */
  #optionRefs(rule: BlockRule, values: Values): { key: string; ref: RefRule; name: unknown; span: Span | undefined }[] {
    return Object.entries(rule.refs ?? {})
      .filter(([, ref]) => ref.options === true)
      .map(([key, ref]) => {
        const written = values.get(key);
        return { key, ref, name: written === undefined ? rule.options[key]?.default : written.resolved.value, span: written?.entry.value.span };
      });
  }

  /**
   * lft's own options plus the named entry's. A block whose entry is chosen later (a model family
   * read from config.json) accepts any registered entry's options: the loader validates them again.
   */
  #schema(block: Block, rule: BlockRule, entry: EntryBase | undefined, values: Values): OptionSchema {
    const own = rule.options;
    const extra: Record<string, OptionSchema[string]> = {};
    /** Who brought each key of `extra` from a named entry (for clash messages). */
    const owners = new Map<string, string>();
    const sources = entry !== undefined ? [entry] : block.name === undefined && rule.name !== undefined ? this.registry.list(rule.name.collection) : [];
    for (const source of sources) {
      for (const [key, spec] of Object.entries(source.options ?? {})) {
        if (Object.hasOwn(own, key)) {
          if (entry !== undefined) {
            const owner = this.registry.ownerOf(rule.name!.collection, source.name) ?? "?";
            this.diagnostics.push(
              error(
                "plugin",
                this.file,
                block.name?.span ?? block.span,
                `${collectionWords[rule.name!.collection].one} "${source.name}" (plugin "${owner}") declares option "${key}", which ${block.block} blocks already have; the plugin must rename it`,
              ),
            );
          }
          continue;
        }
        extra[key] ??= spec;
        if (entry !== undefined) owners.set(key, `${collectionWords[rule.name!.collection].one} "${source.name}"`);
      }
    }
    // An option naming an entry brings that entry's options (`optimizer = sgd` → momentum, nesterov).
    for (const { ref, name, span } of this.#optionRefs(rule, values)) {
      if (typeof name !== "string" || !this.registry.has(ref.collection, name)) continue;
      const source = this.registry.get(ref.collection, name)._unsafeUnwrap();
      const who = `${collectionWords[ref.collection].one} "${name}"`;
      for (const [key, spec] of Object.entries(source.options ?? {})) {
        const clash = Object.hasOwn(own, key)
          ? `${block.block} blocks already have`
          : owners.get(key) === undefined
            ? undefined
            : `${owners.get(key)} also declares`;
        if (clash !== undefined) {
          const owner = this.registry.ownerOf(ref.collection, name) ?? "?";
          this.diagnostics.push(
            error(
              "plugin",
              this.file,
              span ?? block.name?.span ?? block.span,
              `${who} (plugin "${owner}") declares option "${key}", which ${clash}; the plugin must rename it`,
            ),
          );
          continue;
        }
        extra[key] = spec;
        owners.set(key, who);
      }
    }
    return { ...own, ...extra };
  }

  #values(entries: readonly Entry[], rule: BlockRule): Values {
    const values = new Map<string, { resolved: Resolved; entry: Entry }>();
    for (const entry of entries) {
      const earlier = values.get(entry.key);
      if (earlier !== undefined) {
        this.#fail(entry.keySpan, `option "${entry.key}" is set twice (first on line ${earlier.entry.keySpan.line})`);
        continue;
      }
      const resolved = this.#resolver.value(entry.value);
      if (resolved === undefined) continue;
      if (resolved.unit !== undefined && !(rule.units?.[entry.key] ?? []).includes(resolved.unit)) {
        const allowed = rule.units?.[entry.key] ?? [];
        const takes = allowed.length > 0 ? `a plain number, a percentage or ${allowed.join(" or ")}` : "a plain number or a percentage";
        this.#fail(entry.value.span, `option "${entry.key}" takes ${takes}, not ${resolved.unit}`);
        continue;
      }
      // `warmup = 100 steps`, `cutoff = 2048 tokens`: a count, whatever the option's own type.
      if ((resolved.unit === "steps" || resolved.unit === "tokens") && typeof resolved.value === "number" && !Number.isSafeInteger(resolved.value)) {
        this.#fail(entry.value.span, `option "${entry.key}": a count of ${resolved.unit} is a whole number of at most ${Number.MAX_SAFE_INTEGER} (2^53 - 1)`);
        continue;
      }
      values.set(entry.key, { resolved, entry });
    }
    return values;
  }

  #duration(block: Block): void {
    const d = block.duration!;
    if (!(d.amount > 0)) this.#fail(d.span, `a ${block.block} duration must be more than 0 ${d.unit}, found ${d.text}`);
    else if (d.unit === "steps" && !Number.isInteger(d.amount))
      this.#fail(d.span, `a step count must be a whole number, found ${d.text} (fractional epochs are fine: 0.5 epochs)`);
    else if (d.unit === "steps" && !Number.isSafeInteger(d.amount))
      this.#fail(d.span, `a step count must be at most ${Number.MAX_SAFE_INTEGER} (2^53 - 1), found ${d.text}`);
    else if (d.unit === "epochs" && d.amount > maxEpochs) this.#fail(d.span, `an epoch count must be at most ${maxEpochs}, found ${d.text}`);
  }

  /** `warmup = 150%` is a mistake; `warmup = 150 steps` is not. */
  #fractions(rule: BlockRule, values: ReadonlyMap<string, { resolved: Resolved; entry: Entry }>, units: Readonly<Record<string, Unit>>): void {
    for (const key of rule.fractions ?? []) {
      const found = values.get(key);
      if (found === undefined || units[key] !== undefined || typeof found.resolved.value !== "number") continue;
      if (found.resolved.value > 1) {
        const count = Math.max(1, Math.round(found.resolved.value));
        const steps = (rule.units?.[key] ?? []).includes("steps") ? `; for a step count write ${key} = ${count} steps` : "";
        this.#fail(found.entry.value.span, `option "${key}" is a fraction of the run, at most 1 (100%), found ${found.resolved.value}${steps}`);
      }
    }
  }

  #refs(rule: BlockRule, values: ReadonlyMap<string, { resolved: Resolved; entry: Entry }>): void {
    for (const [key, ref] of Object.entries(rule.refs ?? {})) {
      const found = values.get(key);
      if (found === undefined) continue;
      const { value } = found.resolved;
      const written = found.entry.value;
      const names = Array.isArray(value) ? value : [value];
      names.forEach((name, i) => {
        if (typeof name !== "string" || (ref.also ?? []).includes(name)) return;
        const span = written.kind === "list" ? (written.items[i]?.span ?? written.span) : written.span;
        this.#lookup(ref.collection, name, span, ref.also);
      });
    }
  }

  /** The entry, or a diagnostic: a near miss is a typo (semantic); anything else is not available yet. */
  #lookup(collection: Collection, name: string, span: Span, also: readonly string[] = []): EntryBase | undefined {
    // has() first: a failed get() builds an Error (with a stack) only to be discarded here.
    if (this.registry.has(collection, name)) return this.registry.get(collection, name)._unsafeUnwrap();
    const known = [...this.registry.list(collection).map((e) => e.name), ...also];
    const words = collectionWords[collection];
    const list = `known ${words.many}: ${known.length === 0 ? "(none)" : [...known].sort().join(", ")}`;
    const near = suggest(name, known);
    if (near.length > 0) this.#fail(span, `unknown ${words.one} "${name}"${didYouMean(near)} ${list}`);
    else this.diagnostics.push(error("unavailable", this.file, span, `${words.one} "${name}" is not available (no plugin registers it); ${list}`));
    return undefined;
  }

  /** Where an option error points: an unknown key at the key, `targets[2]` at that item, a missing option at the header. */
  #spanOf(block: Block, values: ReadonlyMap<string, { entry: Entry }>, key: string, message: string): Span {
    const [base, ...indices] = key.split(/[[\]]+/).filter((s) => s !== "");
    const found = base === undefined ? undefined : values.get(base);
    if (found === undefined) return block.name?.span ?? block.span;
    if (message.includes(`unknown option "${base}"`)) return found.entry.keySpan;
    let value: Value = found.entry.value;
    for (const index of indices) {
      if (value.kind !== "list") break;
      value = value.items[Number(index)] ?? value;
    }
    return value.span;
  }

  #fail(span: Span, message: string): void {
    this.diagnostics.push(error("semantic", this.file, span, message));
  }
}
