// ModelSpec: what generic code (loading, generation, training, LoRA targeting, planning) needs to know
// about any model, read from a Hugging Face config.json by the model's family. A family's own spec type
// extends it with what its modules need. ConfigReader: typed reads of config keys, every problem recorded.
import type { RopeSpec } from "./rope.ts";

export type HfConfig = Readonly<Record<string, unknown>>;

export interface ModelSpec {
  /** The name of the registry family that built it. */
  family: string;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  /** Positions and their rotary frequencies (every family shipped uses RoPE; maxPositionEmbeddings bounds prompts). */
  rope: RopeSpec;
  /**
   * Further RoPEs by key, for families whose layers rotate differently (Gemma 3's local layers: another
   * theta, no scaling); a layer names its key in its HeadsConfig.rope, the others use `rope`.
   */
  ropeVariants?: Readonly<Record<string, RopeSpec>>;
  tieWordEmbeddings: boolean;
  initializerRange: number;
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number | null;
  /** The config.json this came from: saveModel writes it back as it was. */
  config: HfConfig;
}

/** Typed reads of config keys; each failure is recorded (with the key) instead of thrown. */
export class ConfigReader {
  readonly problems: string[] = [];
  constructor(
    readonly config: HfConfig,
    /** Where the config came from, for messages (`models/tiny/config.json`). */
    readonly where = "config.json",
  ) {}

  has(key: string): boolean {
    return this.config[key] !== undefined && this.config[key] !== null;
  }

  private problem(key: string, want: string, got: unknown): void {
    this.problems.push(`${this.where}: "${key}" must be ${want}, got ${got === undefined ? "nothing" : JSON.stringify(got)}`);
  }

  /** A positive integer (or >= 0 with min 0); `fallback` when absent. */
  int(key: string, fallback?: number, min = 1): number {
    const v = this.config[key];
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
      this.problem(key, min === 1 ? "a positive integer" : `an integer >= ${min}`, v);
      return fallback ?? min;
    }
    return v;
  }

  num(key: string, fallback?: number): number {
    const v = this.config[key];
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    if (typeof v !== "number" || !Number.isFinite(v)) {
      this.problem(key, "a finite number", v);
      return fallback ?? 0;
    }
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.config[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "boolean") {
      this.problem(key, "true or false", v);
      return fallback;
    }
    return v;
  }

  str(key: string, fallback?: string): string {
    const v = this.config[key];
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    if (typeof v !== "string") {
      this.problem(key, "a string", v);
      return fallback ?? "";
    }
    return v;
  }

  /** A token id or a list of them (eos_token_id may be either); [] when absent. */
  ids(key: string): number[] {
    const v = this.config[key];
    if (v === undefined || v === null) return [];
    const list = Array.isArray(v) ? v : [v];
    if (!list.every((x) => typeof x === "number" && Number.isInteger(x))) {
      this.problem(key, "a token id or a list of token ids", v);
      return [];
    }
    return list as number[];
  }

  /** Records a problem found by the caller. */
  fail(message: string): void {
    this.problems.push(`${this.where}: ${message}`);
  }
}
