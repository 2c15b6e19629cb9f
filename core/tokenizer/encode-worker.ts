// Bun Worker body for parallelEncode: loads the tokenizer folder once, encodes the texts it is sent, and
// answers with all ids in one flat Int32Array plus offsets (transferred, not copied).
import { loadTokenizer } from "./load.ts";

export interface EncodeJob {
  dir: string;
  texts: string[];
  addSpecialTokens: boolean;
}

export type EncodeReply = { ok: true; ids: Int32Array; offsets: Int32Array } | { ok: false; message: string };

declare const self: Worker;

self.onmessage = (event: MessageEvent<EncodeJob>) => {
  const { dir, texts, addSpecialTokens } = event.data;
  const loaded = loadTokenizer(dir);
  if (loaded.isErr()) {
    self.postMessage({ ok: false, message: loaded.error.message } satisfies EncodeReply);
    return;
  }
  const tok = loaded.value;
  const offsets = new Int32Array(texts.length + 1);
  const parts: number[][] = new Array(texts.length);
  for (let i = 0; i < texts.length; i++) {
    parts[i] = tok.encode(texts[i]!, { addSpecialTokens });
    offsets[i + 1] = offsets[i]! + parts[i]!.length;
  }
  const ids = new Int32Array(offsets[texts.length]!);
  for (let i = 0; i < texts.length; i++) ids.set(parts[i]!, offsets[i]!);
  self.postMessage({ ok: true, ids, offsets } satisfies EncodeReply, [ids.buffer, offsets.buffer]);
};
