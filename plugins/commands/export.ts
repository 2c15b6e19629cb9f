// `lft export BASE_DIR ADAPTER_DIR --out DIR --merge`: fold a PEFT LoRA adapter into its base model and
// write a complete Hugging Face checkpoint (sharded when large) with the base's tokenizer.
// `lft export MODEL_DIR --gguf OUT.gguf [--type f32|f16|q8_0]`: write a model folder as GGUF for llama.cpp.
import type { CommandEntry, CommandIO, Registry } from "../../core/index.ts";
import { exportGguf, GGUF_TYPES, type GgufFileType } from "../convert/index.ts";
import { exportPeftMerged } from "../methods/index.ts";
import { ExitCode, parseOrUsage, pathIn } from "./shared.ts";

const usage = "BASE_DIR ADAPTER_DIR --out DIR --merge | MODEL_DIR --gguf OUT.gguf [--type f32|f16|q8_0]";

function exportToGguf(io: CommandIO, model: string, out: string, type: string | undefined): number {
  const fileType = (type ?? "f16") as GgufFileType;
  if (!GGUF_TYPES.includes(fileType)) {
    io.stderr(`lft export: --type must be one of ${GGUF_TYPES.join(", ")}, got "${type}"\nusage: lft export ${usage}\n`);
    return ExitCode.usage;
  }
  const r = exportGguf(pathIn(io, model), pathIn(io, out), fileType);
  if (r.isErr()) {
    io.stderr(`lft export: ${r.error.message}\n`);
    return ExitCode.runFailed;
  }
  io.stdout(`wrote ${r.value.path} (${r.value.architecture}, ${fileType}, ${r.value.tensors} tensors, ${r.value.bytes} bytes)\n`);
  return ExitCode.ok;
}

function exportMerged(io: CommandIO, base: string, adapter: string, out: string, registry: Registry): number {
  const r = exportPeftMerged(pathIn(io, base), pathIn(io, adapter), pathIn(io, out), registry);
  if (r.isErr()) {
    io.stderr(`lft export: ${r.error.message}\n`);
    return ExitCode.runFailed;
  }
  io.stdout(`wrote the merged model to ${pathIn(io, out)}\n`);
  return ExitCode.ok;
}

export const exportCommand: CommandEntry = {
  name: "export",
  doc: "merge a PEFT adapter into its base model (a Hugging Face checkpoint), or write a model as GGUF for llama.cpp",
  usage,
  scope: "both",
  async run(argv, io, session) {
    const args = parseOrUsage("export", usage, argv, { positional: [1, 2], values: ["--out", "--gguf", "--type"], flags: ["--merge"] }, io);
    if (typeof args === "number") return args;
    const gguf = args.values.get("--gguf");
    if (gguf !== undefined) {
      if (args.positional.length !== 1 || args.flags.has("--merge") || args.values.has("--out")) {
        io.stderr(`lft export: --gguf takes one MODEL_DIR and no --out/--merge\nusage: lft export ${usage}\n`);
        return ExitCode.usage;
      }
      return exportToGguf(io, args.positional[0]!, gguf, args.values.get("--type"));
    }
    const out = args.values.get("--out");
    if (args.positional.length !== 2 || !out || !args.flags.has("--merge")) {
      const why =
        args.positional.length !== 2
          ? "give BASE_DIR ADAPTER_DIR (or MODEL_DIR --gguf OUT.gguf)"
          : !out
            ? "--out DIR is required"
            : "only --merge is supported from the command line (a recipe's export block writes adapters)";
      io.stderr(`lft export: ${why}\nusage: lft export ${usage}\n`);
      return ExitCode.usage;
    }
    const [base, adapter] = args.positional as [string, string];
    return exportMerged(io, base, adapter, out, session.registry);
  },
};
