// A minimal Parquet writer for tests (no npm writer is installed): string columns only, one row group,
// one uncompressed PLAIN data page per column, metadata in Thrift's compact protocol. Enough to give
// the hyparquet reader a real file.

class Compact {
  readonly bytes: number[] = [];
  private last: number[] = [0];
  varint(n: bigint | number): void {
    let v = BigInt(n);
    while (v >= 0x80n) {
      this.bytes.push(Number((v & 0x7fn) | 0x80n));
      v >>= 7n;
    }
    this.bytes.push(Number(v));
  }
  zigzag(n: number): void {
    const v = BigInt(n);
    this.varint(v >= 0n ? v << 1n : (-v << 1n) - 1n);
  }
  field(id: number, type: number): void {
    const delta = id - this.last[this.last.length - 1]!;
    this.bytes.push(((delta & 0xf) << 4) | type);
    this.last[this.last.length - 1] = id;
  }
  i32(id: number, v: number): void {
    this.field(id, 5);
    this.zigzag(v);
  }
  i64(id: number, v: number): void {
    this.field(id, 6);
    this.zigzag(v);
  }
  str(id: number, s: string): void {
    this.field(id, 8);
    const b = new TextEncoder().encode(s);
    this.varint(b.length);
    this.bytes.push(...b);
  }
  struct(id: number, body: () => void): void {
    this.field(id, 12);
    this.begin(body);
  }
  begin(body: () => void): void {
    this.last.push(0);
    body();
    this.bytes.push(0);
    this.last.pop();
  }
  list(id: number, elemType: number, items: (() => void)[]): void {
    this.field(id, 9);
    this.bytes.push((items.length << 4) | elemType);
    for (const item of items) item();
  }
}

export function writeStringParquet(columns: Record<string, string[]>): Uint8Array {
  const names = Object.keys(columns);
  const rows = columns[names[0]!]!.length;
  const out: number[] = [...new TextEncoder().encode("PAR1")];
  const chunks: { offset: number; size: number }[] = [];
  for (const name of names) {
    const values: number[] = [];
    for (const s of columns[name]!) {
      const b = new TextEncoder().encode(s);
      values.push(b.length & 0xff, (b.length >> 8) & 0xff, (b.length >> 16) & 0xff, b.length >>> 24, ...b);
    }
    const header = new Compact();
    header.begin(() => {
      header.i32(1, 0); // DATA_PAGE
      header.i32(2, values.length);
      header.i32(3, values.length);
      header.struct(5, () => {
        header.i32(1, rows);
        header.i32(2, 0); // PLAIN
        header.i32(3, 3); // RLE
        header.i32(4, 3);
      });
    });
    const offset = out.length;
    out.push(...header.bytes, ...values);
    chunks.push({ offset, size: out.length - offset });
  }
  const meta = new Compact();
  meta.begin(() => {
    meta.i32(1, 1);
    meta.list(2, 12, [
      () =>
        meta.begin(() => {
          meta.str(4, "schema");
          meta.i32(5, names.length);
        }),
      ...names.map(
        (name) => () =>
          meta.begin(() => {
            meta.i32(1, 6); // BYTE_ARRAY
            meta.i32(3, 0); // REQUIRED
            meta.str(4, name);
            meta.i32(6, 0); // UTF8
          }),
      ),
    ]);
    meta.i64(3, rows);
    meta.list(4, 12, [
      () =>
        meta.begin(() => {
          meta.list(
            1,
            12,
            names.map(
              (name, i) => () =>
                meta.begin(() => {
                  meta.i64(2, chunks[i]!.offset);
                  meta.struct(3, () => {
                    meta.i32(1, 6);
                    meta.list(2, 5, [() => meta.zigzag(0)]);
                    meta.list(3, 8, [
                      () => {
                        const b = new TextEncoder().encode(name);
                        meta.varint(b.length);
                        meta.bytes.push(...b);
                      },
                    ]);
                    meta.i32(4, 0);
                    meta.i64(5, rows);
                    meta.i64(6, chunks[i]!.size);
                    meta.i64(7, chunks[i]!.size);
                    meta.i64(9, chunks[i]!.offset);
                  });
                }),
            ),
          );
          meta.i64(
            2,
            chunks.reduce((a, c) => a + c.size, 0),
          );
          meta.i64(3, rows);
        }),
    ]);
  });
  const m = meta.bytes;
  out.push(...m, m.length & 0xff, (m.length >> 8) & 0xff, (m.length >> 16) & 0xff, m.length >>> 24, ...new TextEncoder().encode("PAR1"));
  return Uint8Array.from(out);
}
