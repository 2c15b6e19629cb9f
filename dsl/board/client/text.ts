// The board client's pure helpers (no DOM): number and time formatting, metric order, and the reader
// of OpenAI-style streamed chat answers. Tested directly under Bun (test/dsl/board/client/).

/** A compact number for axis labels: 0.00123 → 1.23e-3, 1234.5 → 1235. */
export function tickLabel(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-2) return v.toExponential(2).replace("e+", "e");
  return a >= 100 ? v.toFixed(0) : v.toPrecision(3);
}

/** A short human date for run tables. */
export function formatTime(ms: number | null | undefined): string {
  if (!ms) return "";
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Metrics drawn first, in this order; any others follow alphabetically. */
const FIRST = ["loss", "eval_loss", "lr", "grad_norm"];

export function metricOrder(names: readonly string[]): string[] {
  return [...names].sort((a, b) => {
    const [i, j] = [FIRST.indexOf(a), FIRST.indexOf(b)];
    return (i < 0 ? FIRST.length : i) - (j < 0 ? FIRST.length : j) || a.localeCompare(b);
  });
}

/** Reads an OpenAI chat-completions SSE stream, calling onText for each content delta. */
export async function readChatStream(body: ReadableStream<Uint8Array>, onText: (text: string) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf("\n\n");
      for (const line of event.split("\n")) {
        if (!line.startsWith("data:")) continue;
        const data = line.slice(5).trim();
        if (data === "[DONE]") return;
        const chunk = JSON.parse(data) as { choices?: { delta?: { content?: string } }[]; error?: { message?: string } };
        if (chunk.error) throw new Error(chunk.error.message ?? "the model server reported an error");
        const text = chunk.choices?.[0]?.delta?.content;
        if (text) onText(text);
      }
    }
  }
}
