// Finds where and why a JSON text is malformed. Bun's JSON.parse errors carry no position, so after a
// failed parse this small strict scanner walks the text once and reports the first bad character.

export interface JsonSyntaxProblem {
  /** Character offset into the text. */
  offset: number;
  line: number;
  col: number;
  message: string;
}

class Stop {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

const MAX_DEPTH = 4096;

/** The first syntax error in `text`, or null if the text is valid JSON. */
export function locateJsonError(text: string): JsonSyntaxProblem | null {
  let i = 0;
  const found = (): string => (i >= text.length ? "the end of the file" : `${JSON.stringify(text[i])}`);
  const stop = (what: string): never => {
    throw new Stop(i, `expected ${what}, found ${found()}`);
  };
  const ws = (): void => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const digits = (): number => {
    const start = i;
    while (i < text.length && text[i]! >= "0" && text[i]! <= "9") i++;
    return i - start;
  };
  const string = (): void => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) throw new Stop(i, "unterminated string: expected a closing '\"', found the end of the file");
      const c = text.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c < 0x20) throw new Stop(i, "control character inside a string (write it as an escape such as \\n)");
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new Stop(i, "expected 4 hex digits after \\u");
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else throw new Stop(i, `invalid escape \\${e ?? ""} in a string`);
      } else i++;
    }
  };
  const number = (): void => {
    if (text[i] === "-") i++;
    if (text[i] === "0") i++;
    else if (digits() === 0) stop("a digit");
    if (text[i] === ".") {
      i++;
      if (digits() === 0) stop("a digit after the decimal point");
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      if (digits() === 0) stop("a digit in the exponent");
    }
  };
  const value = (depth: number): void => {
    if (depth > MAX_DEPTH) throw new Stop(i, `nesting deeper than ${MAX_DEPTH} levels`);
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') stop("a property name in double quotes");
        string();
        ws();
        if (text[i] !== ":") stop("':' after the property name");
        i++;
        value(depth + 1);
        ws();
        if (text[i] === "}") return void i++;
        if (text[i] !== ",") stop("',' or '}' after a property value");
        i++;
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") return void i++;
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === "]") return void i++;
        if (text[i] !== ",") stop("',' or ']' after an array element");
        i++;
      }
    }
    if (c === '"') {
      string();
      return;
    }
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) {
      number();
      return;
    }
    for (const word of ["true", "false", "null"]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    stop("a value (object, array, string, number, true, false or null)");
  };
  try {
    value(0);
    ws();
    if (i < text.length) throw new Stop(i, `unexpected ${found()} after the end of the JSON value`);
    return null;
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    return { offset: e.offset, ...lineCol(text, e.offset), message: e.message };
  }
}

/** 1-based line and column of a character offset. */
export function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text.charCodeAt(k) === 10) {
      line++;
      lineStart = k + 1;
    }
  }
  return { line, col: offset - lineStart + 1 };
}
