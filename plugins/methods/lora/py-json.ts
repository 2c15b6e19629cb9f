// JSON text as Python's json.dumps(obj, indent=2, sort_keys=True) writes it (what PEFT's
// save_pretrained and transformers produce): keys sorted by code point, non-ASCII escaped, and floats
// in Python's repr (16.0, 0.05, 5e-05) for the values marked as floats.

/** A number Python holds as a float: printed with a fraction or exponent. */
export class PyFloat {
  constructor(readonly value: number) {}
}

export type PyValue = null | boolean | number | string | PyFloat | readonly PyValue[] | { readonly [k: string]: PyValue };

function pyString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Python's float repr: shortest round-trip digits, exponent below 1e-4 or from 1e16 (two-digit minimum). */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  const ax = Math.abs(x);
  if (ax !== 0 && (ax < 1e-4 || ax >= 1e16)) {
    const [mant, exp] = x.toExponential().split("e") as [string, string];
    const sign = exp.startsWith("-") ? "-" : "+";
    const digits = exp.replace(/^[-+]/, "").padStart(2, "0");
    return `${mant}e${sign}${digits}`;
  }
  const s = String(x);
  return Number.isInteger(x) ? `${s}.0` : s;
}

function byCodePoint(a: string, b: string): number {
  const [x, y] = [[...a], [...b]];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function dump(v: PyValue, indent: string): string {
  if (v === null) return "null";
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : pyFloatRepr(v);
  if (typeof v === "string") return pyString(v);
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return `[\n${v.map((x) => inner + dump(x, inner)).join(",\n")}\n${indent}]`;
  }
  const obj = v as { readonly [k: string]: PyValue };
  const keys = Object.keys(obj).sort(byCodePoint);
  if (keys.length === 0) return "{}";
  return `{\n${keys.map((k) => `${inner}${pyString(k)}: ${dump(obj[k]!, inner)}`).join(",\n")}\n${indent}}`;
}

export function pyJsonDumps(v: PyValue): string {
  return dump(v, "");
}
