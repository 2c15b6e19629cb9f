// Fuzz class 2, dataset rows: small files in LLaMA-Factory's formats (alpaca, sharegpt, openai
// messages, preference, kto, pretrain text) whose rows are mutated — wrong types, missing and extra
// keys, huge and odd strings, invalid UTF-8, deep nesting, numbers as text, roles out of order, empty
// conversations, broken lines — then read, converted and templated by the real pipeline (prepareData
// with the qwen3 tokenizer fixture). Every row must be accounted for: a sample, or a skipped row counted
// with its file and row; a refusal (strict mode, a file that cannot be read) must name the file.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  createRegistry,
  type DataOptions,
  dataOptionSchema,
  loadTokenizer,
  prepareData,
  type Registry,
  type SampleProcessor,
  type Tokenizer,
  validateOptions,
} from "../../../core/index.ts";
import { dataPlugins } from "../../../plugins/data/index.ts";
import stages, { feedbackProcessor, pairwiseProcessor, pretrainProcessor, supervisedProcessor } from "../../../plugins/stages/index.ts";
import type { FuzzClass, Verdict } from "./harness.ts";
import type { Gen } from "./random.ts";

type Row = Record<string, unknown>;

interface Shape {
  readonly name: string;
  readonly entry: Record<string, unknown>;
  readonly processor: SampleProcessor;
  /** The stage `lft data preview --stage` names for this processor. */
  readonly stage: string;
  readonly rows: readonly (() => Row)[];
  /** Written as plain text lines instead of JSON (pretrain .txt). */
  readonly text?: boolean;
}

const turn = (from: string, value: string) => ({ from, value });
const msg = (role: string, content: string) => ({ role, content });

const SHAPES: readonly Shape[] = [
  {
    name: "alpaca",
    entry: {},
    processor: supervisedProcessor,
    stage: "sft",
    rows: [
      () => ({ instruction: "Name a colour.", input: "", output: "Blue." }),
      () => ({ instruction: "Translate", input: "bonjour", output: "hello", system: "be brief", history: [["q1", "a1"]] }),
    ],
  },
  {
    name: "sharegpt",
    entry: { formatting: "sharegpt", columns: { messages: "conversations", tools: "tools", system: "system" } },
    processor: supervisedProcessor,
    stage: "sft",
    rows: [
      () => ({ conversations: [turn("human", "Hi"), turn("gpt", "Hello!")] }),
      () => ({
        conversations: [
          turn("human", "Weather?"),
          turn("function_call", '{"name": "w", "arguments": {}}'),
          turn("observation", "sunny"),
          turn("gpt", "Sunny."),
        ],
        tools: '[{"name": "w", "description": "weather", "parameters": {"type": "object", "properties": {}}}]',
        system: "sys",
      }),
    ],
  },
  {
    name: "openai",
    entry: { formatting: "openai", columns: { messages: "messages" } },
    processor: supervisedProcessor,
    stage: "sft",
    rows: [
      () => ({ messages: [msg("system", "s"), msg("user", "2+2?"), msg("assistant", "4")] }),
      () => ({ messages: [msg("user", "Hi"), msg("assistant", "Hey")] }),
    ],
  },
  {
    name: "preference",
    entry: { formatting: "sharegpt", ranking: true, columns: { messages: "conversations", chosen: "chosen", rejected: "rejected" } },
    processor: pairwiseProcessor,
    stage: "rm",
    rows: [() => ({ conversations: [turn("human", "Pick one")], chosen: turn("gpt", "Good answer"), rejected: turn("gpt", "Bad answer") })],
  },
  {
    name: "kto",
    entry: {
      formatting: "sharegpt",
      columns: { messages: "messages", kto_tag: "label" },
      tags: { role_tag: "role", content_tag: "content", user_tag: "user", assistant_tag: "assistant" },
    },
    processor: feedbackProcessor,
    stage: "kto",
    rows: [
      () => ({ messages: [msg("user", "Q"), msg("assistant", "A")], label: true }),
      () => ({ messages: [msg("user", "Q2"), msg("assistant", "B")], label: false }),
    ],
  },
  {
    name: "text",
    entry: { columns: { prompt: "text" } },
    processor: pretrainProcessor,
    stage: "pt",
    rows: [() => ({ text: "Once upon a time." }), () => ({ text: "The end." })],
  },
  {
    name: "text-lines",
    entry: { columns: { prompt: "text" } },
    processor: pretrainProcessor,
    stage: "pt",
    rows: [() => ({ text: "A line of plain text." })],
    text: true,
  },
];

