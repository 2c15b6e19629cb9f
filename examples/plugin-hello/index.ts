// lft-plugin-hello: what a third-party lft plugin package looks like. Its default export is
// definePlugin(...), and it adds one entry to three hook points:
//   - a dataset format `hello`: rows like {"name": "Ada"} become "Say hello to Ada." → "Hello, Ada!"
//   - a metric `greeting_rate`: the share of predictions that open with a greeting
//   - a command `hello`: `lft hello [name]` on the command line, `:hello [name]` in the REPL
// A recipe loads it with `use "lft-plugin-hello"`; its options are checked like lft's own.

import { type CommandEntry, type DatasetFormat, DEFAULT_COLUMNS, definePlugin, type MetricEntry, type OptionSchema } from "lft/core/index.ts";
import { asRow, requireString } from "lft/plugins/data/index.ts";

/** Options of `dataset hello "..." { ... }`: which column holds the name (dataset_info.json's "prompt"). */
const helloOptions = { prompt: { type: "string", doc: 'the column holding the name (default "name")' } } satisfies OptionSchema;

export const helloFormat: DatasetFormat = {
  produces: ["sft"],
  convert(value, attr) {
    const column = attr.columns === DEFAULT_COLUMNS ? "name" : (attr.columns.prompt ?? "name");
    return asRow(value)
      .andThen((row) => requireString(row, column))
      .map((name) => ({
        kind: "sft" as const,
        prompt: [{ role: "user" as const, content: `Say hello to ${name}.` }],
        response: { role: "assistant" as const, content: `Hello, ${name}!` },
        system: "",
        tools: "",
      }));
  },
};

const greetingOptions = {
  words: { type: "list", item: { type: "string" }, minLength: 1, default: ["hello", "hi", "hey"], doc: "words that count as a greeting" },
} satisfies OptionSchema;

export const greetingRate: MetricEntry = {
  name: "greeting_rate",
  doc: "share of predictions whose first word is a greeting, percent",
  options: greetingOptions,
  // compute returns a 0..1 fraction; reports multiply by 100 so it prints like exact_match (75.00, not 0.75)
  scale: 100,
  compute({ predictions }, options) {
    if (predictions.length === 0) return 0;
    const words = (options.words as readonly string[]).map((w) => w.toLowerCase());
    const greets = predictions.filter((p) =>
      words.includes(
        p
          .trim()
          .split(/[^A-Za-z]+/)[0]
          ?.toLowerCase() ?? "",
      ),
    );
    return greets.length / predictions.length;
  },
};

export const helloCommand: CommandEntry = {
  name: "hello",
  doc: "greet someone, and say how many plugins the session has loaded",
  usage: "[name]",
  scope: "both",
  async run(args, io, session) {
    const name = args.length > 0 ? args.join(" ") : "world";
    io.stdout(`Hello, ${name}! (${session.registry.plugins().length} plugins loaded, in the ${session.mode})\n`);
    return 0;
  },
};

export default definePlugin({
  name: "lft-plugin-hello",
  version: "0.1.0",
  setup(api) {
    api.register.datasets({ name: "hello", doc: 'rows {"name": ...} as greeting exercises', options: helloOptions, ...helloFormat });
    api.register.metrics(greetingRate);
    api.register.commands(helloCommand);
  },
});
