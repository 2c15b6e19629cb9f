// Runs one LLaMA-Factory parity case (test/fixtures/lf-parity, non-packed SFT): the dataset rows
// through lft's format plugin, the named template and the supervised encoder, compared id for id
// with the input_ids / labels LLaMA-Factory's own code wrote.
import { join } from "node:path";
import { datasetAttr, loadDatasetInfo } from "../../../../core/data/index.ts";
import type { Tokenizer } from "../../../../core/index.ts";
import { encodeSupervised } from "../../../../plugins/stages/index.ts";
import { dataRegistry, LF_DATA } from "../../../core/data/helpers/registry.ts";

export const PARITY_DIR = join(import.meta.dir, "../../../fixtures/lf-parity");
const registry = dataRegistry();

export interface ParityRow {
  readonly input_ids: number[];
  readonly labels: number[];
}

export async function readCase(file: string): Promise<ParityRow[]> {
  const text = await Bun.file(join(PARITY_DIR, file)).text();
  return text
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as ParityRow);
}

/** lft's rows for the first `n` dataset rows of a parity case; the index of the first mismatch, or -1. */
export async function runCase(dataset: string, template: string, tokenizer: Tokenizer, expected: readonly ParityRow[]) {
  const info = (await loadDatasetInfo(LF_DATA))._unsafeUnwrap();
  const attr = datasetAttr(info, dataset)._unsafeUnwrap();
  const rows = (await Bun.file(join(LF_DATA, attr.path)).json()) as unknown[];
  const format = registry.get("datasets", attr.formatting)._unsafeUnwrap();
  const encoder = registry.get("templates", template)._unsafeUnwrap().create(tokenizer, {})._unsafeUnwrap();
  const got: ParityRow[] = [];
  for (let i = 0; i < expected.length; i++) {
    const body = format.convert(rows[i], attr)._unsafeUnwrap();
    if (body.kind !== "sft") throw new Error(`row ${i} is not an sft example`);
    const seq = encodeSupervised(
      { ...body, source: { dataset, file: attr.path, row: i } },
      { encoder, tokenizer, addsBos: false, options: { cutoffLen: 2048, trainOnPrompt: false, maskHistory: false, packing: false, neatPacking: false } },
    )._unsafeUnwrap();
    got.push({ input_ids: [...seq.inputIds], labels: [...seq.labels] });
  }
  return got;
}
