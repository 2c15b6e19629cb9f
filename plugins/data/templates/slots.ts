// LLaMA-Factory's formatters: fill a role's slots with a message and turn the pieces into token ids.
// Each text piece is tokenised on its own (as LLaMA-Factory does), so ids match it exactly.
import type { Tokenizer } from "../../../core/index.ts";
import type { Slot } from "./slot-spec.ts";

/**
 * Fills {{name}} placeholders, in order, first occurrence per slot, as StringFormatter.apply does:
 * a value inserted for `content` may itself receive a later {{idx}}, exactly as in LLaMA-Factory.
 */
export function fillSlots(slots: readonly Slot[], values: readonly (readonly [string, string])[]): Slot[] {
  return slots.map((slot) => {
    if (typeof slot !== "string") return slot;
    let s = slot;
    for (const [name, value] of values) {
      const key = `{{${name}}}`;
      const at = s.indexOf(key);
      if (at >= 0) s = s.slice(0, at) + value + s.slice(at + key.length);
    }
    return s;
  });
}

export interface SpecialIds {
  readonly bosId: number | null;
  readonly eosId: number;
}

/** Slots to ids; a named token missing from the vocabulary is an error (never silently text). */
export function slotsToIds(tokenizer: Tokenizer, specials: SpecialIds, slots: readonly Slot[]): number[] | string {
  const ids: number[] = [];
  for (const slot of slots) {
    if (typeof slot === "string") {
      if (slot.length > 0) for (const id of tokenizer.encode(slot, { addSpecialTokens: false })) ids.push(id);
    } else if ("token" in slot) {
      const id = tokenizer.tokenToId(slot.token);
      if (id === undefined) return `token "${slot.token}" is not in the tokenizer's vocabulary`;
      ids.push(id);
    } else if (slot.special === "bos") {
      if (specials.bosId !== null) ids.push(specials.bosId);
    } else ids.push(specials.eosId);
  }
  return ids;
}

/** The first slot's text (Llama2Template puts the filled system slot inside the user turn). */
export function firstText(slots: readonly Slot[]): string {
  const s = slots[0];
  return typeof s === "string" ? s : "";
}
