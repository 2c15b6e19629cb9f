// The REPL's session recipe: statements typed so far, kept so that the whole always checks clean.
// Declarations (use, let, model, dataset, method) replace or extend it; actions (train, eval,
// predict, export, chat) are checked against it, handed to the runner and then logged in it, so
// `:recipe` prints a file that replays the session.

import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { blockRules } from "../blocks";
import { checkRecipe } from "../check";
import { type Diagnostic, formatDiagnostics, isError } from "../diagnostics";
import { ExitCode, exitCodeFor } from "../exit-codes";
import { parseSource } from "../parse";
import { loadUses } from "../plugins";
import type { Block, Entry, Recipe, ResolvedRecipe, Statement } from "../recipe";
import { runRecipe } from "../run";
import type { Session } from "../session";

export class ReplState {
  #statements: Statement[] = [];
  /** Earlier values of #statements, newest last, for :undo. */
  #past: Statement[][] = [];
  readonly sources = new Map<string, string>();
  #inputs = 0;
  #warnedNoRunner = false;
  /** The REPL's line reader, handed to the runner for an interactive `chat`. */
  readLine: ((prompt: string) => Promise<string | undefined>) | undefined;

  constructor(
    readonly session: Session,
    /** Relative paths and `use` resolve against this directory. */
    readonly cwd: string,
  ) {}

  /** The session so far, as a recipe (for `:recipe`, `:save` and completion). */
  get recipe(): Recipe {
    return { file: "<session>", statements: this.#statements, closing: [] };
  }

  /** Runs one complete input (one or more statements); never throws for a user mistake. */
  async evaluate(text: string): Promise<number> {
    const file = `<repl:${++this.#inputs}>`;
    this.sources.set(file, text);
    const parsed = parseSource(text, file);
    if (parsed.diagnostics.length > 0) return this.#report(parsed.diagnostics);
    let status: number = ExitCode.ok;
    for (const statement of parsed.recipe.statements) {
      status = await this.#statement(withFile(statement, file), file);
      if (status !== ExitCode.ok) break;
    }
    return status;
  }

  async #statement(statement: Statement, file: string): Promise<number> {
    if (statement.kind === "use") {
      const before = new Set(this.session.registry.plugins().map((p) => p.name));
      const problems = await loadUses({ file, statements: [statement], closing: [] }, this.session.registry, this.cwd);
      if (problems.length > 0) return this.#report(problems);
      this.#set([...this.#statements, statement]);
      for (const plugin of this.session.registry.plugins().filter((p) => !before.has(p.name))) {
        const what = Object.entries(plugin.registered).map(([c, names]) => `${c} ${names.join(", ")}`);
        this.session.io.stdout(`loaded ${plugin.name}${what.length > 0 ? `: ${what.join("; ")}` : ""}\n`);
      }
      return ExitCode.ok;
    }
    if (statement.kind === "let") return this.#declare(this.#replacing(statement, (s) => s.kind === "let" && s.name.text === statement.name.text));
    const rule = blockRules[statement.block];
    if (rule.role === "declaration") {
      const same = (s: Statement): boolean => s.kind === "block" && s.block === statement.block;
      if (rule.repeat === "once") return this.#declare(this.#replacing(statement, same));
      const corrected = this.#correcting(statement);
      if (corrected !== undefined) {
        this.session.io.stdout(`(replaces ${statement.block} ${corrected + 1}, whose file does not exist)\n`);
        return this.#declare(this.#statements.map((s, i) => (i === this.#indexOf(statement.block, corrected) ? statement : s)));
      }
      return this.#declare([...this.#statements, statement]);
    }
    return this.#act(statement.block === "train" ? this.#completeTrain(statement) : statement);
  }

  /** The statements of one block kind, in order. */
  blocks(kind: string): Block[] {
    return this.#statements.filter((s): s is Block => s.kind === "block" && s.block === kind);
  }

