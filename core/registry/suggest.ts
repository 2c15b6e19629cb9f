// "Did you mean" suggestions for unknown names (registry lookups, option keys, enum values).
// A typo in a recipe should be answered with the closest known names, never a bare "not found".

/** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions ("lamma" → "llama" is 1). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // Three rolling rows: the transposition case looks two rows back.
  let prev2 = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, prev2[j - 2]! + 1);
      }
      cur[j] = d;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[b.length]!;
}

/**
 * Known names close enough to `name` to be a plausible typo, closest first (ties by name, so the
 * message is deterministic). Case differences cost nothing: `LoRA` should find `lora`.
 */
export function suggest(name: string, known: Iterable<string>, max = 3): string[] {
  const needle = name.toLowerCase();
  const scored: { name: string; distance: number }[] = [];
  for (const candidate of new Set(known)) {
    const hay = candidate.toLowerCase();
    const distance = editDistance(needle, hay);
    // Allow roughly one edit per three characters; short names still get one edit.
    const limit = Math.max(1, Math.floor(Math.max(needle.length, hay.length) / 3));
    if (distance <= limit) scored.push({ name: candidate, distance });
  }
  scored.sort((x, y) => x.distance - y.distance || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return scored.slice(0, max).map((s) => s.name);
}

/** `; did you mean "a" or "b"?` or the empty string; meant to be appended to a message. */
export function didYouMean(suggestions: readonly string[]): string {
  if (suggestions.length === 0) return "";
  const quoted = suggestions.map((s) => `"${s}"`);
  const last = quoted.pop()!;
  return `; did you mean ${quoted.length > 0 ? `${quoted.join(", ")} or ${last}` : last}?`;
}

/**
 * `; did you mean "x"? known hooks: a, b` (or `; known hooks: a, b` when nothing is close): the
 * tail of every "unknown name" message, so they all read alike.
 */
export function unknownNameTail(name: string, known: Iterable<string>, label: string): string {
  const names = [...known];
  const hint = didYouMean(suggest(name, names));
  return `${hint === "" ? ";" : hint} ${label}: ${knownList(names)}`;
}

/** Sorted, comma-separated list for "known names: ..." tails. */
export function knownList(names: Iterable<string>): string {
  const sorted = [...names].sort();
  return sorted.length === 0 ? "(none)" : sorted.join(", ");
}
