// `lft make-tiny --family F --out DIR [--seed N]`: a small random-initialised checkpoint in real HF layout.
import { type CommandEntry, familyByName } from "../../core/index.ts";
import { ExitCode, intOption, parseOrUsage, pathIn } from "./shared.ts";
import { makeTiny } from "./tiny-model.ts";

const usage = "--family FAMILY --out DIR [--seed N]";

export const makeTinyCommand: CommandEntry = {
  name: "make-tiny",
  doc: "write a tiny random-initialised model of a family (config, safetensors, tokenizer) for tests",
  usage,
  scope: "cli",
  async run(argv, io, session) {
    const args = parseOrUsage("make-tiny", usage, argv, { positional: [0, 0], values: ["--family", "--out", "--seed"] }, io);
    if (typeof args === "number") return args;
    const name = args.values.get("--family");
    const out = args.values.get("--out");
    const seed = intOption(args, "--seed", 1);
    if (!name || !out || typeof seed === "string") {
      io.stderr(`lft make-tiny: ${typeof seed === "string" ? seed : "--family and --out are required"}\nusage: lft make-tiny ${usage}\n`);
      return ExitCode.usage;
    }
    const family = familyByName(session.registry, name);
    if (family.isErr()) {
      io.stderr(`lft make-tiny: ${family.error.message}\n`);
      return ExitCode.notAvailable;
    }
    const made = makeTiny(family.value, pathIn(io, out), { seed });
    if (made.isErr()) {
      io.stderr(`lft make-tiny: ${made.error.message}\n`);
      return ExitCode.ioError;
    }
    io.stdout(`wrote a tiny ${name} model to ${pathIn(io, out)}\n`);
    return ExitCode.ok;
  },
};
