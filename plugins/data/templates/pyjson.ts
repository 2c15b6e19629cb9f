// Python's json.dumps(value, ensure_ascii=False[, indent=N]) in TypeScript: LLaMA-Factory writes tool
// calls and tool lists with it, so the text (", " and ": " separators) must match byte for byte.
// Known differences that JSON values cannot carry: Python prints 1.0 where JavaScript has 1, and
// JavaScript orders integer-like object keys first.

export function pyJsonDumps(value: unknown, indent?: number): string {
  return dump(value, indent, 0);
}

function dump(v: unknown, indent: number | undefined, depth: number): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "bigint") return v.toString();
  const items: string[] = Array.isArray(v)
    ? v.map((x) => dump(x, indent, depth + 1))
    : Object.entries(v as Record<string, unknown>).map(([k, x]) => `${JSON.stringify(k)}: ${dump(x, indent, depth + 1)}`);
  const [open, close] = Array.isArray(v) ? ["[", "]"] : ["{", "}"];
  if (items.length === 0) return open + close;
  if (indent === undefined) return open + items.join(", ") + close;
  const pad = `\n${" ".repeat(indent * (depth + 1))}`;
  return `${open + pad + items.join(`,${pad}`)}\n${" ".repeat(indent * depth)}${close}`;
}
