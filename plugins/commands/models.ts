// `lft models [FILTER]`: the well-known checkpoints lft knows (family and default chat template), and
// which families the loaded plugins can load.
import type { CommandEntry } from "../../core/index.ts";
import { CATALOG } from "../models/index.ts";
import { ExitCode, parseOrUsage } from "./shared.ts";

const usage = "[FILTER]";

export const modelsCommand: CommandEntry = {
  name: "models",
  doc: "list well-known checkpoints with their family and default template (filter by substring)",
  usage,
  scope: "both",
  async run(argv, io, session) {
    const args = parseOrUsage("models", usage, argv, { positional: [0, 1] }, io);
    if (typeof args === "number") return args;
    const filter = (args.positional[0] ?? "").toLowerCase();
    const loadable = new Set(session.registry.list("models").map((m) => m.name));
    const rows = CATALOG.filter((e) => `${e.id} ${e.family} ${e.template}`.toLowerCase().includes(filter));
    const width = Math.max(...rows.map((r) => r.id.length), 10);
    // Column widths from the longest name shown (family names run to 11 characters: deepseek_v3).
    const famWidth = Math.max(...rows.map((r) => r.family.length), 6);
    const tplWidth = Math.max(...rows.map((r) => r.template.length), 8);
    const lines = rows.map(
      (e) =>
        `${e.id.padEnd(width)}  ${e.family.padEnd(famWidth)}  ${e.template.padEnd(tplWidth)}  ${String(e.paramsB).padStart(7)}B${loadable.has(e.family) ? "" : "  (family not loaded)"}`,
    );
    const header = `${"checkpoint".padEnd(width)}  ${"family".padEnd(famWidth)}  ${"template".padEnd(tplWidth)}  ${"size".padStart(8)}`;
    io.stdout(`${header}\n${lines.join("\n")}\n${rows.length} of ${CATALOG.length} checkpoints; families loaded: ${[...loadable].sort().join(", ")}\n`);
    // A listing that matches nothing is still a successful listing (exit 0): no row of the exit-code table is about it.
    if (rows.length === 0) io.stderr(`lft models: no known checkpoint matches "${args.positional[0]}"\n`);
    return ExitCode.ok;
  },
};
