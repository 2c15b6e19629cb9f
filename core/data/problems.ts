// Bad rows and data errors. A row that cannot be used is skipped and counted with its reason; under
// `strict` the first one becomes an error naming the file and row. Nothing is dropped silently.
import { err, ok, type Result } from "neverthrow";
import { formatSource, type RowSource } from "./types.ts";

/**
 * Why a row was skipped. `blank-line` (an empty line in a text file) is informational: strict ignores it.
 * `invalid-utf8` is a note on a row that is kept with bytes that were not UTF-8 replaced by U+FFFD;
 * strict makes it an error like a bad row.
 */
export type SkipReason =
  | "unparsable"
  | "not-an-object"
  | "missing-column"
  | "wrong-type"
  | "invalid-role"
  | "invalid-turns"
  | "empty"
  | "empty-after-template"
  | "too-long"
  | "template-error"
  | "blank-line"
  | "unsupported-content"
  | "oversized"
  | "invalid-utf8";

/** Reasons that are notes the readers give beside a row (never the row itself): not skipped rows. */
export function isNote(reason: SkipReason): boolean {
  return reason === "blank-line" || reason === "invalid-utf8";
}

export interface BadRow {
  readonly reason: SkipReason;
  /** Full sentence: what was expected and what was found. */
  readonly detail: string;
  readonly source: RowSource;
}

/** Raised at module boundaries; `message` names the file (and row, where there is one). */
export class DataError extends Error {
  override readonly name = "DataError";
  constructor(
    message: string,
    readonly source?: RowSource,
  ) {
    super(message);
  }
}

export function badRowError(bad: BadRow): DataError {
  return new DataError(`${formatSource(bad.source)}: ${bad.detail} (strict: bad rows are errors)`, bad.source);
}

const KEEP_PER_REASON = 3;

/** Counts of skipped rows by reason, with the first few of each kept for the message. */
export class SkipReport {
  readonly #counts = new Map<SkipReason, number>();
  readonly #samples = new Map<SkipReason, BadRow[]>();

  /** Records a bad row; under strict (unless informational) returns the error to stop with. */
  add(bad: BadRow, strict: boolean): Result<void, DataError> {
    if (strict && bad.reason !== "blank-line") return err(badRowError(bad));
    this.#counts.set(bad.reason, (this.#counts.get(bad.reason) ?? 0) + 1);
    const kept = this.#samples.get(bad.reason) ?? [];
    if (kept.length < KEEP_PER_REASON) kept.push(bad);
    this.#samples.set(bad.reason, kept);
    return ok(undefined);
  }

  merge(other: SkipReport): void {
    for (const [reason, n] of other.#counts) this.#counts.set(reason, (this.#counts.get(reason) ?? 0) + n);
    for (const [reason, rows] of other.#samples) {
      const kept = this.#samples.get(reason) ?? [];
      kept.push(...rows.slice(0, KEEP_PER_REASON - kept.length));
      this.#samples.set(reason, kept);
    }
  }

  get total(): number {
    let n = 0;
    for (const c of this.#counts.values()) n += c;
    return n;
  }

  count(reason: SkipReason): number {
    return this.#counts.get(reason) ?? 0;
  }

  counts(): Readonly<Partial<Record<SkipReason, number>>> {
    return Object.fromEntries([...this.#counts].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  samples(reason: SkipReason): readonly BadRow[] {
    return this.#samples.get(reason) ?? [];
  }

  /**
   * What a run prints: "skipped 3 rows: 2 missing-column (alpaca.json row 4: ...), 1 ...", then the rows
   * kept with invalid UTF-8 replaced. Empty when none.
   */
  summary(): string {
    if (this.total === 0) return "";
    const part = (reason: SkipReason, n: number) => {
      const first = this.samples(reason)[0];
      const where = first ? ` (first: ${formatSource(first.source)}: ${first.detail})` : "";
      return `${n} ${reason}${where}`;
    };
    const entries = Object.entries(this.counts()) as [SkipReason, number][];
    const skipped = entries.filter(([reason]) => reason !== "invalid-utf8");
    const out: string[] = [];
    const nSkipped = skipped.reduce((a, [, n]) => a + n, 0);
    if (nSkipped > 0) out.push(`skipped ${nSkipped} row${nSkipped === 1 ? "" : "s"}: ${skipped.map(([r, n]) => part(r, n)).join("; ")}`);
    const repaired = this.count("invalid-utf8");
    if (repaired > 0) out.push(`kept ${repaired} row${repaired === 1 ? "" : "s"} with invalid UTF-8 replaced: ${part("invalid-utf8", repaired)}`);
    return out.join("; ");
  }

  toJSON(): { counts: Partial<Record<SkipReason, number>>; samples: BadRow[] } {
    return { counts: { ...this.counts() }, samples: [...this.#samples.values()].flat() };
  }

  static fromJSON(json: { counts: Partial<Record<SkipReason, number>>; samples: BadRow[] }): SkipReport {
    const r = new SkipReport();
    for (const [reason, n] of Object.entries(json.counts)) r.#counts.set(reason as SkipReason, n ?? 0);
    for (const bad of json.samples) {
      const kept = r.#samples.get(bad.reason) ?? [];
      kept.push(bad);
      r.#samples.set(bad.reason, kept);
    }
    return r;
  }
}
