// The two shapes of a recipe. `Recipe` is what the parser read, statement by statement, with the
// source positions and comments `lft fmt` and diagnostics need. `ResolvedRecipe` is what a run
// needs: bindings substituted, options validated against the plugins' schemas and defaults filled.

import type { Unit } from "../core/index.ts";
import type { Span } from "./diagnostics";

// The resolved half is the run contract, so it lives in core (core/run/recipe.ts); re-exported here
// because the DSL's checker produces it (core names the blocks ModelBlock, DatasetBlock, MethodBlock:
// core/nn already has a ModelSpec, the model's shape).
export type {
  Action,
  ChatAction,
  DatasetBlock as DatasetSpec,
  EvalAction,
  ExportAction,
  MethodBlock as MethodSpec,
  ModelBlock as ModelSpec,
  PredictAction,
  ResolvedRecipe,
  TrainAction,
  Unit,
} from "../core/index.ts";

// ---- As written ----

export type Value =
  /** As written between the quotes (escapes and `${name}` kept); the checker decodes it. */
  | { readonly kind: "string"; readonly raw: string; readonly span: Span }
  /** `text` is the number as written (`1e-4`, `20_000`), so the printer keeps the author's form. */
  | { readonly kind: "number"; readonly value: number; readonly text: string; readonly unit?: Unit; readonly span: Span }
  | { readonly kind: "bool"; readonly value: boolean; readonly span: Span }
  /** A bare word: an enum value or a registry entry (`cosine`, `q_proj`, `bf16`). */
  | { readonly kind: "name"; readonly name: string; readonly span: Span }
  /** `${name}` as a whole value. */
  | { readonly kind: "ref"; readonly name: string; readonly span: Span }
  | { readonly kind: "list"; readonly items: readonly Value[]; readonly span: Span };

/** Comments around a statement or option, as written (each starts with `#`). */
export interface Comments {
  /** Comment lines before the node; "" stands for a blank line between them (or before the node). */
  readonly leading: readonly string[];
  /** A comment on the same line, after the node. */
  readonly trailing?: string;
  /** An empty line came before the node's leading comments (or the node); kept by the printer. */
  readonly blankBefore: boolean;
}

export interface Entry {
  readonly key: string;
  readonly keySpan: Span;
  readonly value: Value;
  readonly comments: Comments;
}

export interface Body {
  readonly entries: readonly Entry[];
  /** Comments after the last entry, before `}` ("" for a blank line). */
  readonly closing: readonly string[];
}

export type BlockKind = "model" | "dataset" | "method" | "train" | "eval" | "predict" | "export" | "chat";

/** A word after the keyword: model family, dataset format, method, stage. */
export interface Word {
  readonly text: string;
  readonly span: Span;
}

export interface Duration {
  readonly amount: number;
  readonly text: string;
  readonly unit: "epochs" | "steps";
  readonly span: Span;
}

/**
 * Every block has the same header shape; which parts a kind allows and what they mean is in
 * blocks.ts (`model <family> "<dir>"`, `dataset <format> "<source>"`, `train <stage> for <n> epochs`).
 */
export interface Block {
  readonly kind: "block";
  readonly block: BlockKind;
  readonly name?: Word;
  /** The quoted header string (a path, or chat's prompt); `${name}` kept as written. */
  readonly source?: Value & { readonly kind: "string" };
  readonly duration?: Duration;
  /** Absent when the block has no `{ ... }` (or an empty one). */
  readonly body?: Body;
  /** The keyword, for diagnostics about the block as a whole. */
  readonly span: Span;
  readonly comments: Comments;
}

export interface UseStatement {
  readonly kind: "use";
  readonly pkg: Value & { readonly kind: "string" };
  readonly span: Span;
  readonly comments: Comments;
}

export interface LetStatement {
  readonly kind: "let";
  readonly name: Word;
  readonly value: Value;
  readonly span: Span;
  readonly comments: Comments;
}

export type Statement = UseStatement | LetStatement | Block;

export interface Recipe {
  /** The name diagnostics use (as the user gave it), `<repl>` in the REPL. */
  readonly file: string;
  readonly statements: readonly Statement[];
  /** Comments after the last statement ("" for a blank line). */
  readonly closing: readonly string[];
}

export function blocksOf(recipe: Recipe, kind: BlockKind): Block[] {
  return recipe.statements.filter((s): s is Block => s.kind === "block" && s.block === kind);
}