  #indexOf(kind: string, n: number): number {
    const block = this.blocks(kind)[n];
    return block === undefined ? -1 : this.#statements.indexOf(block);
  }

  /**
   * A repeatable block (dataset) that corrects one typed before: same name, and the earlier one's
   * file does not exist while the new one's does. Its position among the blocks of its kind.
   */
  #correcting(statement: Block): number | undefined {
    const exists = (b: Block): boolean | undefined => {
      const raw = b.source?.raw;
      if (raw === undefined || raw.includes("${") || raw.includes("\\")) return undefined;
      return existsSync(isAbsolute(raw) ? raw : resolve(this.cwd, raw));
    };
    if (exists(statement) !== true) return undefined;
    const at = this.blocks(statement.block).findIndex((b) => b.name?.text === statement.name?.text && exists(b) === false);
    return at < 0 ? undefined : at;
  }

  #set(statements: Statement[]): void {
    this.#past.push(this.#statements);
    this.#statements = statements;
  }

  /** :reset: forget every statement and what the runner loaded. */
  reset(): void {
    this.#set([]);
    this.session.live.clear();
  }

  /** :undo: back to the statements before the last change; false when there is nothing to undo. */
  async undo(): Promise<number | false> {
    const previous = this.#past.pop();
    if (previous === undefined) return false;
    return this.#replaceAll(previous, false);
  }

  /** :drop <block> [n]: removes the n-th (1-based; default the last) block of that kind. */
  async drop(kind: string, n?: number): Promise<number | string> {
    const blocks = this.blocks(kind);
    if (blocks.length === 0) return `the session has no ${kind} block`;
    const at = n === undefined ? blocks.length - 1 : n - 1;
    const block = blocks[at];
    if (block === undefined) return `there is no ${kind} ${n}: the session has ${blocks.length} (1 to ${blocks.length})`;
    return this.#replaceAll(
      this.#statements.filter((s) => s !== block),
      true,
    );
  }

  /** Makes `statements` the session, reconciling the runner (a session without a model unloads it). */
  async #replaceAll(statements: Statement[], remember: boolean): Promise<number> {
    const hasModel = statements.some((s) => s.kind === "block" && s.block === "model");
    const declarations = statements.filter((s) => s.kind !== "block" || blockRules[s.block].role === "declaration");
    const checked = hasModel ? this.#check(declarations) : undefined;
    if (typeof checked === "number") return checked;
    if (remember) this.#past.push(this.#statements);
    this.#statements = statements;
    if (checked === undefined) {
      this.session.live.clear();
      return ExitCode.ok;
    }
    return this.#run(checked, true);
  }

  /** The statements with `statement` in place of the first match (or appended). */
  #replacing(statement: Statement, match: (s: Statement) => boolean): Statement[] {
    const at = this.#statements.findIndex(match);
    return at < 0 ? [...this.#statements, statement] : this.#statements.map((s, i) => (i === at ? statement : s));
  }

  /** `train 20 steps` after `train sft ...`: the stage and options come from the previous train. */
  #completeTrain(block: Block): Block {
    const previous = this.#statements.filter((s): s is Block => s.kind === "block" && s.block === "train").at(-1);
    if (previous === undefined || (block.name !== undefined && block.name.text !== previous.name?.text)) return block;
    const given = new Map((block.body?.entries ?? []).map((e) => [e.key, e]));
    const entries: Entry[] = [...(previous.body?.entries ?? []).filter((e) => !given.has(e.key)), ...given.values()];
    const made: Block = { ...previous, ...block, name: block.name ?? previous.name! };
    return entries.length === 0 ? made : { ...made, body: { entries, closing: [] } };
  }

  async #declare(candidate: Statement[]): Promise<number> {
    const declarations = candidate.filter((s) => s.kind !== "block" || blockRules[s.block].role === "declaration");
    const checked = this.#check(declarations);
    if (typeof checked === "number") return checked;
    this.#set(candidate);
    return this.#run(checked, true);
  }

  async #act(action: Block): Promise<number> {
    const declarations = this.#statements.filter((s) => s.kind !== "block" || blockRules[s.block].role === "declaration");
    const checked = this.#check([...declarations, action]);
    if (typeof checked === "number") return checked;
    const status = await this.#run(checked, false);
    // Log what ran (or would have, with a runner) so :recipe replays the session.
    if (status === ExitCode.ok || status === ExitCode.notAvailable) this.#set([...this.#statements, action]);
    return status;
  }

  /** The resolved recipe, or the exit status of the problems reported. */
  #check(statements: Statement[]): ResolvedRecipe | number {
    const checked = checkRecipe({ file: "<session>", statements, closing: [] }, { registry: this.session.registry, baseDir: this.cwd });
    if (checked.isOk()) return checked.value.recipe;
    // Unused lets are expected mid-session; only errors matter here.
    return this.#report(checked.error.filter(isError));
  }

  /**
   * Declarations reconcile the runner's live state; an action runs. With no runner loaded, a
   * declaration is only kept (noted once), and an action says it cannot run.
   */
  async #run(recipe: ResolvedRecipe, declaration: boolean): Promise<number> {
    const io = this.session.io;
    const hasRunner = this.session.registry.plugins().some((p) => p.hooks.includes("runRecipe"));
    if (declaration && !hasRunner) {
      if (!this.#warnedNoRunner) io.stdout("(no runner plugin is loaded: statements are checked and kept, :recipe shows them)\n");
      this.#warnedNoRunner = true;
      return ExitCode.ok;
    }
    const readLine = this.readLine;
    return runRecipe(recipe, this.session.registry, {
      io,
      live: this.session.live,
      signal: this.session.controller.signal,
      ...(readLine === undefined ? {} : { readLine }),
    });
  }

  #report(diagnostics: readonly Diagnostic[]): number {
    this.session.io.stderr(formatDiagnostics(diagnostics, this.sources));
    return exitCodeFor(diagnostics);
  }
}

/** The statement with every source position marked as coming from `file` (one REPL input). */
function withFile<T>(node: T, file: string): T {
  if (Array.isArray(node)) return node.map((n: unknown) => withFile(n, file)) as T;
  if (typeof node !== "object" || node === null) return node;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) copy[key] = withFile(value, file);
  if (typeof copy.line === "number" && typeof copy.offset === "number") copy.file = file;
  return copy as T;
}
