// The board client's pure helpers: axis labels, metric order and the streamed-chat reader (chunks
// split anywhere, [DONE], an error event), run under Bun without a browser.

import { describe, expect, test } from "bun:test";
import { metricOrder, readChatStream, tickLabel } from "../../../../dsl/board/client/text.ts";

function streamOf(chunks: readonly string[]): ReadableStream<Uint8Array> {
  const bytes = chunks.map((c) => new TextEncoder().encode(c));
  return new ReadableStream({
    start(controller) {
      for (const b of bytes) controller.enqueue(b);
      controller.close();
    },
  });
}

const delta = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;

describe("board client text helpers", () => {
  test("tick labels are short", () => {
    expect(tickLabel(0)).toBe("0");
    expect(tickLabel(2.34567)).toBe("2.35");
    expect(tickLabel(1234.5)).toBe("1235");
    expect(tickLabel(0.00123)).toBe("1.23e-3");
    expect(tickLabel(5e-5)).toBe("5.00e-5");
  });

  test("loss, eval_loss, lr and grad_norm come first, the rest alphabetically", () => {
    expect(metricOrder(["zeta", "grad_norm", "accuracy", "lr", "loss", "eval_loss"])).toEqual(["loss", "eval_loss", "lr", "grad_norm", "accuracy", "zeta"]);
  });

  test("a streamed answer is read whole even when chunks split events and multi-byte characters", async () => {
    const text = [delta("Once "), delta("upon é"), delta(" a time"), "data: [DONE]\n\n", delta("after done")].join("");
    const bytes = new TextEncoder().encode(text);
    // Split into 7-byte pieces: cuts through JSON, event boundaries and the two-byte é.
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 7) pieces.push(bytes.slice(i, i + 7));
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of pieces) c.enqueue(p);
        c.close();
      },
    });
    const got: string[] = [];
    await readChatStream(stream, (t) => got.push(t));
    expect(got.join("")).toBe("Once upon é a time");
    expect(got.length).toBe(3);
  });

  test("an error event in the stream rejects with its message", async () => {
    const stream = streamOf([delta("Hi"), `data: ${JSON.stringify({ error: { message: "max_tokens exceeds the context" } })}\n\n`]);
    const got: string[] = [];
    await expect(readChatStream(stream, (t) => got.push(t))).rejects.toThrow("max_tokens exceeds the context");
    expect(got).toEqual(["Hi"]);
  });
});
