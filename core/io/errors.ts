// Errors of checkpoint and config I/O. Each names the file it is about, and the tensor, config key or
// line:col inside it, so a user can go straight to the problem.

/** A safetensors file or checkpoint folder that cannot be read, or a tensor that cannot be loaded. */
export class CheckpointError extends Error {
  override name = "CheckpointError";
  constructor(
    readonly file: string,
    detail: string,
    readonly tensor?: string,
  ) {
    super(`${file}: ${tensor === undefined ? "" : `tensor "${tensor}": `}${detail}`);
  }
}

/** A JSON config that is missing, malformed, or holds a value of the wrong type. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(
    readonly file: string,
    detail: string,
    readonly where: { line?: number; col?: number; key?: string } = {},
  ) {
    const at = where.line === undefined ? "" : `:${where.line}:${where.col ?? 1}`;
    super(`${file}${at}: ${where.key === undefined ? "" : `key "${where.key}": `}${detail}`);
  }
}
