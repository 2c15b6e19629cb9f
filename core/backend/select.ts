// Device selection: `cpu`, `cuda` (or any registered backend name) or `auto`, which takes the
// available backend with the highest priority. Unknown or unavailable names are errors that say why.
import { err, ok, type Result } from "neverthrow";
import type { Registry } from "../registry.ts";
import type { Backend } from "./backend.ts";

export function selectBackend(registry: Registry, device: string): Result<Backend, Error> {
  if (device === "auto") {
    const candidates = registry.list("backends").sort((a, b) => b.priority - a.priority);
    const reasons: string[] = [];
    for (const c of candidates) {
      const a = c.available();
      if (a === true) return ok(c.open());
      reasons.push(`${c.name}: ${a}`);
    }
    return err(new Error(`device auto: no backend is available (${reasons.join("; ") || "none registered"})`));
  }
  const entry = registry.get("backends", device);
  if (entry.isErr()) return err(entry.error);
  const a = entry.value.available();
  if (a !== true) return err(new Error(`device ${device} is not available: ${a}`));
  return ok(entry.value.open());
}
