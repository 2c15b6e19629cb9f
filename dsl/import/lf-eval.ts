// A llamafactory-cli eval config (task, task_dir, n_shot, lang, ...) as the `lft eval` command that
// runs the same benchmark: lft runs benchmarks as a verb, not as recipe statements.
import type { Reader } from "./lf-reader";

/** Quoted for a POSIX shell when it holds anything but plain path characters. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** `lft eval MODEL --task ...` from the config's keys (each marked as carried over). */
export function lfEvalCommand(r: Reader, model: string): string {
  const words = ["lft", "eval", shellWord(model)];
  const flags: [string, string][] = [
    ["adapter_name_or_path", "--adapter"],
    ["template", "--template"],
    ["task", "--task"],
    ["task_dir", "--task-dir"],
    ["lang", "--lang"],
    ["n_shot", "--n-shot"],
    ["batch_size", "--batch-size"],
    ["seed", "--seed"],
    ["save_dir", "--save-dir"],
  ];
  for (const [key, flag] of flags) {
    const v = r.string(key);
    if (v !== undefined) words.push(flag, shellWord(v));
  }
  // LF's default task_dir is "evaluation"; lft eval's is too.
  for (const key of ["finetuning_type", "download_mode"]) r.take(key);
  return words.join(" ");
}
