// Word tokens for ROUGE, standing in for LLaMA-Factory's jieba segmentation: runs of letters/digits
// are words, each CJK character and each punctuation mark is its own token, whitespace separates.
// (jieba would join CJK characters into dictionary words; lft ships no Chinese dictionary, so CJK
// text is scored per character — the usual fallback.)
const TOKEN = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]|[\p{L}\p{N}_'’]+|[^\s\p{L}\p{N}]/gu;

export function wordTokens(text: string): string[] {
  return text.match(TOKEN) ?? [];
}
