// Plain text for pre-training: one document per row from the prompt column (default "text"); .txt
// files give one row per line. Empty documents are skipped and counted.

import { err, ok } from "neverthrow";
import { type DatasetFormat, DEFAULT_COLUMNS, definePlugin } from "../../../core/index.ts";
import { columnOptions } from "./columns.ts";
import { asRow, problem, requireString } from "./row-fields.ts";

export const textFormat: DatasetFormat = {
  produces: ["text"],
  convert(value, attr) {
    const row = asRow(value);
    if (row.isErr()) return err(row.error);
    const column = attr.columns === DEFAULT_COLUMNS ? "text" : (attr.columns.prompt ?? "text");
    return requireString(row.value, column).andThen((text) =>
      text.trim() === "" ? err(problem("empty", `column "${column}" is empty`)) : ok({ kind: "text" as const, text }),
    );
  },
};

export default definePlugin({
  name: "lft-format-text",
  setup: (api) => api.register.datasets({ name: "text", doc: "plain text documents for pre-training", options: columnOptions, ...textFormat }),
});
