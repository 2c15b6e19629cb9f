// The knobs the processors read, resolved from the data options (LLaMA-Factory's names).
export interface ProcessOptions {
  /** Token budget per sample (LLaMA-Factory's cutoff_len). */
  readonly cutoffLen: number;
  /** Learn the prompt tokens too. */
  readonly trainOnPrompt: boolean;
  /** Learn only the last turn of a conversation. */
  readonly maskHistory: boolean;
  /** PT: concatenate into cutoff_len blocks. SFT: pack samples into cutoff_len sequences. */
  readonly packing: boolean;
  /** SFT packing without cross-sample attention: segment ids and restarting positions. */
  readonly neatPacking: boolean;
}
