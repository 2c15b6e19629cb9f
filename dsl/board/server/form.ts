// The Train / Evaluate / Export form, generated from what `lft check` validates against: each block
// kind's own options (dsl/blocks.ts), plus the option schema of every registered entry its header
// word may name (methods, stages, formats, families) as variants, and sections for the entries a
// train option names (optimizer, reward). Nothing here lists an option by hand.

import type { OptionSchema, OptionSpec, Registry } from "../../../core/index.ts";
import { type BlockRule, blockKinds, blockRules, type Collection, type RefRule } from "../../blocks";
import type { BlockKind } from "../../recipe";
import type { FormField, FormSectionBase } from "../form-contract";

export type { FieldKind, FormField } from "../form-contract";

export interface FormSection extends FormSectionBase {
  /** Where the section's values are written: its own block, or (optimizer, reward) the train block. */
  readonly block: BlockKind;
}

/** Blocks written when the form is turned into a recipe unless switched off (`<section>.enabled`). */
export const enabledByDefault: ReadonlySet<string> = new Set(["model", "dataset", "method", "train"]);

const titles: Readonly<Record<BlockKind, string>> = {
  model: "Model",
  dataset: "Dataset",
  method: "Method",
  train: "Train",
  eval: "Evaluate",
  predict: "Predict",
  export: "Export",
  chat: "Chat",
};

/** Header parts that hold paths (the others are prompts or names). */
const pathSources: ReadonlySet<BlockKind> = new Set(["model", "dataset", "eval", "predict", "export"]);

export function fieldOf(key: string, spec: OptionSpec, registry: Registry, ref?: RefRule, units?: readonly string[]): FormField {
  const base = { key, label: key.replace(/_/g, " "), doc: spec.doc, ...(spec.default === undefined ? {} : { default: spec.default }) };
  const withUnits = units === undefined ? {} : { units: [...units, "%"] };
  const choices = ref === undefined ? undefined : [...registry.list(ref.collection).map((e) => e.name), ...(ref.also ?? [])];
  switch (spec.type) {
    case "number":
      return {
        ...base,
        kind: spec.integer === true ? "integer" : "number",
        ...(spec.min === undefined ? {} : { min: spec.min }),
        ...(spec.max === undefined ? {} : { max: spec.max }),
        ...withUnits,
      };
    case "boolean":
      return { ...base, kind: "boolean" };
    case "enum":
      return { ...base, kind: "enum", choices: spec.values };
    case "list": {
      const itemChoices = choices ?? (spec.item.type === "enum" ? spec.item.values : undefined);
      return { ...base, kind: "list", ...(itemChoices === undefined ? {} : { choices: itemChoices }) };
    }
    case "string":
      if (choices !== undefined) return { ...base, kind: "enum", choices };
      return { ...base, kind: /(^|_)(dir|output|adapter|path)$/.test(key) ? "path" : "string" };
  }
}

function fieldsOf(schema: OptionSchema, registry: Registry, rule?: BlockRule, skip: ReadonlySet<string> = new Set()): FormField[] {
  return Object.entries(schema)
    .filter(([key]) => !skip.has(key))
    .map(([key, spec]) => fieldOf(key, spec, registry, rule?.refs?.[key], rule?.units?.[key]));
}

function variantsOf(collection: Collection, registry: Registry, skip: ReadonlySet<string> = new Set()): Record<string, FormField[]> {
  const out: Record<string, FormField[]> = {};
  for (const entry of registry.list(collection)) out[entry.name] = fieldsOf(entry.options ?? {}, registry, undefined, skip);
  return out;
}

/** Train options whose named entry brings options get a section of their own (optimizer, reward). */
function refSections(kind: BlockKind, rule: BlockRule, registry: Registry): FormSection[] {
  return Object.entries(rule.refs ?? {})
    .filter(([, ref]) => ref.options === true)
    .map(([key, ref]) => {
      const own = rule.options[key];
      const choices = registry.list(ref.collection).map((e) => e.name);
      const name: FormField = {
        key: "name",
        label: key,
        kind: "enum",
        choices,
        doc: own?.doc ?? `the ${key} entry`,
        ...(own?.default === undefined ? {} : { default: own.default }),
      };
      return { id: key, title: key[0]!.toUpperCase() + key.slice(1), fields: [name], variants: variantsOf(ref.collection, registry), block: kind };
    });
}

export function buildForm(registry: Registry): { sections: FormSection[] } {
  const sections: FormSection[] = [];
  for (const kind of blockKinds) {
    const rule = blockRules[kind];
    const fields: FormField[] = [];
    if (kind !== "model") fields.push({ key: "enabled", label: "enabled", kind: "boolean", default: enabledByDefault.has(kind), doc: `write a ${kind} block` });
    if (rule.name !== undefined) {
      const choices = registry.list(rule.name.collection).map((e) => e.name);
      fields.push({ key: "name", label: rule.name.label, kind: "enum", choices, required: rule.name.required, doc: rule.name.label });
    }
    if (rule.source !== undefined)
      fields.push({
        key: "source",
        label: rule.source.label,
        kind: pathSources.has(kind) ? "path" : "string",
        required: rule.source.required,
        doc: rule.source.label,
      });
    if (rule.duration === true) {
      fields.push({ key: "duration", label: "for", kind: "number", min: 0, default: 1, doc: "how long the stage trains" });
      fields.push({ key: "duration_unit", label: "unit", kind: "enum", choices: ["epochs", "steps"], default: "epochs", doc: "epochs or steps" });
    }
    const bySection = new Set(Object.entries(rule.refs ?? {}).flatMap(([key, ref]) => (ref.options === true ? [key] : [])));
    fields.push(...fieldsOf(rule.options, registry, rule, bySection));
    const variants = rule.name === undefined ? undefined : variantsOf(rule.name.collection, registry, new Set(Object.keys(rule.options)));
    sections.push({ id: kind, title: titles[kind], doc: rule.doc, fields, ...(variants === undefined ? {} : { variants }), block: kind });
    sections.push(...refSections(kind, rule, registry));
  }
  return { sections };
}

/** Every field a section may hold, variants included, by key (a key's first spec wins). */
export function sectionFields(section: FormSection): Map<string, FormField> {
  const out = new Map<string, FormField>();
  for (const f of [...section.fields, ...Object.values(section.variants ?? {}).flat()]) if (!out.has(f.key)) out.set(f.key, f);
  return out;
}
