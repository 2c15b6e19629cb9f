#!/usr/bin/env python3
"""Logit parity of lft against Hugging Face transformers, one row per family (and per quirk variant).

    node_modules/.bin/bun bench/parity/dump-logits.ts --out tmp/parity     # where lft runs (Bun)
    python3 bench/parity/parity.py --dir tmp/parity                        # where torch + transformers are

dump-logits.ts writes, per case, a tiny checkpoint in Hugging Face layout with lft's float32 logits for fixed
ids beside it (lft-logits.npy, lft-inputs.json). Here transformers loads each folder with
AutoModelForCausalLM.from_pretrained(folder, float32, eager attention), runs the same ids, and the two are
compared: max_rel = max |lft - hf| / max |hf| over all B x T x V logits of the case (the measure lft's own
tests use against their float64 reference). Target: max_rel < 1e-4. Eager attention on the CPU by default:
no TF32, no fused kernels that round differently. Prints a table, writes bench/results/parity.json, and
exits 1 if any case misses the target or fails to load.
"""

import argparse
import datetime
import json
import os
import platform
import sys
import traceback

TARGET = 1e-4


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", default="tmp/parity", help="folder dump-logits.ts wrote (one sub-folder per case)")
    ap.add_argument("--out", default=os.path.join(here, "..", "results", "parity.json"), help="results JSON")
    ap.add_argument("--device", default="cpu", help="torch device (cpu keeps float32 exact; cuda runs with TF32 off)")
    args = ap.parse_args()

    try:
        import numpy as np
        import torch
        import transformers
        from transformers import AutoModelForCausalLM
    except ImportError as e:
        print(f"parity.py needs numpy, torch and transformers: {e}", file=sys.stderr)
        return 2

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_grad_enabled(False)
    # transformers >= 4.56 names the load dtype `dtype`; older versions call it `torch_dtype`.
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    dtype_kw = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"

    manifest_path = os.path.join(args.dir, "manifest.json")
    if not os.path.exists(manifest_path):
        print(f"{manifest_path} not found: run bench/parity/dump-logits.ts first", file=sys.stderr)
        return 2
    with open(manifest_path) as f:
        manifest = json.load(f)

    rows = []
    for entry in manifest["cases"]:
        name = entry["case"]
        folder = os.path.join(args.dir, name)
        row = {"case": name, "family": entry["family"], "vocab": entry["vocab"]}
        try:
            with open(os.path.join(folder, "lft-inputs.json")) as f:
                ids = torch.tensor(json.load(f)["ids"], dtype=torch.long, device=args.device)
            lft = np.load(os.path.join(folder, "lft-logits.npy")).astype(np.float64)
            model, info = AutoModelForCausalLM.from_pretrained(
                folder, attn_implementation="eager", output_loading_info=True, **{dtype_kw: torch.float32}
            )
            # A tensor transformers did not find (or did not use) would be initialised at random: report it.
            # A tied lm_head is stored nowhere (it is the embedding matrix); some versions still list it.
            tied = getattr(model.config, "tie_word_embeddings", False)
            info["missing_keys"] = [k for k in info.get("missing_keys", []) if not (tied and k == "lm_head.weight")]
            bad = {k: sorted(map(str, v))[:8] for k, v in info.items() if k in ("missing_keys", "unexpected_keys", "mismatched_keys") and v}
            if bad:
                raise RuntimeError(f"checkpoint and {type(model).__name__} disagree: {bad}")
            if any(p.dtype != torch.float32 for p in model.parameters()):
                raise RuntimeError("model did not load in float32")
            model.to(args.device).eval()
            hf = model(input_ids=ids, use_cache=False).logits.double().cpu().numpy()
            if hf.shape != lft.shape:
                raise RuntimeError(f"logits shape: transformers {hf.shape}, lft {lft.shape}")
            diff = np.abs(lft - hf)
            row.update(
                model_class=type(model).__name__,
                max_abs=float(diff.max()),
                max_abs_hf=float(np.abs(hf).max()),
                max_rel=float(diff.max() / max(np.abs(hf).max(), 1e-6)),
                argmax_agree=float((lft.argmax(-1) == hf.argmax(-1)).mean()),
            )
            row["pass"] = row["max_rel"] < TARGET
        except Exception as e:  # one broken case must not hide the others
            row.update(error=f"{type(e).__name__}: {e}", trace=traceback.format_exc(limit=3), max_rel=None)
            row["pass"] = False
        rows.append(row)

    print(f"transformers {transformers.__version__}, torch {torch.__version__}, device {args.device}, target max_rel < {TARGET:g}")
    print(f"| {'case':<20} | {'family':<8} | {'max_rel':>10} | {'max_abs':>10} | {'argmax':>6} | ok |")
    print(f"|{'-' * 22}|{'-' * 10}|{'-' * 12}|{'-' * 12}|{'-' * 8}|----|")
    for r in rows:
        if r.get("error"):
            print(f"| {r['case']:<20} | {r['family']:<8} | {'error':>10} | {'':>10} | {'':>6} | no | {r['error']}")
        else:
            print(f"| {r['case']:<20} | {r['family']:<8} | {r['max_rel']:>10.2e} | {r['max_abs']:>10.2e} | {r['argmax_agree']:>6.3f} | {'yes' if r['pass'] else 'NO'} |")

    result = {
        "name": "parity",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "revision": manifest.get("revision", "unknown"),
        "lft_dump": {"date": manifest.get("date"), "machine": manifest.get("machine"), "batch": manifest.get("batch"), "tokens": manifest.get("tokens")},
        "machine": {
            "host": platform.platform(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "device": args.device,
            "gpu": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else None,
        },
        "measure": "max |lft - hf| / max |hf| over all logits of a case; float32 weights, eager attention",
        "target": TARGET,
        "all_pass": all(r["pass"] for r in rows),
        "cases": rows,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out}")
    return 0 if result["all_pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
