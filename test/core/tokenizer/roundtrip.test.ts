// decode(encode(x)) === x on a mixed corpus for all five tokenizers: English, code with tabs and
// indentation, CJK, emoji (with ZWJ sequences and skin tones), runs of spaces and newlines, and (for the
// byte-level ones, whose added tokens keep their surrounding text) special tokens written in the text.
// Texts are NFC (Qwen's NFC normaliser, like HF's, does not give back decomposed accents) and hold no
// literal "▁" (sentencepiece tokenizers decode it as a space, as HF's do).
import { describe, expect, test } from "bun:test";
import { fixture, NAMES } from "./fixtures.ts";

const CORPUS = [
  "The quick brown fox jumps over the lazy dog. It's 2024; they'll say \"we've won\" & I'm sure!",
  "def f(x):\n\tif x > 0:\n\t\treturn x * 2\n\treturn -x\n\n\nclass A:\n    def __init__(self):\n        self.v = {'a': [1, 2, 3]}\n",
  "for (int i = 0; i < n; ++i) {\r\n  sum += a[i] * b[i];   // dot\r\n}\r\n",
  "中文分词测试：我们今天去公园散步，天气很好。漢字とひらがなとカタカナ。한국어 문장입니다.",
  "Emoji 🦙 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 😶‍🌫️ ❤️ 🇩🇪 ✅ 🚀",
  "     five spaces, then tabs\t\t\tand newlines\n\n\n\n and both \n \n\t\n",
  "  leading and trailing  ",
  "\n",
  " ",
  "Привет, мир! Ελληνικά. مرحبا بالعالم. नमस्ते दुनिया. Führer ½ ² 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠀀",
  `${"x".repeat(500)} ${"ab".repeat(300)}`,
];

const WITH_SPECIALS: Record<string, string[]> = {
  llama3: [
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n 你好 👋<|eot_id|>",
    "text <|reserved_special_token_3|> more\t<|end_of_text|>",
  ],
  qwen3: [
    "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n  code:\n\tx = 1<|im_end|>\n<|im_start|>assistant\n<think>\nhmm\n</think>\n\n好的 🎉<|im_end|>",
    '<tool_call>\n{"name": "f"}\n</tool_call> <|endoftext|>',
  ],
};

for (const name of NAMES) {
  describe(`${name} round-trips`, () => {
    const tok = fixture(name);
    test("mixed corpus", () => {
      const bad = CORPUS.filter((x) => tok.decode(tok.encode(x, { addSpecialTokens: false })) !== x).map((x) => JSON.stringify(x).slice(0, 60));
      expect(bad).toEqual([]);
    });
    test("the whole corpus as one text", () => {
      const all = CORPUS.join("\n");
      expect(tok.decode(tok.encode(all, { addSpecialTokens: false }))).toBe(all);
    });
    const specials = WITH_SPECIALS[name];
    if (specials) {
      test("special tokens in the text are single ids and come back", () => {
        for (const x of specials) {
          const ids = tok.encode(x, { addSpecialTokens: false });
          for (const s of x.match(/<\|[a-z_0-9]+\|>/g)!) expect(ids).toContain(tok.tokenToId(s)!);
          expect(tok.decode(ids)).toBe(x);
        }
      });
    }
  });
}
