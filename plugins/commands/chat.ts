// `lft chat MODEL_DIR [--prompt TEXT] [--max-tokens N] [--template T] [--adapter DIR] [--system S]
// [--temperature X]`: one answer (with --prompt) or a terminal chat, through the same runner a recipe's
// `chat` block uses, so the template, adapter loading and sampling behave identically.
import type { CommandEntry, ResolvedRecipe } from "../../core/index.ts";
import { runRecipe } from "../../core/index.ts";
import { ExitCode, intOption, parseOrUsage } from "./shared.ts";

const usage = "MODEL_DIR [--prompt TEXT] [--max-tokens N] [--template T] [--adapter DIR] [--system TEXT] [--temperature X]";

export const chatCommand: CommandEntry = {
  name: "chat",
  doc: "answer one prompt (--prompt) or chat in the terminal with a model folder (and an adapter)",
  usage,
  scope: "cli",
  async run(argv, io, session) {
    const args = parseOrUsage(
      "chat",
      usage,
      argv,
      { positional: [1, 1], values: ["--prompt", "--max-tokens", "--template", "--adapter", "--system", "--temperature"] },
      io,
    );
    if (typeof args === "number") return args;
    const maxTokens = intOption(args, "--max-tokens", 256);
    const temperature = Number(args.values.get("--temperature") ?? 0);
    if (typeof maxTokens === "string" || !(temperature >= 0)) {
      io.stderr(`lft chat: ${typeof maxTokens === "string" ? maxTokens : "--temperature must be a number >= 0"}\nusage: lft chat ${usage}\n`);
      return ExitCode.usage;
    }
    const pick = (k: string) => args.values.get(k);
    const recipe: ResolvedRecipe = {
      file: "lft chat",
      baseDir: io.cwd,
      uses: [],
      model: {
        path: args.positional[0]!,
        options: {
          device: "auto",
          seed: 42,
          ...(pick("--template") && { template: pick("--template")! }),
          ...(pick("--adapter") && { adapter: pick("--adapter")! }),
        },
      },
      datasets: [],
      actions: [
        {
          action: "chat",
          ...(pick("--prompt") !== undefined && { prompt: pick("--prompt")! }),
          options: { max_new_tokens: maxTokens, temperature, top_p: 1, seed: 42, ...(pick("--system") && { system: pick("--system")! }) },
        },
      ],
    };
    const controller = new AbortController();
    return runRecipe(recipe, session.registry, { io, live: new Map(), signal: controller.signal, registry: session.registry });
  },
};
