// A one-line text progress bar for long data passes (token counting, preprocessing).

export function progressBar(done: number, total: number, width = 30, label = "rows"): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(frac * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total} ${label} (${Math.round(frac * 100)}%)`;
}
