// The alpaca format: instruction / input / output columns (plus history, system, tools), as
// LLaMA-Factory's AlpacaDatasetConverter reads them: history pairs, then one user turn made of the
// prompt and query columns joined by "\n" (each only when non-empty). A dataset without a response
// column gives plain text (its prompt), which pre-training reads, as in LLaMA-Factory (wiki_demo,
// c4_demo are alpaca datasets with only a prompt column).

import { err, ok, type Result } from "neverthrow";
import { type DatasetAttr, type DatasetFormat, definePlugin, describe, type Message, type RowProblem } from "../../../core/index.ts";
import { columnOptions } from "./columns.ts";
import { asRow, optionalString, problem, type Row, requireString, toolsText } from "./row-fields.ts";

/** The prompt side of an alpaca row (pairwise and kto use it too). */
export interface AlpacaPrompt {
  readonly prompt: Message[];
  readonly system: string;
  readonly tools: string;
}

export function alpacaPrompt(row: Row, attr: DatasetAttr): Result<AlpacaPrompt, RowProblem> {
  const { columns } = attr;
  const prompt: Message[] = [];
  if (columns.history !== undefined && Array.isArray(row[columns.history])) {
    for (const [i, pair] of (row[columns.history] as unknown[]).entries()) {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string" || typeof pair[1] !== "string") {
        return err(problem("wrong-type", `column "${columns.history}" item ${i} must be a [prompt, response] pair of strings, found ${describe(pair)}`));
      }
      prompt.push({ role: "user", content: pair[0] }, { role: "assistant", content: pair[1] });
    }
  }
  const query: string[] = [];
  for (const column of [columns.prompt, columns.query]) {
    const v = optionalString(row, column);
    if (v.isErr()) return err(v.error);
    if (v.value !== "") query.push(v.value);
  }
  prompt.push({ role: "user", content: query.join("\n") });
  const system = optionalString(row, columns.system);
  if (system.isErr()) return err(system.error);
  const tools = toolsText(row, columns.tools);
  if (tools.isErr()) return err(tools.error);
  return ok({ prompt, system: system.value, tools: tools.value });
}

export const alpacaFormat: DatasetFormat = {
  produces: ["sft", "text"],
  convert(value, attr) {
    const row = asRow(value);
    if (row.isErr()) return err(row.error);
    const p = alpacaPrompt(row.value, attr);
    if (p.isErr()) return err(p.error);
    const { prompt, system, tools } = p.value;
    const column = attr.columns.response;
    if (column === undefined) return ok({ kind: "text" as const, text: prompt[prompt.length - 1]!.content });
    return requireString(row.value, column).map((content) => ({
      kind: "sft" as const,
      prompt,
      response: { role: "assistant" as const, content },
      system,
      tools,
    }));
  },
};

export default definePlugin({
  name: "lft-format-alpaca",
  setup: (api) =>
    api.register.datasets({
      name: "alpaca",
      doc: "instruction/input/output rows (Stanford Alpaca, LLaMA-Factory's default)",
      options: columnOptions,
      ...alpacaFormat,
    }),
});
