// The alpaca format: instruction / input / output columns (plus history, system, tools). A dataset
// without a response column gives plain text (its prompt), which pre-training reads, as in
// LLaMA-Factory (wiki_demo, c4_demo are alpaca datasets with only a prompt column).
import { alpacaPrompt, asRow, definePlugin, requireString, type DatasetFormat } from "../../../core/index.ts";
import { err, ok } from "neverthrow";
import { columnOptions } from "./columns.ts";

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
    return requireString(row.value, column).map((content) => ({ kind: "sft" as const, prompt, response: { role: "assistant" as const, content }, system, tools }));
  },
};

export default definePlugin({
  name: "lft-format-alpaca",
  setup: (api) => api.register.datasets({ name: "alpaca", doc: "instruction/input/output rows (Stanford Alpaca, LLaMA-Factory's default)", options: columnOptions, ...alpacaFormat }),
});
