// A slot template as a Hugging Face Jinja chat template, for exported tokenizer_config.json files, in the
// shape LLaMA-Factory's own export writes: the prefix, then system/user/assistant slots per message (the
// default system prompt when the conversation has none); the user slots end with the assistant's cue, so
// the generation prompt is part of them. Templates whose rendering needs more than slots (system fused into
// the first user turn, reasoning, {{idx}}) have no such form: undefined. A replaced EOS (chatml) is
// written as its stop word's text.
import type { Slot, SlotTemplateSpec } from "./slot-spec.ts";

const quote = (text: string) => `'${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'").replaceAll("\n", "\\n")}'`;

/** One role's slots as a Jinja expression over `content`; undefined when a slot cannot be expressed. */
function slotsExpression(slots: readonly Slot[], content: string, eos: string): string | undefined {
  const parts: string[] = [];
  for (const slot of slots) {
    if (typeof slot !== "string") {
      parts.push("token" in slot ? quote(slot.token) : slot.special === "bos" ? "bos_token" : eos);
      continue;
    }
    if (slot.includes("{{idx}}")) return undefined;
    const pieces = slot.split("{{content}}");
    pieces.forEach((piece, i) => {
      if (i > 0) parts.push(content);
      if (piece !== "") parts.push(quote(piece));
    });
  }
  return parts.length === 0 ? "''" : parts.join(" + ");
}

export function slotTemplateAsJinja(spec: SlotTemplateSpec): string | undefined {
  if (spec.fuseSystem || spec.reasoning) return undefined;
  const stop = spec.stopWords?.[0];
  const eos = spec.replaceEos && stop !== undefined ? quote(stop) : "eos_token";
  const user = slotsExpression(spec.user, "message['content']", eos);
  const assistant = slotsExpression(spec.assistant ?? (spec.efficientEos ? ["{{content}}"] : ["{{content}}", { special: "eos" }]), "message['content']", eos);
  const system = slotsExpression(spec.system ?? ["{{content}}"], "system_message", eos);
  const prefix = slotsExpression(spec.prefix ?? [], "''", eos);
  if (user === undefined || assistant === undefined || system === undefined || prefix === undefined) return undefined;
  const defaultSystem = quote(spec.defaultSystem ?? "");
  return [
    `{{ ${prefix} }}`,
    `{% if messages[0]['role'] == 'system' %}{% set system_message = messages[0]['content'] %}{% else %}{% set system_message = ${defaultSystem} %}{% endif %}`,
    `{% if system_message %}{{ ${system} }}{% endif %}`,
    "{% for message in messages %}",
    `{% if message['role'] == 'user' %}{{ ${user} }}`,
    `{% elif message['role'] == 'assistant' %}{{ ${assistant} }}{% endif %}`,
    "{% endfor %}",
  ].join("");
}
