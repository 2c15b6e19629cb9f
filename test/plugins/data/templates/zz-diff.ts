import { fixtureTokenizer } from "/work/wt/templates/test/core/data/helpers/tokenizer.ts";
import { readCase, runCase } from "/work/wt/templates/test/plugins/data/templates/lf-parity.ts";
const [ds, tpl, tk] = process.argv.slice(2);
const tok = await fixtureTokenizer(tk as never);
const exp = await readCase(`${ds}.${tpl}.${tk}.jsonl`);
const got = await runCase(ds!, tpl!, tok, exp.slice(0, 3));
for (let r = 0; r < 3; r++) {
  const a = got[r]!, b = exp[r]!;
  let i = 0; while (i < a.input_ids.length && a.input_ids[i] === b.input_ids[i] && a.labels[i] === b.labels[i]) i++;
  if (i === a.input_ids.length && a.input_ids.length === b.input_ids.length) { console.log(r, "ok"); continue; }
  console.log(r, "first diff at", i, "len", a.input_ids.length, b.input_ids.length);
  console.log(" got ", a.input_ids.slice(Math.max(0,i-3), i+6), a.labels.slice(Math.max(0,i-3), i+6), JSON.stringify(tok.decode(a.input_ids.slice(Math.max(0,i-3), i+6))));
  console.log(" exp ", b.input_ids.slice(Math.max(0,i-3), i+6), b.labels.slice(Math.max(0,i-3), i+6), JSON.stringify(tok.decode(b.input_ids.slice(Math.max(0,i-3), i+6))));
}
