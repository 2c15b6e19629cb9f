// `lft score REWARD_DIR [--model BASE] --prompt TEXT --response TEXT [--system TEXT] [--template T]`:
// the reward a `train rm` output (a reward adapter, or full weights, plus value_head.safetensors) gives
// one reply, printed on stdout; loading messages go to stderr.
import type { CommandEntry, CommandIO } from "../../core/index.ts";
import { scoreWithRewardModel } from "../runner/index.ts";
import { ExitCode, parseOrUsage } from "./shared.ts";

const usage = "REWARD_DIR [--model BASE_DIR] --prompt TEXT --response TEXT [--system TEXT] [--template T]";

export const scoreCommand: CommandEntry = {
  name: "score",
  doc: "score a prompt and reply with a reward model that `train rm` wrote (adapter or model + value_head.safetensors)",
  usage,
  scope: "cli",
  async run(argv, io, session) {
    const args = parseOrUsage("score", usage, argv, { positional: [1, 1], values: ["--model", "--prompt", "--response", "--system", "--template"] }, io);
    if (typeof args === "number") return args;
    const pick = (k: string) => args.values.get(k);
    const prompt = pick("--prompt");
    const response = pick("--response");
    if (prompt === undefined || response === undefined) {
      io.stderr(`lft score: --prompt and --response are both needed\nusage: lft score ${usage}\n`);
      return ExitCode.usage;
    }
    const quiet: CommandIO = { ...io, stdout: (t) => io.stderr(t) };
    const template = pick("--template");
    const scored = scoreWithRewardModel(
      args.positional[0]!,
      pick("--model"),
      [{ prompt, response, ...(pick("--system") !== undefined ? { system: pick("--system")! } : {}) }],
      session.registry,
      quiet,
      template === undefined ? {} : { template },
    );
    if (scored.isErr()) {
      io.stderr(`lft score: ${scored.error.message}\n`);
      return ExitCode.runFailed;
    }
    io.stdout(`${scored.value[0]!.toFixed(6)}\n`);
    return ExitCode.ok;
  },
};
