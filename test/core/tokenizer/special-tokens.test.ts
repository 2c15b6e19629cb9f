// Special tokens: the bos/eos/pad ids tokenizer_config.json names (strings or AddedToken objects), special
// tokens written in the text encoding to their single ids, decode with skipSpecialTokens, and the
// Llama-style add_bos_token / add_eos_token switches and chat_template forms of the config.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadTokenizer } from "../../../core/tokenizer/load.ts";
import { type FixtureName, fixture, TOKENIZERS_DIR } from "./fixtures.ts";

describe("bos / eos / pad ids and special-token sets", () => {
  const expected: Array<[FixtureName, number | null, number | null, number | null]> = [
    ["llama2", 1, 2, null], // bos/eos given as AddedToken objects
    ["llama3", 128000, 128001, null],
    ["mistral-7b", 1, 2, null],
    ["phi-3-mini", 1, 32000, 32000],
    ["qwen3", null, 151645, 151643],
  ];
  for (const [name, bos, eos, pad] of expected) {
    test(name, () => {
      const tok = fixture(name);
      expect([tok.bosId, tok.eosId, tok.padId]).toEqual([bos, eos, pad]);
    });
  }

  test("special: true tokens only (Qwen's <tool_call> and Phi-3's </s> are added but not special)", () => {
    const qwen = fixture("qwen3");
    expect(qwen.specialTokens.has("<|im_start|>")).toBe(true);
    expect(qwen.specialTokens.has("<tool_call>")).toBe(false);
    expect(qwen.specialTokens.size).toBe(14);
    expect(fixture("phi-3-mini").specialTokens.has("</s>")).toBe(false);
    expect(fixture("llama3").specialTokens.size).toBe(256);
  });

  test("tokenToId / idToToken cover added and model tokens", () => {
    const llama3 = fixture("llama3");
    expect(llama3.tokenToId("<|eot_id|>")).toBe(128009);
    expect(llama3.idToToken(128009)).toBe("<|eot_id|>");
    expect(llama3.tokenToId("Hello")).toBe(9906);
    expect(llama3.idToToken(9906)).toBe("Hello");
    expect(llama3.tokenToId("no such token ☃☃")).toBeUndefined();
    expect(llama3.idToToken(128256)).toBeUndefined();
  });
});

describe("special tokens in the text", () => {
  test("Qwen: <|im_start|> and <|im_end|> are single ids, and the text round-trips", () => {
    const tok = fixture("qwen3");
    const text = "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n";
    const ids = tok.encode(text, { addSpecialTokens: false });
    expect(ids[0]).toBe(151644);
    expect(ids.filter((id) => id === 151644).length).toBe(2);
    expect(ids.filter((id) => id === 151645).length).toBe(1);
    expect(tok.decode(ids)).toBe(text);
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe("user\nHi there\nassistant\n");
  });

  test("Llama 3: header tokens are single ids; skipSpecialTokens drops them", () => {
    const tok = fixture("llama3");
    const text = "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>";
    const ids = tok.encode(text, { addSpecialTokens: false });
    expect(ids.slice(0, 2)).toEqual([128000, 128006]);
    expect(ids.at(-1)).toBe(128009);
    expect(tok.decode(ids)).toBe(text);
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe("user\n\nHi");
  });

  test("Phi-3: rstrip tokens swallow the whitespace after them, as in HF", () => {
    const tok = fixture("phi-3-mini");
    const ids = tok.encode("<|user|>\nHello<|end|>\n", { addSpecialTokens: false });
    expect(ids[0]).toBe(32010);
    expect(ids[1]).toBe(tok.encode("Hello", { addSpecialTokens: false })[0]!);
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe("Hello");
  });

  test("Mistral (legacy metaspace): each piece around a special token gets its own ▁, as in HF", () => {
    const tok = fixture("mistral-7b");
    const ids = tok.encode("Hello <s> world", { addSpecialTokens: false });
    expect(ids).toEqual([22557, 28705, 1, 28705, 1526]);
    expect(tok.decode(ids)).toBe("Hello <s>  world"); // HF's own decode: the extra space is the legacy format's
  });

  test("encode adds the post-processor's BOS (mistral) and nothing where the template adds none", () => {
    expect(fixture("mistral-7b").encode("Hi")[0]).toBe(1);
    expect(fixture("mistral-7b").encode("Hi", { addSpecialTokens: false })[0]).not.toBe(1);
    expect(fixture("phi-3-mini").encode("Hi")).toEqual(fixture("phi-3-mini").encode("Hi", { addSpecialTokens: false }));
  });

  test("decode of nothing is empty; an id outside the vocabulary throws", () => {
    expect(fixture("qwen3").decode([])).toBe("");
    expect(() => fixture("qwen3").decode([999_999])).toThrow(/999999/);
  });
});

