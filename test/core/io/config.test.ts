// HF config files: config.json typed fields from real-shaped configs (TinyLlama, Llama 3.2), type errors
// naming key and file, malformed JSON reported as file:line:col, generation_config.json absent or present.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GENERATION_DEFAULTS, parseJson, readGenerationConfig, readJsonFile, readModelConfig } from "../../../core/index.ts";

const FIXTURES = join(import.meta.dir, "../../fixtures/io");
const root = mkdtempSync(join(tmpdir(), "lft-io-cfg-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** A model folder holding the given files. */
function folder(files: Record<string, string>): string {
  const dir = join(root, `m${n++}`);
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe("config.json", () => {
  test("TinyLlama: the common fields, typed; rope_scaling null reads as absent", () => {
    const c = readModelConfig(join(FIXTURES, "tinyllama"))._unsafeUnwrap();
    expect(c.file).toBe(join(FIXTURES, "tinyllama", "config.json"));
    expect(c).toMatchObject({
      model_type: "llama",
      architectures: ["LlamaForCausalLM"],
      hidden_size: 2048,
      intermediate_size: 5632,
      num_hidden_layers: 22,
      num_attention_heads: 32,
      num_key_value_heads: 4,
      vocab_size: 32000,
      max_position_embeddings: 2048,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      tie_word_embeddings: false,
      torch_dtype: "bfloat16",
      bos_token_id: 1,
      eos_token_id: 2,
    });
    expect(c.rope_scaling).toBeUndefined();
    expect(c.head_dim).toBeUndefined();
    expect(c.raw.hidden_act).toBe("silu");
  });

  test("Llama 3.2: eos as a list, rope_scaling object, head_dim, `dtype` instead of torch_dtype", () => {
    const c = readModelConfig(join(FIXTURES, "llama3"))._unsafeUnwrap();
    expect(c.eos_token_id).toEqual([128001, 128008, 128009]);
    expect(c.rope_scaling).toEqual({ factor: 32, high_freq_factor: 4, low_freq_factor: 1, original_max_position_embeddings: 8192, rope_type: "llama3" });
    expect(c.head_dim).toBe(64);
    expect(c.torch_dtype).toBe("bfloat16");
    expect(c.tie_word_embeddings).toBe(true);
  });

  test("a missing comma is reported at file:line:col", () => {
    const file = join(FIXTURES, "broken", "config.json");
    expect(readModelConfig(join(FIXTURES, "broken"))._unsafeUnwrapErr().message).toBe(
      `${file}:5:3: model config is not valid JSON: expected ',' or '}' after a property value, found "\\""`,
    );
  });

  test("wrong types name the key and file; all problems come together", () => {
    const one = folder({ "config.json": '{"hidden_size": "2048"}' });
    expect(readModelConfig(one)._unsafeUnwrapErr().message).toBe(
      `${join(one, "config.json")}: key "hidden_size": must be a positive integer, found the string "2048"`,
    );
    const many = folder({
      "config.json": '{"num_hidden_layers": 0, "rms_norm_eps": -1, "eos_token_id": [2, "x"], "architectures": "Llama", "tie_word_embeddings": 1}',
    });
    expect(readModelConfig(many)._unsafeUnwrapErr().message).toBe(
      `${join(many, "config.json")}: key "architectures" must be a list of strings, found the string "Llama"; ` +
        `key "num_hidden_layers" must be a positive integer, found number 0; ` +
        `key "rms_norm_eps" must be a positive number, found number -1; ` +
        `key "tie_word_embeddings" must be true or false, found number 1; ` +
        `key "eos_token_id" must be an integer or a non-empty list of integers, found an array`,
    );
  });

  test("LLaMA's old pad_token_id -1 is accepted; a non-object top level is not; a missing file says so", () => {
    expect(readModelConfig(folder({ "config.json": '{"pad_token_id": -1}' }))._unsafeUnwrap().pad_token_id).toBe(-1);
    const arr = folder({ "config.json": "[1]" });
    expect(readModelConfig(arr)._unsafeUnwrapErr().message).toBe(
      `${join(arr, "config.json")}: model config must be a JSON object at the top level, found an array`,
    );
    const empty = folder({});
    expect(readModelConfig(empty)._unsafeUnwrapErr().message).toBe(`${join(empty, "config.json")}: model config not found (no such file)`);
  });
});

describe("generation_config.json", () => {
  test("absent: transformers' defaults", () => {
    const g = readGenerationConfig(join(FIXTURES, "tinyllama"))._unsafeUnwrap();
    expect(g.file).toBeNull();
    expect(g).toMatchObject({ do_sample: false, temperature: 1, top_k: 50, top_p: 1, repetition_penalty: 1 });
    expect(g.max_new_tokens).toBeUndefined();
    expect(g.eos_token_id).toBeUndefined();
    expect(GENERATION_DEFAULTS.top_k).toBe(50);
  });

  test("present: its values over the defaults", () => {
    const g = readGenerationConfig(join(FIXTURES, "llama3"))._unsafeUnwrap();
    expect(g.file).toBe(join(FIXTURES, "llama3", "generation_config.json"));
    expect(g).toMatchObject({ do_sample: true, temperature: 0.6, top_p: 0.9, top_k: 50, bos_token_id: 128000, eos_token_id: [128001, 128008, 128009] });
  });

  test("bad values name the key and file", () => {
    const dir = folder({ "generation_config.json": '{\n "top_p": 1.5,\n "max_new_tokens": 0\n}' });
    expect(readGenerationConfig(dir)._unsafeUnwrapErr().message).toBe(
      `${join(dir, "generation_config.json")}: key "top_p" must be a number between 0 and 1, found number 1.5; key "max_new_tokens" must be a positive integer, found number 0`,
    );
    const bad = folder({ "generation_config.json": '{"do_sample": tru}' });
    expect(readGenerationConfig(bad)._unsafeUnwrapErr().message).toBe(
      `${join(bad, "generation_config.json")}:1:15: generation config is not valid JSON: expected a value (object, array, string, number, true, false or null), found "t"`,
    );
  });
});

describe("JSON syntax errors are located", () => {
  const where = (text: string) => parseJson(text, "f.json", "config")._unsafeUnwrapErr().message;
  const cases: [string, string][] = [
    ['{"a": 1,\n}', 'f.json:2:1: config is not valid JSON: expected a property name in double quotes, found "}"'],
    ['{"a": [1, 2\n\n  "b"]}', "f.json:3:3: config is not valid JSON: expected ',' or ']' after an array element, found \"\\\"\""],
    ['{"a": "unterminated\n}', "f.json:1:20: config is not valid JSON: control character inside a string (write it as an escape such as \\n)"],
    ['{"a": "x"', "f.json:1:10: config is not valid JSON: expected ',' or '}' after a property value, found the end of the file"],
    ['{"a": 01}', "f.json:1:8: config is not valid JSON: expected ',' or '}' after a property value, found \"1\""],
    ['{"a": 1.}', 'f.json:1:9: config is not valid JSON: expected a digit after the decimal point, found "}"'],
    ['{"a": NaN}', 'f.json:1:7: config is not valid JSON: expected a value (object, array, string, number, true, false or null), found "N"'],
    ['{"a": "\\x"}', "f.json:1:8: config is not valid JSON: invalid escape \\x in a string"],
    ['{"a": 1} {}', 'f.json:1:10: config is not valid JSON: unexpected "{" after the end of the JSON value'],
    ["", "f.json:1:1: config is not valid JSON: expected a value (object, array, string, number, true, false or null), found the end of the file"],
  ];
  for (const [text, message] of cases) test(JSON.stringify(text), () => expect(where(text)).toBe(message));

  test("valid JSON (with a byte-order mark) parses; non-UTF-8 bytes are refused", () => {
    expect(parseJson('\ufeff{"a": [1, {"b": null}]}', "f.json", "config")._unsafeUnwrap()).toEqual({ a: [1, { b: null }] });
    const dir = folder({});
    const p = join(dir, "latin1.json");
    writeFileSync(p, Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d]));
    expect(readJsonFile(p, "config")._unsafeUnwrapErr().message).toBe(`${p}: config is not UTF-8 text`);
  });
});
