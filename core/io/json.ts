// Reads JSON files (HF configs, shard indexes) into Results; a syntax error is reported as file:line:col.
import { readFileSync } from "node:fs";
import { err, ok, type Result } from "neverthrow";
import { ConfigError } from "./errors.ts";
import { locateJsonError } from "./json-locate.ts";

/** Parses JSON text; `file` and `what` ("model config") only label the error. */
export function parseJson(text: string, file: string, what: string): Result<unknown, ConfigError> {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return ok(JSON.parse(body));
  } catch (e) {
    const at = locateJsonError(body);
    if (at === null) return err(new ConfigError(file, `${what} is not valid JSON: ${(e as Error).message}`));
    return err(new ConfigError(file, `${what} is not valid JSON: ${at.message}`, { line: at.line, col: at.col }));
  }
}

export function readJsonFile(path: string, what: string): Result<unknown, ConfigError> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return err(new ConfigError(path, `${what} not found (no such file)`));
    if (code === "EISDIR") return err(new ConfigError(path, `${what} is expected to be a file, found a directory`));
    return err(new ConfigError(path, `cannot read ${what}: ${(e as Error).message}`));
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return err(new ConfigError(path, `${what} is not UTF-8 text`));
  }
  return parseJson(text, path, what);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function describeJson(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}

/** A JSON file whose top level must be an object. */
export function readJsonObject(path: string, what: string): Result<Record<string, unknown>, ConfigError> {
  return readJsonFile(path, what).andThen((v) =>
    isPlainObject(v) ? ok(v) : err(new ConfigError(path, `${what} must be a JSON object at the top level, found ${describeJson(v)}`)),
  );
}
