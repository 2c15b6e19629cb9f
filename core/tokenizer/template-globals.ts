// The globals transformers gives a chat template besides its arguments: range, strftime_now (C-locale
// names, as Python's strftime), the Python spellings of true/false/none, and a raise_exception that
// throws TemplateRaised so the caller can tell it from a rendering error.

/** What a template's raise_exception("...") throws. */
export class TemplateRaised extends Error {}

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** Python's time.strftime for the common directives, in the C locale. */
export function strftime(date: Date, format: string): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  const dayOfYear = Math.floor((Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()) - Date.UTC(date.getFullYear(), 0, 1)) / 86_400_000) + 1;
  return format.replace(/%[a-zA-Z%]/g, (d) => {
    switch (d) {
      case "%Y":
        return String(date.getFullYear());
      case "%y":
        return pad(date.getFullYear() % 100);
      case "%m":
        return pad(date.getMonth() + 1);
      case "%d":
        return pad(date.getDate());
      case "%b":
        return MONTHS[date.getMonth()]!.slice(0, 3);
      case "%B":
        return MONTHS[date.getMonth()]!;
      case "%a":
        return DAYS[date.getDay()]!.slice(0, 3);
      case "%A":
        return DAYS[date.getDay()]!;
      case "%H":
        return pad(date.getHours());
      case "%I":
        return pad(((date.getHours() + 11) % 12) + 1);
      case "%p":
        return date.getHours() < 12 ? "AM" : "PM";
      case "%M":
        return pad(date.getMinutes());
      case "%S":
        return pad(date.getSeconds());
      case "%j":
        return pad(dayOfYear, 3);
      case "%%":
        return "%";
      default:
        return d;
    }
  });
}

function range(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0) throw new Error("range() step must not be zero");
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

export function templateGlobals(now: () => Date = () => new Date()): Record<string, unknown> {
  return {
    true: true,
    false: false,
    none: null,
    True: true,
    False: false,
    None: null,
    range,
    strftime_now: (format: string) => strftime(now(), format),
    raise_exception: (message: unknown) => {
      throw new TemplateRaised(String(message));
    },
  };
}
