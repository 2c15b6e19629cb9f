// LLaMA-Factory conformance: every case of test/fixtures/lf-parity (the exact ids LLaMA-Factory's own
// data code produced, see its README) run through lft's real data path (dataset_info.json of the
// LLaMA-Factory demo data, lft's tokenizer on the fixture tokenizer.json, the registered template,
// prepareData with the case's options, packing included) and compared id for id. A mismatch reports
// the first differing index per field. A case whose template lft does not register is skipped with
// that reason, computed at run time, so it runs as soon as the template exists.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type PairwiseSample, prepareData, type Tokenizer, type TokenSeq } from "../../../core/index.ts";
import { dataOptions, dataRegistry, LF_DATA, processors } from "../../core/data/helpers/registry.ts";
import { type FixtureTokenizer, fixtureTokenizer } from "../../core/data/helpers/tokenizer.ts";

const PARITY = join(import.meta.dir, "../../fixtures/lf-parity");

interface ParityCase {
  readonly file: string;
  readonly dataset_info: string;
  readonly template: string;
  readonly tokenizer: FixtureTokenizer;
  readonly kind: "sft" | "pairwise";
  readonly cutoff_len: number;
  readonly options: { train_on_prompt: boolean; mask_history: boolean; packing: boolean; neat_packing: boolean; enable_thinking: boolean };
  readonly max_samples: number | null;
  readonly samples_written: number;
}

interface LfSeq {
  readonly input_ids: number[];
  readonly labels: number[];
  readonly position_ids?: number[];
  readonly attention_mask?: number[];
}
type LfLine = LfSeq | { chosen: LfSeq; rejected: LfSeq };

const manifest = (await Bun.file(join(PARITY, "cases.json")).json()) as { cases: ParityCase[] };
const registry = dataRegistry();

/** "" when equal, else where and how they first differ. */
function firstDiff(field: string, want: readonly number[] | undefined, got: readonly number[] | undefined): string {
  if (want === undefined) return "";
  if (got === undefined) return `${field}: lft has none`;
  const n = Math.min(want.length, got.length);
  for (let i = 0; i < n; i++) {
    if (want[i] !== got[i])
      return `${field}[${i}]: LF ${want[i]}, lft ${got[i]} (LF ${JSON.stringify(want.slice(i, i + 6))}, lft ${JSON.stringify(got.slice(i, i + 6))})`;
  }
  return want.length === got.length ? "" : `${field}: LF length ${want.length}, lft ${got.length} (first ${n} equal)`;
}

/** What LF's attention_mask means for lft's sample: neat packing's segment ids, plain packing all 1. */
function attentionMask(seq: TokenSeq): number[] {
  return seq.segmentIds ? [...seq.segmentIds] : new Array<number>(seq.inputIds.length).fill(1);
}

function compareSeq(prefix: string, want: LfSeq, got: TokenSeq): string[] {
  return [
    firstDiff(`${prefix}input_ids`, want.input_ids, got.inputIds),
    firstDiff(`${prefix}labels`, want.labels, got.labels),
    firstDiff(`${prefix}position_ids`, want.position_ids, got.positionIds),
    want.attention_mask === undefined ? "" : firstDiff(`${prefix}attention_mask`, want.attention_mask, attentionMask(got)),
  ].filter((d) => d !== "");
}

async function runCase(c: ParityCase, tokenizer: Tokenizer): Promise<string[]> {
  const lines = (await Bun.file(join(PARITY, c.file)).text())
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as LfLine);
  const packs = c.options.packing || c.options.neat_packing;
  // Unpacked samples do not depend on each other (README): reading only the rows written is the same.
  const maxSamples = packs ? (c.max_samples ?? undefined) : lines.length;
  const prepared = await prepareData({
    registry,
    tokenizer,
    processor: processors[c.kind],
    options: dataOptions({
      dataset: [c.dataset_info],
      dataset_dir: LF_DATA,
      template: c.template,
      cutoff_len: c.cutoff_len,
      train_on_prompt: c.options.train_on_prompt,
      mask_history: c.options.mask_history,
      packing: c.options.packing,
      neat_packing: c.options.neat_packing,
      ...(maxSamples === undefined ? {} : { max_samples: maxSamples }),
    }),
    templateOptions: templateOptionsFor(c),
  });
  if (prepared.isErr()) return [`lft: ${prepared.error.message}`];
  const samples = prepared.value.train as readonly (TokenSeq | PairwiseSample)[];
  const problems: string[] = [];
  if (samples.length < lines.length) problems.push(`lft made ${samples.length} samples, LF ${lines.length}`);
  for (let i = 0; i < Math.min(lines.length, samples.length) && problems.length < 5; i++) {
    const want = lines[i]!;
    const got = samples[i]!;
    const diffs =
      "chosen" in want
        ? [...compareSeq("chosen.", want.chosen, (got as PairwiseSample).chosen), ...compareSeq("rejected.", want.rejected, (got as PairwiseSample).rejected)]
        : compareSeq("", want, got as TokenSeq);
    if (diffs.length > 0) problems.push(`line ${i}: ${diffs.join("; ")}`);
  }
  return problems;
}

/** enable_thinking only where the template takes it (reasoning templates). */
function templateOptionsFor(c: ParityCase): Record<string, unknown> {
  const entry = registry.get("templates", c.template);
  const takes = entry.isOk() && entry.value.options !== undefined && "enable_thinking" in entry.value.options;
  return takes ? { enable_thinking: c.options.enable_thinking } : {};
}

describe("LLaMA-Factory parity (test/fixtures/lf-parity)", () => {
  test("the manifest lists 110 cases, each with its file", async () => {
    expect(manifest.cases.length).toBe(110);
    for (const c of manifest.cases) expect(await Bun.file(join(PARITY, c.file)).exists()).toBe(true);
  });

  for (const c of manifest.cases) {
    const missing = registry.get("templates", c.template).isErr();
    const name = missing ? `${c.file} (skipped: template ${c.template} not registered)` : c.file;
    test.skipIf(missing)(name, async () => {
      const problems = await runCase(c, await fixtureTokenizer(c.tokenizer));
      expect(problems).toEqual([]);
    });
  }
});
