// `lft runs` lists the project's runs; `lft runs show ID` prints one run with its loss curve.
import { type CommandEntry, RunStore } from "../../core/index.ts";
import { formatRunList, formatRunShow } from "./run-report.ts";
import { ExitCode, parseOrUsage, runDatabase } from "./shared.ts";

const usage = "[show ID]";

export const runsCommand: CommandEntry = {
  name: "runs",
  doc: "list training runs (status, steps, final loss); `show ID` plots one run's loss curve",
  usage,
  scope: "both",
  async run(argv, io) {
    const args = parseOrUsage("runs", usage, argv, { positional: [0, 2] }, io);
    if (typeof args === "number") return args;
    const store = RunStore.open(runDatabase(io));
    if (store.isErr()) {
      io.stderr(`lft runs: ${store.error.message}\n`);
      return ExitCode.ioError;
    }
    try {
      const [verb, id] = args.positional;
      if (verb === undefined) {
        const list = formatRunList(store.value);
        io.stdout(list.endsWith("\n") ? list : `${list}\n`);
        return ExitCode.ok;
      }
      if (verb !== "show" || id === undefined) {
        io.stderr(`lft runs: expected "show ID", got "${args.positional.join(" ")}"\nusage: lft runs ${usage}\n`);
        return ExitCode.usage;
      }
      const shown = formatRunShow(store.value, id, { width: Math.min(process.stdout.columns ?? 80, 100) - 10 });
      if (shown.isErr()) {
        io.stderr(`lft runs: ${shown.error.message}\n`);
        return ExitCode.usage;
      }
      io.stdout(shown.value);
      return ExitCode.ok;
    } finally {
      store.value.close();
    }
  },
};
