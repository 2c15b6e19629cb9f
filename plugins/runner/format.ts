// Numbers as the summaries print them.

/** 1234567 -> "1,234,567". */
export function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Seconds with one decimal below a minute, else 2m05s. */
export function seconds(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - m * 60)).padStart(2, "0")}s`;
}

export function loss(x: number): string {
  return Number.isFinite(x) ? x.toFixed(4) : String(x);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}
