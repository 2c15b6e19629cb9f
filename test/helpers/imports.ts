// The layering checker: finds every import in a set of TypeScript files (static, `export ... from`,
// side-effect and dynamic `import("...")`, type-only ones included) and reports each import that breaks
// lft's one-way layering rules, and each import cycle. Pure over a map of path -> source so the test can
// feed it synthetic file sets; `readSourceTree` reads the real one.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";

export interface ImportRef {
  readonly from: string; // repo-relative path of the importing file
  readonly line: number;
  readonly specifier: string;
  readonly target: string | null; // repo-relative resolved path; null for package imports
  readonly typeOnly: boolean;
}

export type Rule = "core-outward" | "core-entry" | "ffi" | "plugin-area" | "dsl-plugins" | "dsl-outward" | "unresolved" | "cycle";

export interface Violation {
  readonly rule: Rule;
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** The folders the rules govern. test/, bench/, scripts/ and root files may import anything. */
export const LAYERS = ["core", "plugins", "dsl", "ffi"] as const;

const REGEX_AFTER_PUNCT = new Set(["(", ",", "=", ":", "[", "!", "&", "|", "?", "{", "}", ";", "+", "-", "*", "%", "<", ">", "~", "^"]);
const REGEX_AFTER_WORD = new Set(["return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw", "yield", "await"]);

interface Token {
  readonly kind: "word" | "string" | "punct";
  readonly value: string;
  readonly line: number;
}

/** Tokenizes just enough TypeScript to find imports: skips comments, regex literals and template text. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  // One entry per open `${` inside a template literal: the brace depth at which it closes.
  const templateStack: number[] = [];
  let braceDepth = 0;
  const last = (): Token | undefined => out[out.length - 1];
  const skipTemplate = (): void => {
    // i is just after a backtick or a closing `}` of a `${...}`: scan text up to the closing backtick or `${`.
    while (i < src.length) {
      const c = src[i]!;
      if (c === "\\") {
        i += 2;
        continue;
      }
      if (c === "\n") line++;
      if (c === "`") {
        i++;
        out.push({ kind: "string", value: "`template`", line });
        return;
      }
      if (c === "$" && src[i + 1] === "{") {
        i += 2;
        braceDepth++;
        templateStack.push(braceDepth);
        return;
      }
      i++;
    }
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === "\n") {
      line++;
      i++;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === "/" && src[i + 1] === "/") {
      while (i < src.length && src[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      for (let j = i; j < stop; j++) if (src[j] === "\n") line++;
      i = stop;
      continue;
    }
    if (c === '"' || c === "'") {
      const startLine = line;
      let j = i + 1;
      let value = "";
      while (j < src.length && src[j] !== c && src[j] !== "\n") {
        if (src[j] === "\\") {
          value += src[j + 1] ?? "";
          j += 2;
          continue;
        }
        value += src[j];
        j++;
      }
      i = j + 1;
      out.push({ kind: "string", value, line: startLine });
      continue;
    }
    if (c === "`") {
      i++;
      skipTemplate();
      continue;
    }
    if (c === "/") {
      const prev = last();
      const regexStarts =
        prev === undefined || (prev.kind === "punct" && REGEX_AFTER_PUNCT.has(prev.value)) || (prev.kind === "word" && REGEX_AFTER_WORD.has(prev.value));
      if (regexStarts) {
        let j = i + 1;
        let inClass = false;
        while (j < src.length && src[j] !== "\n") {
          const r = src[j]!;
          if (r === "\\") {
            j += 2;
            continue;
          }
          if (r === "[") inClass = true;
          else if (r === "]") inClass = false;
          else if (r === "/" && !inClass) break;
          j++;
        }
        i = j + 1;
        while (i < src.length && /[a-z]/.test(src[i]!)) i++;
        out.push({ kind: "string", value: "/regex/", line });
        continue;
      }
    }
    if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[A-Za-z0-9_$]/.test(src[j]!)) j++;
      out.push({ kind: "word", value: src.slice(i, j), line });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[0-9A-Za-z_.]/.test(src[j]!)) j++;
      out.push({ kind: "word", value: src.slice(i, j), line });
      i = j;
      continue;
    }
    if (c === "{") braceDepth++;
    if (c === "}") {
      if (templateStack.length > 0 && templateStack[templateStack.length - 1] === braceDepth) {
        templateStack.pop();
        braceDepth--;
        i++;
        skipTemplate();
        continue;
      }
      braceDepth--;
    }
    out.push({ kind: "punct", value: c, line });
    i++;
  }
  return out;
}

export interface RawImport {
  readonly line: number;
  readonly specifier: string;
  readonly typeOnly: boolean;
}

/** Every module specifier a file names: `import ... from`, `export ... from`, `import "x"`, `import("x")`. */
export function findImports(src: string): RawImport[] {
  const toks = tokenize(src);
  const found: RawImport[] = [];
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k]!;
    if (t.kind !== "word" || (t.value !== "import" && t.value !== "export")) continue;
    const prev = toks[k - 1];
    if (prev && prev.kind === "punct" && prev.value === ".") continue; // import.meta, x.import
    const next = toks[k + 1];
    if (!next) continue;
    if (t.value === "import" && next.kind === "punct" && next.value === "(") {
      const arg = toks[k + 2];
      if (arg && arg.kind === "string" && !arg.value.startsWith("`") && !arg.value.startsWith("/"))
        found.push({ line: t.line, specifier: arg.value, typeOnly: false });
      continue;
    }
    if (t.value === "import" && next.kind === "string") {
      found.push({ line: t.line, specifier: next.value, typeOnly: false });
      continue;
    }
    const typeOnly = next.kind === "word" && next.value === "type";
    const head = typeOnly ? toks[k + 2] : next;
    if (!head) continue;
    if (t.value === "export" && !(head.kind === "punct" && (head.value === "{" || head.value === "*"))) continue;
    if (t.value === "import" && head.kind === "punct" && head.value !== "{" && head.value !== "*") continue;
    // Scan to `from "x"`, stopping at the end of the statement.
    for (let m = k + 1; m < toks.length; m++) {
      const u = toks[m]!;
      if (u.kind === "punct" && u.value === ";") break;
      if (u.kind === "word" && (u.value === "import" || u.value === "export") && m > k + 1 && toks[m - 1]?.value !== ".") break;
      if (u.kind === "word" && u.value === "from" && toks[m + 1]?.kind === "string") {
        found.push({ line: t.line, specifier: toks[m + 1]!.value, typeOnly });
        break;
      }
    }
  }
  return found;
}

