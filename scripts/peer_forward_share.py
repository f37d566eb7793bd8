"""The share of the fp32 matmul ceiling that PyTorch reaches on a Llama-family forward pass, measured as
`loupe bench forward` measures Loupe's: each timed pass follows its own ceiling timing (best of 8 2048 x 2048
products), and the share is the median over passes of (pass FLOPs / pass seconds) / that ceiling. FLOPs as
io.loupe.bench.ForwardBenchmark.flops counts them: 2 per multiply-add of the linear layers, plus attention's two
products over the causal triangle with its diagonal.

Two ways of running the same module, no grad, one pass at a time on THREADS threads:
  eager     PyTorch's kernels one by one (fused SDPA attention and one-kernel SiLU, as peer_forward.py)
  compiled  torch.compile with inductor and frozen weights: generated C++ kernels that fuse the elementwise work
            around the products (norms, rotary, SiLU x up, residual adds), and MKL's packed-weight linears. The
            strongest a PyTorch user gets on a CPU without writing kernels (needs PyTorch 2 and a C++ compiler).

usage: peer_forward_share.py MODEL_DIR [eager,compiled] [PASSES]      (MODEL_DIR: a Llama in HF layout, one
safetensors file; peers/refmodel.py reads it, so PEERS must name ../shared/peers)
"""
import json, os, statistics, sys, time
sys.path.insert(0, os.environ["PEERS"])
import torch, refmodel as r

BATCH, SEQ, CEILING_N, CEILING_REPEATS = 8, 256, 2048, 8


class Llama(torch.nn.Module):
    """The Llama forward of peer_forward.py over one batch shape, as a module torch.compile can freeze."""

    def __init__(self, cfg, weights):
        super().__init__()
        self.d, self.h, self.kv, self.layers = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["num_hidden_layers"]
        self.hd, self.eps = self.d // self.h, cfg["rms_norm_eps"]
        self.w = torch.nn.ParameterDict({k.replace(".", "_"): torch.nn.Parameter(v, requires_grad=False) for k, v in weights.items()})
        inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, self.hd, 2, dtype=torch.float32) / self.hd))
        ang = torch.outer(torch.arange(SEQ, dtype=torch.float32), inv)
        ang = torch.cat([ang, ang], -1)
        self.register_buffer("cos", ang.cos()[None, :, None, :])
        self.register_buffer("sin", ang.sin()[None, :, None, :])
        self.head = "lm_head_weight" if "lm_head_weight" in self.w else "model_embed_tokens_weight"

    def p(self, name):
        return self.w[name.replace(".", "_")]

    def norm(self, x, g):
        return g * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)

    def rope(self, x):
        x1, x2 = x[..., :self.hd // 2], x[..., self.hd // 2:]
        return x * self.cos + torch.cat([-x2, x1], -1) * self.sin

    def forward(self, ids):
        b, t = ids.shape
        x = self.p("model.embed_tokens.weight")[ids]
        for l in range(self.layers):
            pre = f"model.layers.{l}."
            h = self.norm(x, self.p(pre + "input_layernorm.weight"))
            q = (h @ self.p(pre + "self_attn.q_proj.weight").T).view(b, t, self.h, self.hd)
            k = (h @ self.p(pre + "self_attn.k_proj.weight").T).view(b, t, self.kv, self.hd)
            v = (h @ self.p(pre + "self_attn.v_proj.weight").T).view(b, t, self.kv, self.hd)
            q, k = self.rope(q), self.rope(k)
            k, v = k.repeat_interleave(self.h // self.kv, 2), v.repeat_interleave(self.h // self.kv, 2)
            z = torch.nn.functional.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                                                 is_causal=True).transpose(1, 2)
            x = x + z.reshape(b, t, self.d) @ self.p(pre + "self_attn.o_proj.weight").T
            h = self.norm(x, self.p(pre + "post_attention_layernorm.weight"))
            post = torch.nn.functional.silu(h @ self.p(pre + "mlp.gate_proj.weight").T) * (h @ self.p(pre + "mlp.up_proj.weight").T)
            x = x + post @ self.p(pre + "mlp.down_proj.weight").T
        return self.norm(x, self.p("model.norm.weight")) @ self.w[self.head].T


def flops(cfg):
    d, h, kv, layers = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["num_hidden_layers"]
    hd = d // h
    q, k = h * hd, kv * hd
    linear = layers * (d * q + 2 * d * k + q * d + 3 * d * cfg["intermediate_size"]) + d * cfg["vocab_size"]
    return 2.0 * BATCH * SEQ * linear + 4.0 * BATCH * layers * q * SEQ * (SEQ + 1) / 2


def ceiling(a, b):
    best = float("inf")
    for _ in range(CEILING_REPEATS):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2.0 * CEILING_N ** 3 / best


def measure(name, run, ids, flop, passes):
    a, b = torch.randn(CEILING_N, CEILING_N), torch.randn(CEILING_N, CEILING_N)
    t = time.perf_counter()
    for _ in range(3):   # warm-up: compilation, the allocator's heaps
        run(ids)
    warm = time.perf_counter() - t
    seconds, shares, ceilings = [], [], []
    for _ in range(passes):
        c = ceiling(a, b)
        t = time.perf_counter()
        run(ids)
        s = time.perf_counter() - t
        seconds.append(s); shares.append(flop / s / c); ceilings.append(c)
    print(f"peer {name}: {passes} passes of {BATCH} x {SEQ}, best {min(seconds) * 1e3:.0f} ms, median {statistics.median(seconds) * 1e3:.0f} ms; "
          f"paired share of the ceiling median {statistics.median(shares) * 100:.1f}% (min {min(shares) * 100:.1f}, max {max(shares) * 100:.1f}); "
          f"ceilings {min(ceilings) / 1e9:.0f}-{max(ceilings) / 1e9:.0f} GFLOP/s; warm-up {warm:.1f} s", flush=True)


def main(model_dir, modes="eager,compiled", passes="10"):
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    weights = {k: torch.from_numpy(v.copy()) for k, v in r.load_safetensors(os.path.join(model_dir, "model.safetensors")).items()}
    model = Llama(cfg, weights).eval()
    ids = torch.randint(0, cfg["vocab_size"], (BATCH, SEQ), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for mode in modes.split(","):
            if mode == "eager":
                measure("eager", model, ids, flops(cfg), int(passes))
            elif mode == "compiled":
                if not hasattr(torch, "compile"):
                    print(f"peer compiled: unavailable (PyTorch {torch.__version__} has no torch.compile)")
                    continue
                import torch._inductor.config as inductor
                inductor.freezing = True   # weights as constants: packed MKL linears, folded layouts
                try:
                    measure("compiled", torch.compile(model), ids, flops(cfg), int(passes))
                except Exception as e:   # no C++ compiler, no Python headers: say so, keep the eager figure
                    print(f"peer compiled: unavailable ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})")
            else:
                sys.exit(f"peer_forward_share.py: unknown mode '{mode}' (eager, compiled)")


if __name__ == "__main__":
    main(*sys.argv[1:])
