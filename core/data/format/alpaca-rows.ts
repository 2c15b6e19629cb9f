// The alpaca shape (LLaMA-Factory's AlpacaDatasetConverter): history pairs, then one user turn made
// of the prompt and query columns joined by "\n" (each only when non-empty).
import { err, ok, type Result } from "neverthrow";
import { describe } from "../../registry/options.ts";
import type { DatasetAttr } from "../dataset-info.ts";
import type { Message } from "../types.ts";
import { optionalString, problem, toolsText, type Row, type RowProblem } from "./row-fields.ts";

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