/** Resolves a relative specifier against the importing file, trying the exact path, `.ts`, `.d.ts` and `/index.ts`. */
export function resolveSpecifier(from: string, specifier: string, exists: (p: string) => boolean): string | null {
  if (!specifier.startsWith(".")) return null;
  const base = posix.normalize(posix.join(posix.dirname(from), specifier));
  for (const candidate of [base, `${base}.ts`, `${base}.d.ts`, `${base}/index.ts`]) if (exists(candidate)) return candidate;
  return base;
}

export function collectImports(files: ReadonlyMap<string, string>): ImportRef[] {
  const refs: ImportRef[] = [];
  const exists = (p: string): boolean => files.has(p);
  for (const [path, src] of files) {
    for (const raw of findImports(src))
      refs.push({ from: path, line: raw.line, specifier: raw.specifier, target: resolveSpecifier(path, raw.specifier, exists), typeOnly: raw.typeOnly });
  }
  return refs;
}

const layerOf = (p: string): string => p.split("/")[0]!;
/** plugins/<area>/...: the area; plugins/index.ts itself is the root entry (area ""). */
const pluginArea = (p: string): string => {
  const parts = p.split("/");
  return parts.length > 2 ? parts[1]! : "";
};
const isPluginEntry = (p: string): boolean => p === "plugins/index.ts" || /^plugins\/[^/]+\/index\.ts$/.test(p);
/** An ffi folder's entry: ffi/<x>/index.ts, or ffi/<x>/<x>.ts where the folder has no index. */
/** Plugin areas that bind native libraries: compute backends and collectives engines (MPI, NCCL). */
const NATIVE_AREAS = new Set(["backends", "dist"]);
const isFfiEntry = (p: string): boolean => /^ffi\/([^/]+)\/(index|\1)\.ts$/.test(p);
const ffiFolder = (p: string): string => p.split("/").slice(0, 2).join("/");

function checkEdge(ref: ImportRef): Violation | null {
  const target = ref.target;
  if (target === null) return null; // a package: fine everywhere
  const from = ref.from;
  const src = layerOf(from);
  const dst = layerOf(target);
  const at = (rule: Rule, why: string): Violation => ({
    rule,
    file: from,
    line: ref.line,
    message: `${from}:${ref.line} imports ${ref.specifier} (${target}): ${why}`,
  });
  if (src === "core") return dst === "core" ? null : at("core-outward", "core imports nothing outside core/");
  if (dst === "core" && target !== "core/index.ts") return at("core-entry", "outside core/, import core only through core/index.ts");
  if (src === "ffi") {
    if (target === "core/index.ts" || ffiFolder(target) === ffiFolder(from)) return null;
    return at("ffi", `ffi/ imports only core/index.ts and its own ${ffiFolder(from)}/ folder`);
  }
  if (src === "plugins") {
    if (target === "core/index.ts") return null;
    const area = pluginArea(from);
    if (dst === "plugins") {
      if (area !== "" && pluginArea(target) === area) return null;
      if (isPluginEntry(target) && target !== "plugins/index.ts") return null;
      return at(
        "plugin-area",
        area === ""
          ? "plugins/index.ts imports only the areas' index.ts files"
          : `plugins/${area}/ reaches another area only through its plugins/<area>/index.ts`,
      );
    }
    if (dst === "ffi" && NATIVE_AREAS.has(area) && isFfiEntry(target)) return null;
    const allowed = NATIVE_AREAS.has(area)
      ? "core/index.ts, its own folder, other areas' index.ts and ffi entry files"
      : "core/index.ts, its own folder and other areas' index.ts";
    return at("plugin-area", `a plugins/${area}/ file imports only ${allowed}`);
  }
  if (src === "dsl") {
    if (dst === "dsl" || target === "core/index.ts") return null;
    if (dst === "plugins")
      return isPluginEntry(target) ? null : at("dsl-plugins", "dsl/ imports plugins only through plugins/index.ts or plugins/<area>/index.ts");
    return at("dsl-outward", "dsl/ imports only dsl/, core/index.ts and the plugins' index.ts files");
  }
  return null;
}

