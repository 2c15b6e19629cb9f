"""The PyTorch + PEFT peer for bench/gpu.bench.ts: one LoRA training step of a Llama-3-8B-shaped model with
random weights, the same shape and adapters lft trains in that benchmark.

Model: transformers' LlamaForCausalLM (hidden 4096, intermediate 14336, 32 heads, 8 KV heads, vocab 128256,
rope theta 500000), weights in bf16, SDPA attention, no gradient checkpointing. Adapters: PEFT LoRA r=16,
alpha=32, dropout 0, on q/k/v/o/gate/up/down (PEFT keeps the adapter weights in f32). Optimizer:
torch.optim.AdamW (fused when available) over the adapter weights. One step = forward with labels, backward,
optimizer step, zero_grad, on random token ids of one sequence of --seq tokens.

Run on the GPU machine (the benchmark calls it; it needs torch, transformers and peft):
    python3 bench/gpu_peft_step.py [--layers 32] [--seq 2048] [--batch 1] [--rank 16] [--alpha 32] [--steps 3] [--json out.json]
Writes (and prints) one JSON object: tokens_per_s (median step), step_s, peak_gib (torch.cuda.max_memory_allocated
during the measured steps), parameter counts and library versions.
"""

import argparse
import json
import statistics
import time


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--layers", type=int, default=32)
    p.add_argument("--seq", type=int, default=2048)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--rank", type=int, default=16)
    p.add_argument("--alpha", type=int, default=32)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--json", default=None)
    a = p.parse_args()

    import peft
    import torch
    import transformers
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaConfig, LlamaForCausalLM

    if not torch.cuda.is_available():
        raise SystemExit("gpu_peft_step.py: torch sees no CUDA device")
    dev = torch.device("cuda")
    torch.manual_seed(0)
    config = LlamaConfig(
        hidden_size=4096,
        intermediate_size=14336,
        num_hidden_layers=a.layers,
        num_attention_heads=32,
        num_key_value_heads=8,
        vocab_size=128256,
        max_position_embeddings=max(8192, a.seq),
        rope_theta=500000.0,
        rms_norm_eps=1e-5,
        tie_word_embeddings=False,
        attn_implementation="sdpa",
    )
    # Random init straight on the GPU in bf16 (as a bf16 checkpoint would be loaded).
    prev = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    with dev:
        model = LlamaForCausalLM(config)
    torch.set_default_dtype(prev)
    model.config.use_cache = False
    lora = LoraConfig(
        r=a.rank,
        lora_alpha=a.alpha,
        lora_dropout=0.0,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, lora)
    model.train()
    trainable = [q for q in model.parameters() if q.requires_grad]
    try:
        opt = torch.optim.AdamW(trainable, lr=1e-4, fused=True)
    except (TypeError, RuntimeError):
        opt = torch.optim.AdamW(trainable, lr=1e-4)

    g = torch.Generator(device="cpu").manual_seed(99)
    ids = torch.randint(0, config.vocab_size, (a.batch, a.seq), generator=g).to(dev)

    def step() -> float:
        out = model(input_ids=ids, labels=ids)
        out.loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return float(out.loss.detach())

    for _ in range(a.warmup):
        step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    times = []
    loss = 0.0
    for _ in range(a.steps):
        t0 = time.perf_counter()
        loss = step()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    step_s = statistics.median(times)
    result = {
        "tokens_per_s": a.batch * a.seq / step_s,
        "step_s": step_s,
        "step_times_s": times,
        "peak_gib": torch.cuda.max_memory_allocated() / 2**30,
        "loss": loss,
        "layers": a.layers,
        "seq": a.seq,
        "batch": a.batch,
        "rank": a.rank,
        "trainable_params": sum(q.numel() for q in trainable),
        "total_params": sum(q.numel() for q in model.parameters()),
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
        "attention": "sdpa",
        "dtype": "bf16 base, f32 adapters",
    }
    text = json.dumps(result)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
