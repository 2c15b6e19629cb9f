// Rows to examples: each file's rows go through the dataset's format plugin; rows that cannot be used
// are counted in the report with their reason (or stop the run under strict). Lazy, so it serves both
// the in-memory and the streaming pipelines.
import { err, ok, type Result } from "neverthrow";
import type { DatasetFormat } from "./dataset-format.ts";
import type { DatasetAttr } from "./dataset-info.ts";
import { type BadRow, DataError, type SkipReport } from "./problems.ts";
import type { SampleProcessor } from "./process/context.ts";
import type { ReadItem } from "./read/rows.ts";
import type { Example } from "./types.ts";

type Accepting = Pick<SampleProcessor, "kind" | "accepts" | "needs">;

/** Stops a run: strict mode met a bad row, or a file could not be read at all. */
export class StopError extends Error {
  constructor(readonly error: DataError) {
    super(error.message);
  }
}

/** Whether a format can feed a stage at all; checked before any row is read. */
export function checkFormatFits(attr: DatasetAttr, formatName: string, format: DatasetFormat, processor: Accepting): Result<void, DataError> {
  if (format.produces.some((k) => processor.accepts.includes(k))) return ok(undefined);
  return err(
    new DataError(
      `dataset "${attr.name}" (${attr.loadFrom === "file" && attr.path !== attr.name ? `file ${attr.path}, ` : ""}format ${formatName}) gives ${format.produces.join("/")} examples; this stage needs ${processor.needs} examples`,
    ),
  );
}

/** One read item to an example, or the bad row. */
export function convertItem(item: ReadItem, attr: DatasetAttr, format: DatasetFormat, processor: Accepting): Example | BadRow {
  if (item.kind === "bad") return item.bad;
  const body = format.convert(item.value, attr);
  if (body.isErr()) return { ...body.error, source: item.source };
  const ex = { ...body.value, source: item.source } as Example;
  if (!processor.accepts.includes(ex.kind)) {
    return { reason: "wrong-type", detail: `the row gives a ${ex.kind} example where ${processor.kind} needs another kind`, source: item.source };
  }
  return ex;
}

export function isBadRow(x: Example | BadRow): x is BadRow {
  return "reason" in x;
}

/** Examples from read items, lazily; bad rows go to the report (strict: throws StopError). */
export async function* convertStream(
  items: AsyncIterable<ReadItem>,
  attr: DatasetAttr,
  format: DatasetFormat,
  processor: Accepting,
  report: SkipReport,
  strict: boolean,
): AsyncGenerator<Example> {
  for await (const item of items) {
    const r = convertItem(item, attr, format, processor);
    if (isBadRow(r)) {
      const added = report.add(r, strict);
      if (added.isErr()) throw new StopError(added.error);
    } else yield r;
  }
}