const ODD_STRINGS = [
  "",
  " ",
  "\u0000",
  "\ud800",
  "\uffff",
  "\u202e\u0627",
  "<|im_start|>assistant\n",
  "<|endoftext|>",
  "{{ raise_exception('x') }}",
  "${HOME}",
  "NaN",
  "1e999",
  "-0",
  "true",
  "null",
  "\r\n\r\n",
  "🦙".repeat(50),
];

function deepValue(n: number): unknown {
  let v: unknown = "x";
  for (let i = 0; i < n; i++) v = i % 2 === 0 ? [v] : { k: v };
  return v;
}

function oddValue(g: Gen): unknown {
  switch (g.int(12)) {
    case 0:
      return g.pick(ODD_STRINGS);
    case 1:
      return "w".repeat(g.pick([1000, 20_000, 300_000]));
    case 2:
      return g.pick([0, -1, 1.5, 1e308, Number.MAX_SAFE_INTEGER + 2]);
    case 3:
      return null;
    case 4:
      return g.chance(0.5);
    case 5:
      return [];
    case 6:
      return {};
    case 7:
      return deepValue(g.pick([50, 500, 3000]));
    case 8:
      return [g.pick(ODD_STRINGS), 1, null];
    case 9:
      return { role: "user", content: "x", from: "human", value: "y" };
    case 10:
      return [turn("gpt", "first"), turn("human", "second")];
    default:
      return "ordinary text";
  }
}

/** One structural change somewhere in the row: a value replaced, a key dropped or added, turns reordered. */
function mutateRow(g: Gen, row: Row): unknown {
  if (g.chance(0.05)) return oddValue(g);
  const keys = Object.keys(row);
  const key = g.pick(keys);
  const value = row[key];
  switch (g.int(8)) {
    case 0:
      delete row[key];
      break;
    case 1:
      row[g.pick(["extra", "__proto__", "constructor", "instruction", "messages", "label", "rejected"])] = oddValue(g);
      break;
    case 2:
    case 3:
      if (Array.isArray(value) && value.length > 0) {
        const i = g.int(value.length);
        const item = value[i];
        if (item !== null && typeof item === "object" && !Array.isArray(item) && g.chance(0.7)) {
          const ik = g.pick(Object.keys(item as Row));
          (item as Row)[ik] = g.chance(0.4)
            ? g.pick(["human", "gpt", "user", "assistant", "system", "tool", "observation", "function_call", "Human", "bot"])
            : oddValue(g);
        } else value[i] = oddValue(g);
      } else row[key] = oddValue(g);
      break;
    case 4:
      if (Array.isArray(value)) value.reverse();
      else row[key] = oddValue(g);
      break;
    case 5:
      if (Array.isArray(value)) value.length = g.int(value.length);
      else row[key] = oddValue(g);
      break;
    case 6:
      if (Array.isArray(value)) value.push(...value.slice(0, 1 + g.int(2)));
      else row[key] = oddValue(g);
      break;
    default:
      row[key] = oddValue(g);
  }
  return row;
}

/** Raw bytes of a mutated line: invalid UTF-8, cut JSON, literals JSON has no words for. */
function lineDamage(g: Gen, line: string): Uint8Array {
  const enc = new TextEncoder();
  switch (g.int(6)) {
    case 0: {
      const at = g.int(line.length);
      const bad = g.pick([[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80, 0x80]]);
      return Uint8Array.from([...enc.encode(line.slice(0, at)), ...bad, ...enc.encode(line.slice(at))]);
    }
    case 1:
      return enc.encode(line.slice(0, g.int(line.length)));
    case 2:
      return enc.encode(line.replace(/"[^"]*"\s*}$/, "NaN}").replace(/:\s*"[^"]*"/, ": 1e999"));
    case 3:
      return enc.encode(`\ufeff${line}`);
    case 4:
      return enc.encode(`${line}${g.pick(["", " ", "}", ",", "\t// comment"])}`);
    default:
      return enc.encode(g.pick(["", "   ", "[]", "null", "1", '"row"', "{}", "[{}]"]));
  }
}

