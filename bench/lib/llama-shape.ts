// The Llama config.json the training benches build from their shape tables (dim, layers, heads, kv heads,
// ffn, vocab, seq): untied head, RMSNorm eps 1e-5, rope theta 10000, SiLU.

export interface LlamaBenchShape {
  readonly dim: number;
  readonly layers: number;
  readonly heads: number;
  readonly kv: number;
  readonly ffn: number;
  readonly vocab: number;
  readonly seq: number;
}

export function llamaBenchConfig(shape: LlamaBenchShape): Record<string, unknown> {
  return {
    model_type: "llama",
    architectures: ["LlamaForCausalLM"],
    hidden_size: shape.dim,
    intermediate_size: shape.ffn,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.kv,
    vocab_size: shape.vocab,
    max_position_embeddings: shape.seq,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: false,
    hidden_act: "silu",
  };
}
