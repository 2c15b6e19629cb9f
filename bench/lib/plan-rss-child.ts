// Child process of the planner's RSS check: loads lft (core, CPU backend, built-in plugins, the CLI)
// and, unless `--baseline`, runs the recipe given; prints {"maxRssBytes": N} as its last line.
import { readFileSync } from "node:fs";
import { main } from "../../dsl/cli.ts";
import "../../lft.ts";

const [file, cwd] = process.argv.slice(2);
if (file && file !== "--baseline") {
  const sink = (): void => {};
  const code = await main([file], { stdout: sink, stderr: (t) => process.stderr.write(t), cwd: cwd ?? process.cwd() });
  if (code !== 0) process.exit(code);
}
// VmHWM, not getrusage's maxRSS: Linux carries maxRSS over exec from the forked parent (a test
// runner holding hundreds of MB), while VmHWM belongs to this process's own address space.
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
console.log(JSON.stringify({ maxRssBytes: hwm ? Number(hwm[1]) * 1024 : process.resourceUsage().maxRSS * 1024 }));
