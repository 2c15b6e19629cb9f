// `lft runs` lists the runs in the user's run store (see core/store/location.ts); `runs show ID` prints
// one run with its loss curve; `runs compare A B` overlays runs' loss curves; `runs rm ID...` removes
// runs from the store (their output folders stay); `--json` prints the list (or one run) as JSON.
import { type CommandEntry, RunStore } from "../../core/index.ts";
import { formatRunCompare, formatRunList, formatRunShow, runsJson } from "./run-report.ts";
import { ExitCode, intOption, parseOrUsage, runDatabase } from "./shared.ts";

const usage = "[show ID | compare ID ID... | rm ID...] [--json] [--limit N] [--metric NAME]";

export const runsCommand: CommandEntry = {
  name: "runs",
  doc: "list runs (status, steps, final loss) from every folder; `show ID` plots one run, `compare A B` overlays loss curves, `rm ID...` removes runs",
  usage,
  scope: "both",
  async run(argv, io) {
    const args = parseOrUsage("runs", usage, argv, { positional: [0, 64], flags: ["--json"], values: ["--limit", "--metric"] }, io);
    if (typeof args === "number") return args;
    const limit = intOption(args, "--limit", 50);
    if (typeof limit === "string") {
      io.stderr(`lft runs: ${limit}\nusage: lft runs ${usage}\n`);
      return ExitCode.usage;
    }
    const json = args.flags.has("--json");
    const [verb, ...ids] = args.positional;
    const wrong = (why: string) => {
      io.stderr(`lft runs: ${why}\nusage: lft runs ${usage}\n`);
      return ExitCode.usage;
    };
    if (verb !== undefined && !["show", "compare", "rm"].includes(verb)) return wrong(`unknown subcommand "${verb}"; expected show, compare or rm`);
    if (verb === "show" && ids.length !== 1) return wrong("show takes one run id");
    if (verb === "compare" && ids.length < 2) return wrong("compare takes two or more run ids");
    if (verb === "rm" && ids.length === 0) return wrong("rm takes one or more run ids");
    const store = RunStore.open(runDatabase(io));
    if (store.isErr()) {
      io.stderr(`lft runs: ${store.error.message}\n`);
      return ExitCode.ioError;
    }
    const s = store.value;
    const width = Math.min(process.stdout.columns ?? 80, 100) - 10;
    try {
      if (verb === undefined) {
        if (json) io.stdout(`${JSON.stringify(runsJson(s, limit), null, 2)}\n`);
        else {
          const list = formatRunList(s, limit);
          io.stdout(list.endsWith("\n") ? list : `${list}\n`);
        }
        return ExitCode.ok;
      }
      if (verb === "rm") {
        let code: number = ExitCode.ok;
        for (const id of ids) {
          const removed = s.deleteRun(id);
          if (removed.isErr()) {
            io.stderr(`lft runs rm: ${removed.error.message}\n`);
            code = ExitCode.usage;
          } else io.stdout(`removed run ${removed.value}\n`);
        }
        return code;
      }
      if (verb === "show" && json) {
        const found = s.getRun(ids[0]!);
        if (found.isErr()) return wrong(found.error.message);
        const r = found.value;
        const metrics = Object.fromEntries(s.metricNames(r.id).map((n) => [n, s.metric(r.id, n)]));
        io.stdout(`${JSON.stringify({ ...r, params: s.params(r.id), metrics, artifacts: s.artifacts(r.id), events: s.events(r.id) }, null, 2)}\n`);
        return ExitCode.ok;
      }
      const metric = args.values.get("--metric");
      const shown =
        verb === "show"
          ? formatRunShow(s, ids[0]!, { width })
          : formatRunCompare(s, ids, {
              width,
              colour: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
              ...(metric === undefined ? {} : { metric }),
            });
      if (shown.isErr()) {
        io.stderr(`lft runs: ${shown.error.message}\n`);
        return ExitCode.usage;
      }
      io.stdout(`${shown.value}\n`);
      return ExitCode.ok;
    } finally {
      s.close();
    }
  },
};
