// `lft data preview NAME|FILE --model MODEL_DIR [--dataset-dir DIR] [--format F] [--template T] [--stage S]
// [--count N] [--max-json-bytes N] [--max-row-chars N]`: a few samples encoded by the stage's processor,
// masked (unlearned) spans marked, and token counts. NAME is a dataset_info.json entry (an hf_hub_url
// entry is fetched first); FILE a data file (json, jsonl, csv, parquet, txt) whose format comes from
// --format or its first row, and whose default stage from that format (data-file.ts). MODEL_DIR may be a
// Hugging Face id. The two limits are the data options max_json_bytes and max_row_chars.
import { ok, type Result } from "neverthrow";
import {
  type CommandEntry,
  type CommandIO,
  type DatasetInfo,
  DEFAULT_READ_LIMITS,
  fileType,
  loadDatasetInfo,
  loadTokenizer,
  localDatasetEntry,
  pathKind,
  type Registry,
  resolveModelPath,
} from "../../core/index.ts";
import { fileDataset } from "./data-file.ts";
import { previewDataset } from "./data-preview.ts";
import { ExitCode, intOption, parseOrUsage, pathIn } from "./shared.ts";

const usage =
  "preview NAME|FILE --model MODEL_DIR [--dataset-dir DIR] [--format F] [--template T] [--stage S] [--count N] [--max-json-bytes N] [--max-row-chars N]";

export const dataCommand: CommandEntry = {
  name: "data",
  doc: "preview how a dataset is templated and masked for a model's tokenizer",
  usage,
  scope: "both",
  async run(argv, io, session) {
    const args = parseOrUsage(
      "data",
      usage,
      argv,
      { positional: [2, 2], values: ["--dataset-dir", "--model", "--format", "--template", "--stage", "--count", "--max-json-bytes", "--max-row-chars"] },
      io,
    );
    if (typeof args === "number") return args;
    const [verb, name] = args.positional as [string, string];
    const model = args.values.get("--model");
    const count = intOption(args, "--count", 3);
    const maxJsonBytes = intOption(args, "--max-json-bytes", DEFAULT_READ_LIMITS.maxJsonBytes);
    const maxRowChars = intOption(args, "--max-row-chars", DEFAULT_READ_LIMITS.maxRowChars);
    for (const bad of [maxJsonBytes, maxRowChars]) {
      if (typeof bad !== "string") continue;
      io.stderr(`lft data: ${bad}\nusage: lft data ${usage}\n`);
      return ExitCode.usage;
    }
    const limits = { maxJsonBytes: maxJsonBytes as number, maxRowChars: maxRowChars as number };
    if (verb !== "preview" || !model || typeof count === "string") {
      io.stderr(
        `lft data: ${typeof count === "string" ? count : verb !== "preview" ? `unknown action "${verb}"` : "--model MODEL_DIR is required"}\nusage: lft data ${usage}\n`,
      );
      return ExitCode.usage;
    }
    // A FIFO or device named as the data is refused before the model loads (opening a FIFO would block).
    const path = pathIn(io, name);
    const kind = pathKind(path);
    if (kind.kind === "special") {
      io.stderr(`lft data: ${path} is ${kind.what}, not a regular file; lft reads data only from regular files and folders of them\n`);
      return ExitCode.recipeError;
    }
    // A local folder wins; an `org/name[@rev]` id comes from the Hugging Face cache (or is downloaded).
    const modelDir = await resolveModelPath(session.registry, model, io.cwd, io);
    if (modelDir.isErr()) {
      io.stderr(`lft data: ${modelDir.error.message}\n`);
      return ExitCode.ioError;
    }
    const tokenizer = loadTokenizer(modelDir.value);
    if (tokenizer.isErr()) {
      io.stderr(`lft data: ${tokenizer.error.message}\n`);
      return ExitCode.ioError;
    }
    const datasetDir = pathIn(io, args.values.get("--dataset-dir") ?? "data");
    const format = args.values.get("--format");
    let dataset = name;
    let datasetInfo: DatasetInfo | undefined;
    let stage = args.values.get("--stage");
    if (kind.kind === "file" && fileType(path) !== undefined) {
      const file = await fileDataset(path, format, limits);
      if (file.isErr()) {
        io.stderr(`lft data: ${file.error.message}\n`);
        return ExitCode.ioError;
      }
      ({ name: dataset, info: datasetInfo } = file.value);
      stage ??= file.value.stage;
    } else if (format !== undefined) {
      io.stderr(`lft data: --format applies to a data file; "${name}" is not one (a dataset_info.json entry names its own formatting)\n`);
      return ExitCode.usage;
    } else {
      const info = await hubDatasetInfo(datasetDir, name, session.registry, io);
      if (info.isErr()) {
        io.stderr(`lft data: ${info.error.message}\n`);
        return ExitCode.runFailed;
      }
      datasetInfo = info.value;
    }
    const shown = await previewDataset({
      registry: session.registry,
      tokenizer: tokenizer.value,
      datasetDir,
      dataset,
      datasetInfo,
      template: args.values.get("--template"),
      stage,
      count,
      limits,
      color: process.stdout.isTTY === true,
      onProgress: (line) => io.stderr(`\r${line}`),
    });
    if (shown.isErr()) {
      // The dataset cannot be read as given (outside its folder, a special file, bad rows under strict): bad input.
      io.stderr(`lft data: ${shown.error.message}\n`);
      return ExitCode.recipeError;
    }
    io.stdout(`${shown.value}\n`);
    return ExitCode.ok;
  },
};

/** dataset_info.json with the named entry made local when it is on a hub; undefined when there is nothing to change. */
async function hubDatasetInfo(dir: string, name: string, registry: Registry, io: CommandIO): Promise<Result<DatasetInfo | undefined, Error>> {
  const info = await loadDatasetInfo(dir);
  if (info.isErr()) return ok(undefined); // previewDataset reports the missing file itself
  const entry = info.value[name];
  if (typeof entry !== "object" || entry === null) return ok(undefined);
  const local = await localDatasetEntry(entry as Record<string, unknown>, name, registry, io);
  return local.map((made) => ({ ...info.value, [name]: made }));
}
