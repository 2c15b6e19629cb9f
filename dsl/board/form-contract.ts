// The board's form as the server sends it and the pages read it (GET /api/form): the shared shapes, with no
// imports, so the browser bundle and the server type-check the same contract.
export type FieldKind = "string" | "number" | "integer" | "boolean" | "enum" | "list" | "path";

export interface FormField {
  readonly key: string;
  readonly label: string;
  readonly kind: FieldKind;
  readonly choices?: readonly string[];
  readonly default?: unknown;
  readonly doc?: string;
  readonly min?: number;
  readonly max?: number;
  /** Unit words the value may carry (`10%`, `100 steps`): written as text, e.g. "100 steps". */
  readonly units?: readonly string[];
  readonly required?: boolean;
}

export interface FormSectionBase {
  /** The block kind, or the train option whose entry brings options (optimizer, reward). */
  readonly id: string;
  readonly title: string;
  readonly doc?: string;
  readonly fields: readonly FormField[];
  /** Per choice of the section's `name` field, the options that choice brings. */
  readonly variants?: Readonly<Record<string, readonly FormField[]>>;
}