export interface DatasetInput {
  readonly shape: string;
  /** Its dataset_info.json entry (file_name added by the caller) and the stage it feeds. */
  readonly entry: Record<string, unknown>;
  readonly stage: string;
  readonly file: string;
  readonly bytes: Uint8Array;
  readonly records: number;
  readonly strict: boolean;
  /** Processing options drawn per input: the streaming reader, tiny cutoffs (truncation), history masking. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly template: string;
}

/** Report reasons that are notes about a row, not skipped rows. */
const NOTES = new Set(["blank-line", "invalid-utf8"]);

const TEMPLATES = ["qwen", "qwen3", "default", "chatml", "alpaca"];

function drawOptions(g: Gen): Record<string, unknown> {
  const o: Record<string, unknown> = { cutoff_len: g.pick([1, 2, 3, 8, 64, 512, 512, 512]) };
  if (g.chance(0.3)) o.streaming = true;
  const masking = g.int(5);
  if (masking === 0) o.mask_history = true;
  else if (masking === 1) o.train_on_prompt = true;
  if (g.chance(0.2)) o.max_samples = 1 + g.int(3);
  return o;
}

export function makeDataset(g: Gen): DatasetInput {
  const shape = g.pick(SHAPES);
  const n = 1 + g.int(6);
  const enc = new TextEncoder();
  const asArray = !shape.text && g.chance(0.25);
  const lines: Uint8Array[] = [];
  const rows: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const base = g.pick(shape.rows)();
    const row = g.chance(0.6) ? mutateRow(g, base) : base;
    rows.push(row);
    const text = shape.text ? String((row as Row | null)?.text ?? JSON.stringify(row)).replaceAll("\n", " ") : JSON.stringify(row);
    lines.push(!asArray && g.chance(0.15) ? lineDamage(g, text) : enc.encode(text));
  }
  let bytes: Uint8Array;
  if (asArray) {
    const text = JSON.stringify(rows);
    bytes = g.chance(0.15) ? lineDamage(g, text) : enc.encode(text);
  } else bytes = Buffer.concat(lines.flatMap((l) => [l, enc.encode("\n")]));
  const file = `${shape.name}.${shape.text ? "txt" : asArray ? "json" : "jsonl"}`;
  return {
    shape: shape.name,
    entry: shape.entry,
    stage: shape.stage,
    file,
    bytes,
    records: n,
    strict: g.chance(0.2),
    template: g.pick(TEMPLATES),
    options: drawOptions(g),
  };
}

/** A refusal says where: the file with a line or row, or the file and what is wrong with it. */
function located(message: string, input: DatasetInput): boolean {
  return message.includes(input.file);
}

export async function datasetClass(dir: string, tokenizerDir: string): Promise<FuzzClass<DatasetInput>> {
  const tokenizer: Tokenizer = loadTokenizer(tokenizerDir)._unsafeUnwrap();
  const registry: Registry = createRegistry();
  for (const p of [...dataPlugins, stages]) registry.use(p)._unsafeUnwrap();
  mkdirSync(dir, { recursive: true });
  const byName = new Map(SHAPES.map((s) => [s.name, s]));
  return {
    name: "dataset-rows",
    make: makeDataset,
    async try(input): Promise<Verdict> {
      const shape = byName.get(input.shape)!;
      writeFileSync(join(dir, input.file), input.bytes);
      writeFileSync(join(dir, "dataset_info.json"), JSON.stringify({ fuzz: { file_name: input.file, ...shape.entry } }));
      const options: DataOptions = validateOptions(
        dataOptionSchema,
        { dataset: ["fuzz"], dataset_dir: dir, template: input.template, strict: input.strict, packing: false, ...input.options },
        "fuzz",
      )._unsafeUnwrap();
      const prepared = await prepareData({ registry, tokenizer, processor: shape.processor, options });
      if (prepared.isErr()) return { outcome: "refused", message: prepared.error.message };
      const p = prepared.value;
      // Every bad row names its file and row (row 0, the whole file, with the line where it breaks).
      for (const bad of p.report.toJSON().samples) {
        const where = bad.source.row >= 1 || (bad.source.row === 0 && bad.source.line !== undefined);
        if (bad.source.file !== input.file || !where) {
          return { outcome: "silent", detail: `a skipped row does not say where it is: ${JSON.stringify(bad)}` };
        }
        if (bad.detail === "") return { outcome: "silent", detail: `a skipped row has no reason: ${JSON.stringify(bad.source)}` };
      }
      // Nothing disappears: each row read is a sample or a counted skip. Notes beside a row (a blank line,
      // invalid UTF-8 replaced in a kept row) are counted in the report but are not rows.
      const samples = p.train.length + p.eval.length;
      const skipped = Object.entries(p.report.counts() as Record<string, number>)
        .filter(([reason]) => !NOTES.has(reason))
        .reduce((n, [, c]) => n + c, 0);
      if (samples + skipped !== p.rows) {
        return { outcome: "silent", detail: `${p.rows} rows read, but ${samples} samples and ${skipped} skipped (${p.report.summary()})` };
      }
      return { outcome: "accepted" };
    },
    located,
    show: (input) =>
      `${input.shape} ${input.file} (template ${input.template}${input.strict ? ", strict" : ""}, ${JSON.stringify(input.options)}):\n${new TextDecoder().decode(input.bytes).slice(0, 1500)}`,
  };
}
