// A recipe with source positions removed, for comparing what two parses mean rather than where
// their text sat (the printer moves text; it must not change meaning).

import type { Recipe } from "../../dsl/recipe.ts";

export function shapeOf(recipe: Recipe): unknown {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (typeof node !== "object" || node === null) return node;
    return Object.fromEntries(
      Object.entries(node)
        .filter(([key]) => key !== "span" && key !== "keySpan" && key !== "file")
        .map(([key, value]) => [key, strip(value)]),
    );
  };
  return strip(recipe);
}
