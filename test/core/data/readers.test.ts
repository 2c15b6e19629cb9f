// File readers: JSON (array, column lists, JSON Lines under .json), JSONL, CSV, text and Parquet, with
// row/line numbers for every row and bad rows reported where they are, never dropped.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { datasetFiles, fileDatasetAttr, type ReadItem, readFile, readLines } from "../../../core/index.ts";
import { writeStringParquet } from "./helpers/parquet-writer.ts";

const dir = mkdtempSync(join(tmpdir(), "lft-readers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function readAll(name: string, content: string | Uint8Array): Promise<ReadItem[]> {
  writeFileSync(join(dir, name), content);
  const files = datasetFiles(fileDatasetAttr(name), dir)._unsafeUnwrap();
  const out: ReadItem[] = [];
  for await (const item of readFile(files[0]!, "ds")) out.push(item);
  return out;
}

const rowsOf = (items: ReadItem[]) => items.filter((i) => i.kind === "row").map((i) => (i.kind === "row" ? i.value : null));

/** A byte source that hands out the bytes in chunks of `size`, to cut lines and UTF-8 anywhere. */
async function* chunked(bytes: Uint8Array, size: number) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

describe("readLines", () => {
  test("splits \\n, \\r\\n and \\r across any chunk boundary, strips a BOM, keeps a last unterminated line", async () => {
    const text = "\uFEFFa,é\r\nb🙂\rc\n\nlast";
    const bytes = new TextEncoder().encode(text);
    for (const size of [1, 2, 3, 7, 1000]) {
      const got: string[] = [];
      for await (const l of readLines(chunked(bytes, size))) got.push(`${l.line}:${l.text}`);
      expect(got).toEqual(["1:a,é", "2:b🙂", "3:c", "4:", "5:last"]);
    }
  });
});

describe("JSON and JSONL", () => {
  test("a JSON array gives rows numbered from 1", async () => {
    const items = await readAll("a.json", JSON.stringify([{ a: 1 }, { a: 2 }]));
    expect(items).toEqual([
      { kind: "row", value: { a: 1 }, source: { dataset: "ds", file: "a.json", row: 1 } },
      { kind: "row", value: { a: 2 }, source: { dataset: "ds", file: "a.json", row: 2 } },
    ]);
  });

  test("an object of equal-length lists is read column-wise", async () => {
    expect(rowsOf(await readAll("c.json", JSON.stringify({ q: ["x", "y"], a: ["1", "2"] })))).toEqual([
      { q: "x", a: "1" },
      { q: "y", a: "2" },
    ]);
  });

  test("JSON Lines under a .json name are read as lines", async () => {
    expect(rowsOf(await readAll("l.json", '{"a":1}\n{"a":2}\n'))).toEqual([{ a: 1 }, { a: 2 }]);
  });

  test("JSONL: a bad line is a bad row with its line number; blank lines are reported as informational", async () => {
    const items = await readAll("b.jsonl", '{"a":1}\n\n{"a":\n{"a":3}\n');
    expect(rowsOf(items)).toEqual([{ a: 1 }, { a: 3 }]);
    const bad = items.filter((i) => i.kind === "bad").map((i) => (i.kind === "bad" ? [i.bad.reason, i.bad.source.line] : null));
    expect(bad).toEqual([
      ["blank-line", 2],
      ["unparsable", 3],
    ]);
    const third = items.find((i) => i.kind === "row" && (i.value as { a: number }).a === 3);
    expect(third?.kind === "row" && third.source).toEqual({ dataset: "ds", file: "b.jsonl", row: 3, line: 4 });
  });
});

describe("CSV", () => {
  test("header, quoted commas, quotes and line breaks, booleans, and a wrong field count", async () => {
    const csv = 'instruction,output,label\n"Say ""hi"", please","line1\nline2",true\nplain,text,False\nonly,two\n';
    const items = await readAll("d.csv", csv);
    expect(rowsOf(items)).toEqual([
      { instruction: 'Say "hi", please', output: "line1\nline2", label: true },
      { instruction: "plain", output: "text", label: false },
    ]);
    const bad = items.find((i) => i.kind === "bad");
    expect(bad?.kind === "bad" && [bad.bad.reason, bad.bad.detail, bad.bad.source.line]).toEqual([
      "unparsable",
      "expected 3 fields (as in the header), found 2",
      5,
    ]);
    const second = items.filter((i) => i.kind === "row")[1];
    expect(second?.kind === "row" && second.source.line).toBe(4);
  });
});

describe("text and Parquet", () => {
  test("a text file gives one {text} row per non-blank line", async () => {
    expect(rowsOf(await readAll("t.txt", "first doc\n\nsecond doc\n"))).toEqual([{ text: "first doc" }, { text: "second doc" }]);
  });

  test("Parquet rows are read through hyparquet", async () => {
    const bytes = writeStringParquet({
      instruction: ["Describe crepes.", "Dites bonjour."],
      input: ["", "à Paris"],
      output: ["Crepes are thin.", "Bonjour !"],
    });
    const items = await readAll("p.parquet", bytes);
    expect(items.map((i) => i.kind === "row" && [i.value, i.source.row])).toEqual([
      [{ instruction: "Describe crepes.", input: "", output: "Crepes are thin." }, 1],
      [{ instruction: "Dites bonjour.", input: "à Paris", output: "Bonjour !" }, 2],
    ]);
  });

  test("a file that is not Parquet is one unparsable bad row", async () => {
    const items = await readAll("bad.parquet", "not parquet at all");
    expect(items.map((i) => i.kind === "bad" && i.bad.reason)).toEqual(["unparsable"]);
  });
});

describe("dataset folders", () => {
  test("a folder holds files of one type; split picks train-*/test-* names or a split folder", () => {
    const root = join(dir, "hub");
    mkdirSync(join(root, "en"), { recursive: true });
    for (const f of ["train-00000-of-00002.jsonl", "train-00001-of-00002.jsonl", "test-00000-of-00001.jsonl"]) writeFileSync(join(root, "en", f), "{}\n");
    const names = (split: string) => datasetFiles({ ...fileDatasetAttr("hub"), subset: "en", split }, dir).map((fs) => fs.map((f) => f.display));
    expect(names("train")._unsafeUnwrap()).toEqual(["hub/en/train-00000-of-00002.jsonl", "hub/en/train-00001-of-00002.jsonl"]);
    expect(names("test")._unsafeUnwrap()).toEqual(["hub/en/test-00000-of-00001.jsonl"]);
    expect(names("validation")._unsafeUnwrapErr().message).toContain('no files for split "validation"');
    writeFileSync(join(root, "en", "train-extra.csv"), "a\n1\n");
    expect(names("train")._unsafeUnwrapErr().message).toContain("files must be of one type");
  });

  test("a single file has only the train split; unknown extensions are refused", () => {
    writeFileSync(join(dir, "x.arrow"), "");
    expect(datasetFiles(fileDatasetAttr("x.arrow"), dir)._unsafeUnwrapErr().message).toContain(
      "unknown file type; allowed: .json, .jsonl, .csv, .parquet, .txt",
    );
    writeFileSync(join(dir, "y.json"), "[]");
    expect(datasetFiles({ ...fileDatasetAttr("y.json"), split: "test" }, dir)._unsafeUnwrapErr().message).toContain(
      'a single file holds only the "train" split',
    );
  });
});