export interface Cycle {
  /** One concrete loop, first file repeated at the end: a -> b -> a. */
  readonly path: readonly string[];
  /** Every file in the strongly connected component (all take part in some loop). */
  readonly members: readonly string[];
}

/** Strongly connected components of size > 1 (or a self-import), each with one cycle path through it. */
export function findCycles(refs: readonly ImportRef[], files: ReadonlySet<string>): Cycle[] {
  const graph = new Map<string, string[]>();
  for (const f of files) graph.set(f, []);
  for (const r of refs) if (r.target !== null && files.has(r.target) && files.has(r.from)) graph.get(r.from)!.push(r.target);
  for (const [k, v] of graph) graph.set(k, [...new Set(v)].sort());
  // Tarjan, iterative.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const sccs: string[][] = [];
  for (const root of [...graph.keys()].sort()) {
    if (index.has(root)) continue;
    const work: [string, number][] = [[root, 0]];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const [v, i] = frame;
      const edges = graph.get(v)!;
      if (i < edges.length) {
        frame[1]++;
        const w = edges[i]!;
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push([w, 0]);
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]![0];
        low.set(parent, Math.min(low.get(parent)!, low.get(v)!));
      }
      if (low.get(v) === index.get(v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== v);
        if (comp.length > 1 || graph.get(v)!.includes(v)) sccs.push(comp.sort());
      }
    }
  }
  // Turn each component into one concrete cycle: a shortest path from its first file back to itself.
  return sccs.map((comp) => ({ path: loopThrough(comp, graph), members: comp }));
}

/** A shortest loop from the component's first file back to itself (breadth-first inside the component). */
function loopThrough(comp: readonly string[], graph: ReadonlyMap<string, readonly string[]>): string[] {
  const inComp = new Set(comp);
  const start = comp[0]!;
  const prevOf = new Map<string, string>();
  const queue = [start];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v)!) {
      if (!inComp.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(prevOf.get(path[0]!)!);
        return [...path, start];
      }
      if (!seen.has(w)) {
        seen.add(w);
        prevOf.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...comp, start];
}

/** Every layering violation in a file set (paths relative to the repository root, `/`-separated). */
export function checkLayering(files: ReadonlyMap<string, string>): Violation[] {
  const refs = collectImports(files);
  const out: Violation[] = [];
  for (const r of refs) {
    if (!(LAYERS as readonly string[]).includes(layerOf(r.from))) continue;
    if (r.target !== null && !files.has(r.target) && (LAYERS as readonly string[]).includes(layerOf(r.target)))
      out.push({
        rule: "unresolved",
        file: r.from,
        line: r.line,
        message: `${r.from}:${r.line} imports ${r.specifier}, which resolves to no file (${r.target})`,
      });
    const v = checkEdge(r);
    if (v) out.push(v);
  }
  const governed = new Set([...files.keys()].filter((f) => (LAYERS as readonly string[]).includes(layerOf(f))));
  for (const { path, members } of findCycles(refs, governed)) {
    const first = path[0]!;
    const line = refs.find((r) => r.from === first && r.target === path[1])?.line ?? 1;
    const all = members.length > path.length - 1 ? ` (files in the loop: ${members.join(", ")})` : "";
    out.push({ rule: "cycle", file: first, line, message: `${first}:${line} import cycle: ${path.join(" -> ")}${all}` });
  }
  return out;
}

/** Reads every .ts file under the governed folders of a repository into a path -> source map. */
export function readSourceTree(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel))) {
      if (name === "node_modules" || name === "build" || name.startsWith(".")) continue;
      const child = `${rel}/${name}`;
      const st = statSync(join(root, child));
      if (st.isDirectory()) walk(child);
      else if (name.endsWith(".ts")) files.set(child, readFileSync(join(root, child), "utf8"));
    }
  };
  for (const layer of LAYERS) walk(layer);
  return files;
}
