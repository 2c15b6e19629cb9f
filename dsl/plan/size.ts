// Memory sizes as users write them (`24GiB`, `24G`, `800 MiB`, `1.5TB`) and as plans print them.
import { err, ok, type Result } from "neverthrow";

const units: Readonly<Record<string, number>> = {
  b: 1,
  k: 2 ** 10,
  kib: 2 ** 10,
  kb: 1e3,
  m: 2 ** 20,
  mib: 2 ** 20,
  mb: 1e6,
  g: 2 ** 30,
  gib: 2 ** 30,
  gb: 1e9,
  t: 2 ** 40,
  tib: 2 ** 40,
  tb: 1e12,
};

/** Bytes of a size; a bare letter (`24G`) is binary like `24GiB`, `GB` is decimal. */
export function parseSize(text: string): Result<number, string> {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)\s*$/.exec(text);
  const scale = match === null ? undefined : units[(match[2] ?? "").toLowerCase() || "b"];
  if (match === null || scale === undefined)
    return err(`"${text}" is not a memory size; write a number and a unit, e.g. 24GiB, 800MiB, 1.5TB (units: B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)`);
  const bytes = Number(match[1]) * scale;
  if (!(bytes > 0) || !Number.isFinite(bytes)) return err(`"${text}" is not a positive memory size`);
  return ok(Math.round(bytes));
}

/** `1.24 GiB`, `312 MiB`, `96 KiB`. */
export function formatBytes(bytes: number): string {
  const steps = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < steps.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(v)} B` : `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${steps[i]}`;
}

/** A duration in the unit a reader wants: `850 ms`, `3.1 s`, `4.2 min`, `2.5 h`, `3.1 days`. */
export function formatSeconds(seconds: number): string {
  if (seconds < 1) return `${Math.max(1, Math.round(seconds * 1000))} ms`;
  if (seconds < 120) return `${seconds < 10 ? seconds.toFixed(1) : seconds.toFixed(0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} days`;
}
