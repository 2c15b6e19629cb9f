// One progress line for a file download: a bar, bytes done of the total, the percentage.

function megabytes(bytes: number): string {
  return bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

export function progressLine(label: string, done: number, total: number, width = 24): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(frac * width);
  return `${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${megabytes(done)} / ${megabytes(total)} (${Math.round(frac * 100)}%)`;
}