describe("tokenizer_config.json switches", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  /** A folder with mistral-7b's tokenizer.json and the given config. */
  function withConfig(config: unknown): string {
    const dir = mkdtempSync(join(tmpdir(), "lft-tok-"));
    dirs.push(dir);
    symlinkSync(join(TOKENIZERS_DIR, "mistral-7b", "tokenizer.json"), join(dir, "tokenizer.json"));
    writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(config));
    return dir;
  }

  test("add_eos_token: true appends EOS; add_bos_token: false drops BOS", () => {
    const base = { bos_token: "<s>", eos_token: { __type: "AddedToken", content: "</s>" } };
    const both = loadTokenizer(withConfig({ ...base, add_bos_token: true, add_eos_token: true }))._unsafeUnwrap();
    const plain = both.encode("Hi", { addSpecialTokens: false });
    expect(both.encode("Hi")).toEqual([1, ...plain, 2]);
    const none = loadTokenizer(withConfig({ ...base, add_bos_token: false }))._unsafeUnwrap();
    expect(none.encode("Hi")).toEqual(plain);
  });

  test("chat_template as a list of {name, template}: 'default' is the template, all are kept", () => {
    const tok = loadTokenizer(
      withConfig({
        chat_template: [
          { name: "default", template: "{{ messages[0].content }}" },
          { name: "tool_use", template: "T" },
        ],
      }),
    )._unsafeUnwrap();
    expect(tok.chatTemplate).toBe("{{ messages[0].content }}");
    expect(tok.chatTemplates).toEqual({ default: "{{ messages[0].content }}", tool_use: "T" });
  });

  test("the fixtures' own templates: Llama 3 and Qwen3 have one, mistral-7b none", () => {
    expect(fixture("llama3").chatTemplate).toContain("<|start_header_id|>");
    expect(fixture("qwen3").chatTemplate).toContain("<|im_start|>");
    expect(fixture("mistral-7b").chatTemplate).toBeNull();
  });

  test("add_eos_token without an eos_token is an error naming the config", () => {
    const r = loadTokenizer(withConfig({ add_eos_token: true }));
    expect(r.isErr() && r.error.message).toMatch(/tokenizer_config\.json: add_eos_token is true but eos_token is not set/);
  });
});

describe("clean_up_tokenization_spaces", () => {
  test("Llama 3 sets it: decode drops the space before punctuation and contractions, as transformers does", () => {
    const llama3 = fixture("llama3");
    const ids = llama3.encode("x = ? a != b. It 's ok , they 're here", { addSpecialTokens: false });
    expect(llama3.decode(ids)).toBe("x =? a!= b. It's ok, they're here");
    expect(llama3.decode(ids, { cleanUpTokenizationSpaces: false })).toBe("x = ? a != b. It 's ok , they 're here");
  });

  test("Qwen3 does not: decode keeps the text; asking for the clean-up applies it", () => {
    const qwen = fixture("qwen3");
    const ids = qwen.encode("x = ? a != b", { addSpecialTokens: false });
    expect(qwen.decode(ids)).toBe("x = ? a != b");
    expect(qwen.decode(ids, { cleanUpTokenizationSpaces: true })).toBe("x =? a!= b");
  });
});
