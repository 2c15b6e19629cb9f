// What a path is, asked with stat before anything opens it: opening a FIFO blocks until a writer comes,
// and a device such as /dev/zero or /dev/urandom never ends. Readers of models and data accept regular
// files (through symlinks) and folders, and refuse everything else by name.
import { type Stats, statSync } from "node:fs";

export type PathKind =
  | { readonly kind: "file"; readonly size: number }
  | { readonly kind: "folder" }
  | { readonly kind: "special"; readonly what: string }
  | { readonly kind: "missing"; readonly detail: string };

/** The kind of `path` after following symlinks; never opens it. */
export function pathKind(path: string): PathKind {
  let stat: Stats;
  try {
    stat = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { kind: "missing", detail: "not found" };
    if (code === "ELOOP") return { kind: "missing", detail: "a symlink loop" };
    return { kind: "missing", detail: `cannot be read (${code ?? (e as Error).message})` };
  }
  if (stat.isFile()) return { kind: "file", size: stat.size };
  if (stat.isDirectory()) return { kind: "folder" };
  return { kind: "special", what: specialFileName(stat) };
}

/** "a FIFO (named pipe)", "a character device", ... for a stat that is neither a file nor a folder. */
export function specialFileName(stat: Stats): string {
  if (stat.isFIFO()) return "a FIFO (named pipe)";
  if (stat.isCharacterDevice()) return "a character device";
  if (stat.isBlockDevice()) return "a block device";
  if (stat.isSocket()) return "a socket";
  return "a special file";
}
