// Command-line arguments of one verb: the parser is part of the command contract (core/command/args.ts),
// shared by the DSL's verbs and plugins' verbs.
export { type ArgSpec, type Args, parseArgs } from "../core/index.ts";
