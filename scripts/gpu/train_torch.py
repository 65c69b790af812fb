#!/usr/bin/env python3
"""Trains a TextVAE model with PyTorch: on a CUDA GPU, on several under torchrun, or on the CPU.

The architecture and objective mirror src/core/model.ts and src/core/objective.ts weight for
weight, so the result loads in the extension like any other bundle. The dataset, tokenizer and
split come from scripts/gpu/export-dataset.ts (the engine's own code); scripts/gpu/import-model.ts
turns this script's output into a bundle and re-checks the loss in the engine.

Before training, the script reproduces the engine's loss for a reference model on the first
validation examples (dataset.json's "parity") and refuses to train if it differs.

A dataset exported with --from DIR (dataset.json's "from") is a warm start: the model is DIR's
architecture and training starts from DIR's weights (parity/, the weights the check just ran on).

  python3 scripts/gpu/train_torch.py --data gpu-data --out run --minutes 9 [--dilations 1,2,4,8,16]
  torchrun --nproc_per_node 8 scripts/gpu/train_torch.py --data gpu-data --out run --minutes 9

Under torchrun (WORLD_SIZE > 1) it trains with DistributedDataParallel: --batch-size stays the global
batch, each process takes its rows of it, and the steps equal one process's on that batch.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

PAD, BOS, EOS, MASK = 0, 1, 2, 3


def weight_shapes(c):
    """Same names, shapes and order as weightShapes() in src/core/model.ts."""
    D, K, L, Z = c["modelDim"], c["kernelSize"], len(c["decoderDilations"]), c["latentDim"]
    pool, mem = c.get("poolSlots"), c.get("memorySlots")
    pooled = (pool or 2) * D  # mean and max, or one vector per attention slot
    s = {
        "embed": [c["vocabSize"], D],
        "position": [c["maxTokens"] + 1, D],
        "enc.mu.w": [pooled, Z],
        "enc.mu.b": [Z],
        "enc.logvar.w": [pooled, Z],
        "enc.logvar.b": [Z],
        "dec.z.w": [Z, L * D],
        "dec.z.b": [L * D],
        "out.norm": [D],
        "out.b": [c["vocabSize"]],
        "latent.mean": [Z],
        "latent.std": [Z],
    }
    if c.get("codeScheme") == "precision":
        s["latent.step"] = [Z]  # tvae2 codes' quantisation steps: a statistic, like mean and std
    if pool:
        s["enc.pool.q"] = [pool, D]
    if mem:
        s["dec.mem.w"], s["dec.mem.b"] = [Z, mem * D], [mem * D]
    for i in range(c["encoderLayers"]):
        s[f"enc.{i}.w"], s[f"enc.{i}.b"], s[f"enc.{i}.norm"] = [K * D, D], [D], [D]
    for i in range(L):
        s[f"dec.{i}.w"], s[f"dec.{i}.b"], s[f"dec.{i}.norm"] = [K * D, D], [D], [D]
        if mem:
            s[f"dec.{i}.mk"], s[f"dec.{i}.mv"] = [D, D], [D, D]
    return s


def initial_weights(c, gen):
    """The initialisation of initialWeights() in model.ts (same scales, another random stream)."""
    out = {}
    for name, shape in weight_shapes(c).items():
        if name.endswith(".norm") or name in ("latent.std", "latent.step"):
            t = torch.ones(shape)
        elif len(shape) == 1 or name == "latent.mean":
            t = torch.zeros(shape)
        elif name in ("embed", "position"):
            t = torch.randn(shape, generator=gen) * 0.05
        else:
            small = name.startswith(("enc.logvar", "dec.z")) or name.endswith(".mv") or name == "dec.mem.w"
            gain = 0.1 if small else 1.0
            t = torch.randn(shape, generator=gen) * (gain / math.sqrt(shape[0]))
        out[name] = t
    return out


class TextVae(torch.nn.Module):
    def __init__(self, config, weights):
        super().__init__()
        self.c = config
        # ParameterDict keys cannot hold '.', so names are stored with '/'.
        self.p = torch.nn.ParameterDict({
            k.replace(".", "/"): torch.nn.Parameter(v.clone().float(), requires_grad=not k.startswith("latent."))
            for k, v in weights.items()
        })

    def w(self, name):
        return self.p[name.replace(".", "/")]

    @staticmethod
    def rms_norm(x, gain):
        return x * torch.rsqrt(x.square().mean(-1, keepdim=True) + 1e-5) * gain

    @staticmethod
    def shift_right(x, s):
        if s == 0:
            return x
        T = x.shape[1]
        if s >= T:
            return torch.zeros_like(x)
        return F.pad(x[:, : T - s], (0, 0, s, 0))

    @staticmethod
    def shift_left(x, s):
        if s == 0:
            return x
        T = x.shape[1]
        if s >= T:
            return torch.zeros_like(x)
        return F.pad(x[:, s:], (0, 0, 0, s))

    def conv_layer(self, prefix, taps, residual, bias=None, keep=None):
        u = taps @ self.w(f"{prefix}.w") + self.w(f"{prefix}.b")
        if bias is not None:
            u = u + bias
        branch = torch.relu(u)
        if keep is not None:  # train-time dropout: a mask drawn by the caller, scaled by 1/(keep rate)
            branch = branch * keep[0] * keep[1]
        return self.rms_norm(residual + branch, self.w(f"{prefix}.norm"))

    def encode(self, tokens, keep=None):
        c = self.c
        mask = (tokens != PAD).float().unsqueeze(-1)
        h = self.w("embed")[tokens]
        if c.get("encoderPositions"):
            h = h + self.w("position")[: tokens.shape[1]]
        h = h * mask
        half = c["kernelSize"] // 2
        dilations = c.get("encoderDilations") or [1] * c["encoderLayers"]
        for i in range(c["encoderLayers"]):
            taps = []
            for k in range(c["kernelSize"]):
                off = (k - half) * dilations[i]
                taps.append(self.shift_right(h, -off) if off < 0 else self.shift_left(h, off))
            k = None if keep is None else (keep[0][i], keep[1])
            h = self.conv_layer(f"enc.{i}", torch.cat(taps, -1), h, None, k) * mask
        pooled = self.attention_pool(h, mask) if c.get("poolSlots") else self.mean_max_pool(h, mask)
        mu = pooled @ self.w("enc.mu.w") + self.w("enc.mu.b")
        if c["variant"] != "vae":
            return (torch.relu(mu) if c["variant"] == "sparse" else mu), torch.zeros_like(mu)
        logvar = (pooled @ self.w("enc.logvar.w") + self.w("enc.logvar.b")).clamp(-12, 6)
        return mu, logvar

    @staticmethod
    def mean_max_pool(h, mask):
        mean_pool = h.sum(1) / mask.sum(1).clamp_min(1)
        max_pool = (h + (mask - 1) * 1e4).max(1).values  # padding never wins the max
        return torch.cat([mean_pool, max_pool], -1)

    def attention_pool(self, h, mask):
        """attentionPool() of model.ts: each learned query averages the positions by softmax, [B, S * D]."""
        B, T, D = h.shape
        scores = h @ self.w("enc.pool.q").t() / math.sqrt(D) + (mask - 1) * 1e4  # [B, T, S], padding pushed out
        return (torch.softmax(scores.transpose(1, 2), -1) @ h).reshape(B, -1)

    def memory(self, z):
        """memory() of model.ts: z as slots, read by each decoder layer through its keys and values [B, M, D]."""
        M = self.c.get("memorySlots")
        if not M:
            return None
        B, D = z.shape[0], self.c["modelDim"]
        slots = (z @ self.w("dec.mem.w") + self.w("dec.mem.b")).view(B, M, D)
        return [(slots @ self.w(f"dec.{i}.mk"), slots @ self.w(f"dec.{i}.mv")) for i in range(len(self.c["decoderDilations"]))]

    def decode_logits(self, z, dec_in, keep=None):
        c = self.c
        B, T1 = dec_in.shape
        D, L = c["modelDim"], len(c["decoderDilations"])
        h = self.w("embed")[dec_in] + self.w("position")[:T1]
        zb = (z @ self.w("dec.z.w") + self.w("dec.z.b")).view(B, L, D)
        memory = self.memory(z)
        for i, d in enumerate(c["decoderDilations"]):
            taps = torch.cat([self.shift_right(h, k * d) for k in range(c["kernelSize"])], -1)
            k = None if keep is None else (keep[0][i], keep[1])
            bias = zb[:, i : i + 1]
            if memory is not None:
                # readMemory(): the layer input attends to the slots; the read-out joins z's bias.
                keys, values = memory[i]
                bias = bias + torch.softmax(h @ keys.transpose(1, 2) / math.sqrt(D), -1) @ values
            h = self.conv_layer(f"dec.{i}", taps, h, bias, k)
        normed = self.rms_norm(h, self.w("out.norm"))
        return normed @ self.w("embed").t() + self.w("out.b")

    def objective(self, tokens, dec_in, targets, noise, beta, free_nats, l1_weight, ae_phase,
                  keep=None, batch=None, batch_tokens=None):
        """objective() of src/core/objective.ts; returns (loss, recon, kl, kl_per_dim, correct, ntok, mu).

        On one shard of a global batch (DDP): batch and batch_tokens are the global batch's rows and
        target tokens, and the KL per dimension is all-reduced, so the free-bits clamp sees the global
        batch. The loss is then this shard's part of the global batch's loss: the parts sum to it.
        keep: (encoder masks, decoder masks, scale) for dropout on the residual branches."""
        mu, logvar = self.encode(tokens, None if keep is None else (keep[0], keep[2]))
        is_vae = self.c["variant"] == "vae" and not ae_phase
        z = mu + torch.exp(0.5 * logvar) * noise if (is_vae and noise is not None) else mu
        logits = self.decode_logits(z, dec_in, None if keep is None else (keep[1], keep[2]))
        V = logits.shape[-1]
        flat_t = targets.reshape(-1)
        mask = (flat_t != PAD).float()
        nll = F.cross_entropy(logits.reshape(-1, V).float(), flat_t, reduction="none")
        recon = (nll * mask).sum()
        ntok = mask.sum()
        correct = ((logits.reshape(-1, V).argmax(-1) == flat_t).float() * mask).sum()
        B = tokens.shape[0] if batch is None else batch
        if self.c["variant"] == "vae":
            kl_rows = 0.5 * (mu.square() + logvar.exp() - logvar - 1)
            if batch is not None:
                kl_sum = kl_rows.sum(0)
                kl_all = kl_sum.detach().clone()
                dist.all_reduce(kl_all)
                # The global batch's value with this shard's gradient: summed over shards, one process's gradient.
                kl_per_dim = (kl_sum + (kl_all - kl_sum.detach())) / B
            else:
                kl_per_dim = kl_rows.mean(0)
        else:
            kl_per_dim = torch.zeros(mu.shape[1], device=mu.device)
        kl = kl_per_dim.sum() * B
        total = recon
        if is_vae:
            # beta may be a tensor (so a compiled step is not recompiled as it anneals).
            total = total + torch.clamp_min(kl_per_dim, free_nats).sum() * (B * beta)
        if self.c["variant"] == "sparse" and l1_weight > 0:
            total = total + mu.abs().sum() * l1_weight
        norm = ntok if batch_tokens is None else batch_tokens
        return total / norm.clamp_min(1), recon, kl, kl_per_dim, correct, ntok, mu

    forward = objective  # DistributedDataParallel calls forward


def make_batch(tokens, lengths, dropout, gen=None):
    """makeBatch() of model.ts at a fixed padded length (extra PAD columns change nothing)."""
    B, T = tokens.shape
    dev = tokens.device
    bos = torch.full((B, 1), BOS, dtype=tokens.dtype, device=dev)
    body = tokens
    if dropout > 0:
        drop = (torch.rand(B, T, device=dev, generator=gen) < dropout) & (tokens != PAD)
        body = torch.where(drop, torch.full_like(tokens, MASK), tokens)
    dec_in = torch.cat([bos, body], 1)
    targets = torch.cat([tokens, torch.full((B, 1), PAD, dtype=tokens.dtype, device=dev)], 1)
    targets = targets.scatter(1, lengths.unsqueeze(1), EOS)
    return tokens, dec_in, targets


def read_weights(folder, shapes, allow_extra=False):
    """weights.json + weights.bin as src/core/bundle.ts writes them: float32, or float16 (offsets count
    elements of each tensor's own dtype)."""
    index = json.load(open(os.path.join(folder, "weights.json")))
    raw = np.fromfile(os.path.join(folder, "weights.bin"), dtype=np.uint8)
    kinds = {"float32": "<f4", "float16": "<f2"}
    out = {}
    for t in index["tensors"]:
        kind = kinds.get(t.get("dtype", index["dtype"]))
        if kind is None:
            raise SystemExit(f"train_torch: {folder}/weights.json: unsupported dtype in tensor {t['name']}")
        size = np.dtype(kind).itemsize
        start = t["offset"] * size
        data = raw[start : start + t["length"] * size].view(kind).astype(np.float32)
        out[t["name"]] = torch.from_numpy(data).view(t["shape"])
    check_shapes(folder, out, shapes, allow_extra)
    return out


def check_shapes(folder, weights, shapes, allow_extra=False):
    """Refuses weights that do not fit the model, naming the first tensor that differs (in weight_shapes order)."""
    for name, shape in shapes.items():
        if name not in weights:
            raise SystemExit(f"train_torch: {folder} does not fit the model: it lacks {name} {shape}")
        if list(weights[name].shape) != list(shape):
            raise SystemExit(f"train_torch: {folder} does not fit the model: {name} is {list(weights[name].shape)}, "
                             f"the model's config wants {list(shape)}")
    extra = sorted(set(weights) - set(shapes))
    if extra and not allow_extra:
        raise SystemExit(f"train_torch: {folder} does not fit the model: it has {extra[0]}, which the config has no place for")


def write_weights(folder, model):
    """weights.json + weights.bin as src/core/bundle.ts reads them."""
    os.makedirs(folder, exist_ok=True)
    tensors, chunks, offset = [], [], 0
    for name, shape in weight_shapes(model.c).items():
        arr = model.w(name).detach().float().cpu().numpy().astype("<f4").reshape(-1)
        assert list(model.w(name).shape) == shape, name
        tensors.append({"name": name, "shape": shape, "offset": offset, "length": int(arr.size)})
        chunks.append(arr)
        offset += arr.size
    tmp = os.path.join(folder, ".weights.bin.tmp")
    np.concatenate(chunks).tofile(tmp)
    os.replace(tmp, os.path.join(folder, "weights.bin"))
    with open(os.path.join(folder, ".weights.json.tmp"), "w") as f:
        json.dump({"dtype": "float32", "littleEndian": True, "tensors": tensors}, f)
    os.replace(os.path.join(folder, ".weights.json.tmp"), os.path.join(folder, "weights.json"))


def load_examples(folder, split, max_tokens, device):
    toks = np.fromfile(os.path.join(folder, f"{split}.tokens"), dtype="<u2").astype(np.int64).reshape(-1, max_tokens)
    nbytes = np.fromfile(os.path.join(folder, f"{split}.bytes"), dtype="<u4").astype(np.int64)
    assert toks.shape[0] == nbytes.shape[0], f"{split}: token and byte files disagree"
    t = torch.from_numpy(toks).to(device)
    return t, (t != PAD).sum(1), torch.from_numpy(nbytes).to(device)


@torch.no_grad()
def evaluate(model, toks, lens, nbytes, gen, batch=256):
    """evaluate() of src/core/evaluate.ts: sampled z, beta 1, no free bits."""
    recon = kl = correct = ntok = 0.0
    mus = []
    for i in range(0, toks.shape[0], batch):
        t, l = toks[i : i + batch], lens[i : i + batch]
        enc, dec_in, tgt = make_batch(t, l, 0.0)
        noise = torch.randn(t.shape[0], model.c["latentDim"], device=t.device, generator=gen)
        _, r, k, _, c, n, mu = model.objective(enc, dec_in, tgt, noise, 1.0, 0.0, 0.0, False)
        recon += r.item(); kl += k.item(); correct += c.item(); ntok += n.item()
        mus.append(mu)
    mu = torch.cat(mus)
    total_bytes = max(1, int(nbytes.sum().item()))
    au = int((mu.var(0, unbiased=True) > 0.01).sum().item()) if mu.shape[0] > 1 else 0
    return {
        "bits_per_byte": (recon + kl) / math.log(2) / total_bytes,
        "recon_bits_per_byte": recon / math.log(2) / total_bytes,
        "kl_bits_per_byte": kl / math.log(2) / total_bytes,
        "kl_nats": kl / toks.shape[0],
        "active_units": au,
        "token_accuracy": correct / max(1.0, ntok),
    }


def check_parity(meta, data_dir, device):
    p = meta.get("parity")
    if not p:
        say("train_torch: no parity reference in the dataset; skipping the check", err=True)
        return None
    folder = os.path.join(data_dir, "parity")
    cfg = json.load(open(os.path.join(folder, "config.json")))
    # Extra tensors leave the loss alone: the loss itself is the check here.
    model = TextVae(cfg, read_weights(folder, weight_shapes(cfg), allow_extra=True)).to(device)
    toks, lens, _ = load_examples(data_dir, "val", cfg["maxTokens"], device)
    n = p["examples"]
    enc, dec_in, tgt = make_batch(toks[:n], lens[:n], 0.0)
    prev = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    with torch.no_grad():
        _, r, k, _, c, ntok, _ = model.objective(enc, dec_in, tgt, None, 1.0, 0.0, 0.0, False)
    torch.backends.cuda.matmul.allow_tf32 = prev
    got = {"recon_nats": r.item(), "kl_nats": k.item(), "correct": c.item(), "target_tokens": ntok.item()}
    rel = lambda a, b: abs(a - b) / max(1e-9, abs(b))
    ok = (rel(got["recon_nats"], p["recon_nats"]) < 1e-4 and rel(got["kl_nats"], p["kl_nats"]) < 1e-4
          and got["target_tokens"] == p["target_tokens"] and abs(got["correct"] - p["correct"]) <= 2)
    say(json.dumps({"type": "parity", "ok": ok, "engine": {k: p[k] for k in got}, "torch": got}))
    if not ok:
        raise SystemExit("train_torch: this script's loss differs from the engine's on the parity model; refusing to train")
    return got


def setup_processes(request):
    """(rank, world size, device): one process, or torchrun's (WORLD_SIZE > 1) with its process group."""
    if request == "cuda" and not torch.cuda.is_available():
        raise SystemExit("train_torch: --device cuda, but this torch sees no CUDA device")
    cuda = request == "cuda" or (request == "auto" and torch.cuda.is_available())
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, "cuda" if cuda else "cpu"
    if not dist.is_available():
        raise SystemExit("train_torch: started with WORLD_SIZE > 1, but this torch has no torch.distributed")
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if cuda:
        torch.cuda.set_device(local)
    dist.init_process_group("nccl" if cuda else "gloo")
    return rank, world, f"cuda:{local}" if cuda else "cpu"


def dropout_masks(config, rows, rate, gen, device):
    """Keep masks for every residual branch of a whole batch, and their scale 1/(1 - rate).

    Drawn from the data generator for the global batch, so every process of a DDP run draws the
    same masks and takes its rows: the run sees the dropout one process would."""
    D, T = config["modelDim"], config["maxTokens"]
    enc = torch.rand(config["encoderLayers"], rows, T, D, device=device, generator=gen) >= rate
    dec = torch.rand(len(config["decoderDilations"]), rows, T + 1, D, device=device, generator=gen) >= rate
    return enc, dec, 1.0 / (1.0 - rate)


def say(line, err=False):
    """Output of the run: from rank 0 only, so a DDP run prints and logs once."""
    if RANK == 0:
        print(line, file=sys.stderr if err else sys.stdout, flush=True)


RANK = 0


def main():
    global RANK
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    budget_arg = ap.add_mutually_exclusive_group(required=True)
    budget_arg.add_argument("--minutes", type=float, help="train for this long (the schedules follow the clock)")
    budget_arg.add_argument("--steps", type=int, help="train for this many steps (the schedules follow the steps)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=128, help="the global batch: under torchrun, shared by all processes")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup-steps", type=int, default=100)
    ap.add_argument("--ae-pretrain", type=float, default=0.1)
    ap.add_argument("--kl-anneal", type=float, default=0.4)
    ap.add_argument("--free-bits", type=float, default=2.0)
    ap.add_argument("--token-dropout", type=float, default=0.25)
    ap.add_argument("--l1-weight", type=float, default=0.02)
    ap.add_argument("--model-dim", type=int)
    ap.add_argument("--latent-dim", type=int)
    ap.add_argument("--dilations", help="comma-separated decoder dilations, one layer each")
    ap.add_argument("--encoder-dilations", help="comma-separated encoder dilations, one layer each")
    ap.add_argument("--encoder-positions", action="store_true", help="add positions to the encoder input")
    ap.add_argument("--pool-slots", type=int, help="encoder attention pooling with this many learned queries")
    ap.add_argument("--memory-slots", type=int, help="z as this many memory slots that every decoder layer attends to")
    ap.add_argument("--dropout", type=float, default=0.0, help="train-time dropout on residual branches")
    ap.add_argument("--eval-seconds", type=float, default=20)
    ap.add_argument("--no-compile", action="store_true")
    # dest: import-model.ts copies these args into the manifest, where "device" names the GPU.
    ap.add_argument("--device", dest="device_request", choices=["auto", "cuda", "cpu"], default="auto",
                    help="auto: CUDA when torch sees a GPU, else the CPU")
    args = ap.parse_args()
    if args.steps is not None and args.steps < 0:
        raise SystemExit("train_torch: --steps must be 0 or more")
    for flag, n in (("--pool-slots", args.pool_slots), ("--memory-slots", args.memory_slots)):
        if n is not None and not 1 <= n <= 64:  # RANGES.slots in src/core/choices.ts
            raise SystemExit(f"train_torch: {flag} must be an integer in 1..64, got {n}")

    rank, world, device = setup_processes(args.device_request)
    RANK = rank
    cuda = device.startswith("cuda")
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.manual_seed(args.seed)
    meta = json.load(open(os.path.join(args.data, "dataset.json")))
    if meta.get("format") != "textvae-dataset":
        raise SystemExit(f"train_torch: {args.data} is not a dataset from export-dataset.ts")
    parity = check_parity(meta, args.data, device)

    config = dict(meta["config"])
    warm = meta.get("from")
    arch_flags = [f for f, v in (("--model-dim", args.model_dim), ("--latent-dim", args.latent_dim),
                                 ("--dilations", args.dilations), ("--encoder-dilations", args.encoder_dilations),
                                 ("--encoder-positions", args.encoder_positions), ("--pool-slots", args.pool_slots),
                                 ("--memory-slots", args.memory_slots)) if v]
    if warm and arch_flags:
        raise SystemExit(f"train_torch: {args.data} starts from {warm['model']}, whose architecture is fixed: "
                         f"drop {arch_flags[0]} (grow the bundle with scripts/grow-model.ts first)")
    if args.model_dim: config["modelDim"] = args.model_dim
    if args.latent_dim: config["latentDim"] = args.latent_dim
    if args.dilations: config["decoderDilations"] = [int(x) for x in args.dilations.split(",")]
    if args.encoder_dilations:
        config["encoderDilations"] = [int(x) for x in args.encoder_dilations.split(",")]
        config["encoderLayers"] = len(config["encoderDilations"])
    if args.encoder_positions: config["encoderPositions"] = True
    if args.pool_slots: config["poolSlots"] = args.pool_slots
    if args.memory_slots: config["memorySlots"] = args.memory_slots
    # The same seed on every process: identical initial weights and data order everywhere.
    gen = torch.Generator().manual_seed(args.seed)
    if warm:
        # The parent's weights, as the parity check just read them (float16 storage widens exactly).
        if not parity:
            raise SystemExit(f"train_torch: {args.data} starts from {warm['model']} but has no parity reference")
        weights = read_weights(os.path.join(args.data, "parity"), weight_shapes(config))
        say(json.dumps({"type": "init", "from": warm["model"], "fingerprint": warm["fingerprint"]}))
    else:
        weights = initial_weights(config, gen)
    model = TextVae(config, weights).to(device)
    params = sum(p.numel() for p in model.parameters())
    train_toks, train_lens, train_bytes = load_examples(args.data, "train", config["maxTokens"], device)
    val_toks, val_lens, val_bytes = load_examples(args.data, "val", config["maxTokens"], device)
    N = train_toks.shape[0]
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(trainable, lr=args.lr, betas=(0.9, 0.999), eps=1e-8, fused=cuda)
    dgen = torch.Generator(device=device).manual_seed(args.seed)
    net = model.objective
    if world > 1:
        # Unused parameters: the log-variance head during AE pre-training.
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[torch.cuda.current_device()] if cuda else None, find_unused_parameters=True)
    # torch.compile arrived in torch 2.0; older torch (e.g. Debian's 1.13) runs eagerly.
    step_fn = net if args.no_compile or not hasattr(torch, "compile") else torch.compile(net)
    log = None
    if rank == 0:
        os.makedirs(args.out, exist_ok=True)
        log = open(os.path.join(args.out, "train-log.jsonl"), "w")
    device_name = torch.cuda.get_device_name() if cuda else "cpu"
    backend = f"torch-{'cuda' if cuda else 'cpu'}"
    say(json.dumps({"type": "start", "config": config, "parameters": params, "train_examples": N, "device": device_name,
                    "torch": torch.__version__, "world_size": world}))

    bs, budget = min(args.batch_size, N), (args.minutes or 0) * 60
    if bs < world:
        raise SystemExit(f"train_torch: the global batch ({bs}) is smaller than the number of processes ({world})")
    rows = slice(rank * bs // world, (rank + 1) * bs // world)  # this process's part of each global batch
    step, epoch_pos, order = 0, N, None
    best = None
    started = None
    last_eval = 0.0
    acc = {"loss": 0.0, "recon": 0.0, "kl": 0.0, "tokens": 0, "bytes": 0, "steps": 0, "norm": 0.0}
    window_start = time.time()
    while True:
        if args.steps is not None:
            if step >= args.steps:
                break
            progress = step / args.steps
        else:
            now = time.time()
            elapsed = 0.0 if started is None else now - started
            progress = min(1.0, elapsed / budget)
            if world > 1:  # rank 0's clock decides, so that every process stops at the same step
                t = torch.tensor([progress], dtype=torch.float64, device=device)
                dist.broadcast(t, 0)
                progress = t.item()
            if progress >= 1.0:
                break
        pretraining = config["variant"] == "vae" and progress < args.ae_pretrain
        beta = (min(1.0, max(0.0, (progress - args.ae_pretrain) / args.kl_anneal)) if args.kl_anneal > 0
                else float(progress >= args.ae_pretrain)) if config["variant"] == "vae" else 0.0
        lr = args.lr * (step + 1) / args.warmup_steps if step < args.warmup_steps else args.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * progress)))
        for g in opt.param_groups:
            g["lr"] = lr
        if epoch_pos + bs > N:
            order = torch.randperm(N, device=device, generator=dgen)
            epoch_pos = 0
        idx = order[epoch_pos : epoch_pos + bs]
        epoch_pos += bs
        # Every random draw is for the global batch (the same on every process), then sliced.
        enc, dec_in, tgt = make_batch(train_toks[idx], train_lens[idx], args.token_dropout, dgen)
        noise = torch.randn(bs, config["latentDim"], device=device, generator=dgen)
        keep = dropout_masks(config, bs, args.dropout, dgen, device) if args.dropout > 0 else None
        beta_t = torch.tensor(beta, device=device)
        shard = {}
        if world > 1:
            batch_tokens = (tgt != PAD).sum().float()
            enc, dec_in, tgt, noise = enc[rows], dec_in[rows], tgt[rows], noise[rows]
            if keep is not None:
                keep = (keep[0][:, rows], keep[1][:, rows], keep[2])
            shard = {"batch": bs, "batch_tokens": batch_tokens}
        try:
            loss, recon, kl, _, _, ntok, _ = step_fn(enc, dec_in, tgt, noise, beta_t, args.free_bits, args.l1_weight, pretraining, keep, **shard)
        except Exception as err:  # a compiler failure must not cost the run: fall back to eager mode
            if step_fn is net:
                raise
            say(f"train_torch: torch.compile failed ({type(err).__name__}: {err}); running eagerly", err=True)
            step_fn = net
            continue
        if world > 1:
            # Each process holds its part of the global loss; their sum is what one process reports.
            parts = torch.stack([loss.detach(), recon.detach()])
            dist.all_reduce(parts)
            total_loss, recon, ntok = parts[0], parts[1], batch_tokens
        else:
            total_loss = loss
        if not torch.isfinite(total_loss):
            raise SystemExit(f"train_torch: training diverged at step {step} (loss {total_loss.item()}); try a lower --lr")
        opt.zero_grad(set_to_none=True)
        # DDP averages gradients over the processes: scaled by their number, the parts' gradients add up.
        (loss * world if world > 1 else loss).backward()
        norm = torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        step += 1
        if started is None:
            torch.cuda.synchronize() if cuda else None
            started = time.time()  # the clock starts after compilation
            window_start = started
        acc["loss"] += total_loss.detach(); acc["recon"] += recon.detach(); acc["kl"] += kl.detach(); acc["norm"] += norm.detach()
        acc["tokens"] += ntok.detach(); acc["bytes"] += train_bytes[idx].sum(); acc["steps"] += 1
        # Evaluation and logging on rank 0 only; it uses no collective, so the others simply wait for it.
        if rank == 0 and time.time() - last_eval >= args.eval_seconds and started is not None and step > 1:
            model.eval()
            val = evaluate(model, val_toks, val_lens, val_bytes, torch.Generator(device=device).manual_seed(args.seed))
            model.train()
            secs = time.time() - window_start
            nbytes = float(acc["bytes"])
            line = {
                "type": "metrics", "step": step, "epoch": step * bs / N, "progress": round(progress, 4),
                "elapsed_s": round(time.time() - started, 1), "tokens_per_s": round(float(acc["tokens"]) / secs, 1),
                "bytes_per_s": round(nbytes / secs, 1), "loss": round(float(acc["loss"]) / acc["steps"], 4),
                "recon_bits_per_byte": round(float(acc["recon"]) / math.log(2) / nbytes, 4),
                "kl_bits_per_byte": round(float(acc["kl"]) / math.log(2) / nbytes, 4),
                "beta": round(beta, 3), "learning_rate": lr, "grad_norm": round(float(acc["norm"]) / acc["steps"], 3),
                "val_bits_per_byte": round(val["bits_per_byte"], 4), "val_recon_bits_per_byte": round(val["recon_bits_per_byte"], 4),
                "val_kl_bits_per_byte": round(val["kl_bits_per_byte"], 4), "active_units": val["active_units"],
                "token_accuracy": round(val["token_accuracy"], 4), "backend": backend,
            }
            print(json.dumps(line), flush=True)
            log.write(json.dumps(line) + "\n"); log.flush()
            # The best model by held-out ELBO, once the KL weight has reached 1.
            if beta >= 1.0 and (best is None or val["bits_per_byte"] < best[0]):
                best = (val["bits_per_byte"], step, {k: v.detach().clone() for k, v in model.p.items()})
            acc = {k: 0.0 if k != "steps" else 0 for k in acc}
            window_start = last_eval = time.time()

    if world > 1:
        # The weights are the same on every process: rank 0 alone evaluates and writes them.
        dist.destroy_process_group()
        if rank != 0:
            return
    model.eval()
    final_val = evaluate(model, val_toks, val_lens, val_bytes, torch.Generator(device=device).manual_seed(args.seed))
    chosen = "final"
    if best is not None and best[0] < final_val["bits_per_byte"] - 0.005:
        with torch.no_grad():
            for k, v in best[2].items():
                model.p[k].copy_(v)
        final_val = evaluate(model, val_toks, val_lens, val_bytes, torch.Generator(device=device).manual_seed(args.seed))
        chosen = f"best at step {best[1]}"
    # latent.mean / latent.std: statistics of training codes, as refreshLatentStatistics() keeps them.
    with torch.no_grad():
        pick = torch.randperm(N, device=device, generator=dgen)[:512]
        mu, _ = model.encode(train_toks[pick])
        model.w("latent.mean").copy_(mu.mean(0))
        model.w("latent.std").copy_(torch.sqrt(torch.clamp_min(mu.var(0, unbiased=False), 1e-6)))
    write_weights(args.out, model)
    json.dump(config, open(os.path.join(args.out, "config.json"), "w"), indent=2)
    # The engine's parity figures for the trained weights, so import-model.ts can re-check them.
    p = meta.get("parity") or {"examples": 64}
    n = min(p["examples"], val_toks.shape[0])
    enc, dec_in, tgt = make_batch(val_toks[:n], val_lens[:n], 0.0)
    torch.backends.cuda.matmul.allow_tf32 = False
    with torch.no_grad():
        _, r, k, _, c, ntok, _ = model.objective(enc, dec_in, tgt, None, 1.0, 0.0, 0.0, False)
    result = {
        "type": "done", "steps": step, "elapsed_s": round(time.time() - (started or time.time()), 1), "chosen": chosen,
        "parameters": params, "device": device_name, "torch": torch.__version__, "backend": backend,
        "world_size": world, "args": vars(args), "val": final_val, "parity_check": parity,
        "check": {"examples": n, "recon_nats": r.item(), "kl_nats": k.item(), "correct": c.item(), "target_tokens": ntok.item()},
    }
    json.dump(result, open(os.path.join(args.out, "result.json"), "w"), indent=2)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
