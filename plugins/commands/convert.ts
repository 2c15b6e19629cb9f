// `lft convert llama2c CHECKPOINT.bin TOKENIZER.bin --out DIR`: a llama2.c model to a Hugging Face folder.
import type { CommandEntry } from "../../core/index.ts";
import { convertLlama2c } from "../convert/index.ts";
import { ExitCode, parseOrUsage, pathIn } from "./shared.ts";

const usage = "llama2c CHECKPOINT.bin TOKENIZER.bin --out DIR";

export const convertCommand: CommandEntry = {
  name: "convert",
  doc: "convert a llama2.c checkpoint and tokenizer into a Hugging Face Llama folder",
  usage,
  scope: "cli",
  async run(argv, io) {
    const args = parseOrUsage("convert", usage, argv, { positional: [3, 3], values: ["--out"] }, io);
    if (typeof args === "number") return args;
    const [kind, ckpt, tok] = args.positional as [string, string, string];
    if (kind !== "llama2c") {
      io.stderr(`lft convert: unknown source format "${kind}"; supported: llama2c\n`);
      return ExitCode.usage;
    }
    const out = args.values.get("--out");
    if (!out) {
      io.stderr(`lft convert: --out DIR is required\nusage: lft convert ${usage}\n`);
      return ExitCode.usage;
    }
    const r = convertLlama2c(pathIn(io, ckpt), pathIn(io, tok), pathIn(io, out));
    if (r.isErr()) {
      io.stderr(`lft convert: ${r.error.message}\n`);
      return ExitCode.ioError;
    }
    io.stdout(`wrote ${r.value.dir} (${r.value.parameters.toLocaleString("en")} parameters): ${r.value.files.join(", ")}\n`);
    return ExitCode.ok;
  },
};
