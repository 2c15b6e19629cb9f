// Malformed tokenizer folders give an Err that names the file and says what was expected.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadTokenizer } from "../../../core/tokenizer/load.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "lft-tok-bad-"));
  dirs.push(dir);
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
  return dir;
}

const tiny = (model: Record<string, unknown> = {}, rest: Record<string, unknown> = {}) =>
  JSON.stringify({ model: { type: "BPE", vocab: { a: 0, b: 1, ab: 2 }, merges: ["a b"], ...model }, ...rest });

function errorOf(dir: string): string {
  const r = loadTokenizer(dir);
  if (r.isOk()) throw new Error(`expected an error for ${dir}`);
  return r.error.message;
}

describe("loadTokenizer errors", () => {
  test("a well-formed tiny tokenizer loads (so the cases below fail for their own reason)", () => {
    const tok = loadTokenizer(folder({ "tokenizer.json": tiny() }))._unsafeUnwrap();
    expect(tok.encode("abba")).toEqual([2, 1, 0]);
  });

  test("missing tokenizer.json", () => {
    const dir = folder({});
    expect(errorOf(dir)).toBe(`${join(dir, "tokenizer.json")}: not found`);
  });

  test("not JSON", () => {
    const dir = folder({ "tokenizer.json": "{ this is not json" });
    expect(errorOf(dir)).toStartWith(`${join(dir, "tokenizer.json")}: is not valid JSON`);
  });

  test("no model section", () => {
    const dir = folder({ "tokenizer.json": JSON.stringify({ version: "1.0", added_tokens: [] }) });
    expect(errorOf(dir)).toBe(`${join(dir, "tokenizer.json")}: has no "model" section: is this a Hugging Face tokenizer.json?`);
  });

  test("a model type other than BPE", () => {
    expect(errorOf(folder({ "tokenizer.json": JSON.stringify({ model: { type: "Unigram", vocab: [] } }) }))).toMatch(
      /tokenizer\.json: model type "Unigram" is not supported/,
    );
  });

  test("a merge naming a token outside the vocabulary", () => {
    expect(errorOf(folder({ "tokenizer.json": tiny({ merges: ["a b", "ab c"] }) }))).toMatch(/tokenizer\.json: merge 1 \("ab c"\) uses "c"/);
  });

  test("a merge that is not two tokens", () => {
    expect(errorOf(folder({ "tokenizer.json": tiny({ merges: ["abab"] }) }))).toMatch(/model\.merges\[0\] "abab" cannot be split/);
  });

  test("an unsupported pre-tokenizer names the type and lists the supported ones", () => {
    expect(errorOf(folder({ "tokenizer.json": tiny({}, { pre_tokenizer: { type: "BertPreTokenizer" } }) }))).toMatch(
      /pre_tokenizer type "BertPreTokenizer" is not supported \(supported: Sequence, Split/,
    );
  });

  test("tokenizer_config.json that is not JSON, or names a token the vocabulary lacks", () => {
    const broken = folder({ "tokenizer.json": tiny(), "tokenizer_config.json": "nope" });
    expect(errorOf(broken)).toStartWith(`${join(broken, "tokenizer_config.json")}: is not valid JSON`);
    const unknown = folder({ "tokenizer.json": tiny(), "tokenizer_config.json": JSON.stringify({ eos_token: "</s>" }) });
    expect(errorOf(unknown)).toBe(`${join(unknown, "tokenizer_config.json")}: eos_token "</s>" is not a token of ${join(unknown, "tokenizer.json")}`);
  });

  test("a chat_template that is neither a string nor a list of {name, template}", () => {
    const dir = folder({ "tokenizer.json": tiny(), "tokenizer_config.json": JSON.stringify({ chat_template: [{ name: "x" }] }) });
    expect(errorOf(dir)).toMatch(/tokenizer_config\.json: chat_template\[0\] must be \{"name": string, "template": string\}/);
  });
});
