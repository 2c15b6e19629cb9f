// `lft export BASE_DIR ADAPTER_DIR --out DIR [--merge]`: fold a PEFT LoRA adapter into its base model
// and write a complete Hugging Face checkpoint (sharded when large) with the base's tokenizer.
import type { CommandEntry } from "../../core/index.ts";
import { exportPeftMerged } from "../methods/index.ts";
import { ExitCode, parseOrUsage, pathIn } from "./shared.ts";

const usage = "BASE_DIR ADAPTER_DIR --out DIR --merge";

export const exportCommand: CommandEntry = {
  name: "export",
  doc: "merge a PEFT adapter into its base model and write a Hugging Face checkpoint",
  usage,
  scope: "both",
  async run(argv, io, session) {
    const args = parseOrUsage("export", usage, argv, { positional: [2, 2], values: ["--out"], flags: ["--merge"] }, io);
    if (typeof args === "number") return args;
    const out = args.values.get("--out");
    if (!out || !args.flags.has("--merge")) {
      io.stderr(
        `lft export: ${!out ? "--out DIR is required" : "only --merge is supported from the command line (a recipe's export block writes adapters)"}\nusage: lft export ${usage}\n`,
      );
      return ExitCode.usage;
    }
    const [base, adapter] = args.positional as [string, string];
    const r = exportPeftMerged(pathIn(io, base), pathIn(io, adapter), pathIn(io, out), session.registry);
    if (r.isErr()) {
      io.stderr(`lft export: ${r.error.message}\n`);
      return ExitCode.runFailed;
    }
    io.stdout(`wrote the merged model to ${pathIn(io, out)}\n`);
    return ExitCode.ok;
  },
};
