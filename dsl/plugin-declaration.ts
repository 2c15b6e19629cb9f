// Finding a plugin package's declaration without running it: resolve the `use` name to its module
// (resolution reads files, it runs nothing), find the package.json that owns that module, and read its
// `lft` field (core's parseDeclaration). Read-only verbs register the declaration in place of the plugin.

import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { declaredPlugin, type PluginDeclaration, parseDeclaration, type Registry } from "../core/index.ts";

export type FoundDeclaration =
  | { readonly kind: "declared"; readonly file: string; readonly name: string; readonly version: string | undefined; readonly declaration: PluginDeclaration }
  /** No package.json owns the module, or it declares nothing about it: `why` says which. */
  | { readonly kind: "undeclared"; readonly why: string }
  /** A declaration that is malformed or names another module as the entry. */
  | { readonly kind: "bad"; readonly why: string };

/** package.json and bunfig.toml are small; a bigger one is refused rather than read whole. */
const manifestLimit = 4 * 1024 * 1024;

/**
 * A manifest's text, refusing what is not a regular file (a FIFO would block, /dev/zero never end)
 * or is over 4 MiB; the message says which.
 */
export function readManifest(path: string): { text: string } | { problem: string } {
  try {
    const stat = statSync(path);
    if (!stat.isFile()) return { problem: `${path} is not a regular file (a device, FIFO, socket or folder); lft reads only regular files` };
    if (stat.size > manifestLimit) return { problem: `${path} is ${stat.size} bytes, over the ${manifestLimit}-byte limit for a manifest` };
    return { text: readFileSync(path, "utf8") };
  } catch (cause) {
    return { problem: `cannot read ${path}: ${cause instanceof Error ? cause.message : String(cause)}` };
  }
}

const looksLikePath = (spec: string): boolean => /^(\.{1,2}[\\/]|[\\/]|[A-Za-z]:[\\/])/.test(spec);

/** The package name of a bare specifier: `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`. */
function packageName(spec: string): string {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

const real = (path: string): string => {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
};

/** The declaration of the package that owns `resolved` (the module `spec` resolves to). */
export function findDeclaration(spec: string, resolved: string): FoundDeclaration {
  const wanted = looksLikePath(spec) ? undefined : packageName(spec);
  for (let dir = dirname(resolved); ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const read = readManifest(file);
      if ("problem" in read) return { kind: "bad", why: read.problem };
      let json: { name?: unknown; version?: unknown; main?: unknown; lft?: unknown };
      try {
        json = JSON.parse(read.text) as typeof json;
      } catch (cause) {
        return { kind: "bad", why: `cannot read ${file}: ${cause instanceof Error ? cause.message : String(cause)}` };
      }
      // A bare name belongs to the package.json of that name; nested ones ({"type": "module"}) are skipped.
      if (wanted === undefined || json.name === wanted) return declarationIn(file, json, resolved, spec);
    }
    if (dirname(dir) === dir) break;
  }
  return { kind: "undeclared", why: `no package.json owns ${resolved}` };
}

function declarationIn(file: string, json: { name?: unknown; version?: unknown; lft?: unknown }, resolved: string, spec: string): FoundDeclaration {
  const parsed = parseDeclaration(json.lft);
  if (parsed.isErr()) return { kind: "bad", why: `${file}: ${parsed.error}` };
  const declaration = parsed.value;
  if (declaration === undefined) return { kind: "undeclared", why: `${file} has no "lft": { "provides": ... } declaration` };
  const dir = dirname(file);
  let entry: string;
  try {
    entry = Bun.resolveSync(declaration.entry === undefined ? dir : resolve(dir, declaration.entry), "/");
  } catch {
    return { kind: "bad", why: `${file}: "lft.entry" ${declaration.entry ?? "(the package's main)"} does not resolve to a module` };
  }
  if (real(entry) !== real(resolved)) {
    const say = declaration.entry === undefined ? `declares the package's main module ${entry}` : `declares "lft.entry" ${declaration.entry}`;
    // The package's own name must lead to what it declares; another file or a subpath is just not declared.
    if (looksLikePath(spec) || spec !== packageName(spec)) return { kind: "undeclared", why: `${file} ${say}, not ${resolved}` };
    return { kind: "bad", why: `${file} ${say}, but "${spec}" resolves to ${resolved}; use the package's entry or fix "lft.entry"` };
  }
  const name = typeof json.name === "string" && json.name !== "" ? json.name : spec;
  return { kind: "declared", file, name, version: typeof json.version === "string" ? json.version : undefined, declaration };
}

/**
 * Registers the declaration of `spec` (resolved from `from`) without importing it. "ok", or a problem:
 * an error for a package that is missing or declares badly, a warning for one that declares nothing.
 */
export function registerDeclaration(registry: Registry, spec: string, from: string): "ok" | { severity: "error" | "warning"; message: string } {
  let resolved: string;
  try {
    resolved = Bun.resolveSync(spec, from);
  } catch {
    const hint = looksLikePath(spec) ? "no such file or package directory" : `is it installed? (bun add ${spec})`;
    return { severity: "error", message: `plugin package "${spec}" not found from ${from}: ${hint}` };
  }
  if (registry.plugins().some((p) => p.source === resolved)) return "ok";
  const found = findDeclaration(spec, resolved);
  if (found.kind === "bad") return { severity: "error", message: found.why };
  if (found.kind === "undeclared") {
    return {
      severity: "warning",
      message: `not imported: ${found.why}, so its names and options cannot be checked without running its code; --trust imports it (lft check --trust, lft plugins --trust, or :check in a REPL started with lft --trust)`,
    };
  }
  if (registry.plugins().some((p) => p.name === found.name)) return "ok";
  const used = registry.use(declaredPlugin(found.name, found.version, found.declaration), `${found.file} (declared; not imported)`);
  return used.isOk() ? "ok" : { severity: "error", message: `the declaration in ${found.file}: ${used.error.message}` };
}
