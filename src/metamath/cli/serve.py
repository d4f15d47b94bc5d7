"""metamath serve MODEL: serve a local model over the OpenAI protocol (no vLLM needed)."""

from __future__ import annotations

import argparse

HELP = "serve a local model over the OpenAI HTTP protocol (/v1/completions, /v1/chat/completions)"
DESCRIPTION = (
    "Serve a model (a directory, a .gguf file or a Hub id) through the OpenAI protocol, so the\n"
    "`openai` backend, curl or any OpenAI client can use it. The model runs in-process with the\n"
    "hf backend (transformers) or, with --backend vllm, with vLLM. Concurrent requests are\n"
    "batched. Prompts may be text or token ids (as lm-evaluation-harness sends them).\n\n"
    "  metamath serve ./tiny --port 8000\n"
    "  curl http://127.0.0.1:8000/v1/completions -H 'Content-Type: application/json' \\\n"
    '       -d \'{"model": "./tiny", "prompt": "1+1=", "max_tokens": 8, "n": 2}\'\n\n'
    "It binds only to --host (default 127.0.0.1, this machine); use --host 0.0.0.0 to expose it\n"
    "to the network (it has no authentication).\n"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="model directory, .gguf file or Hub id")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument(
        "--served-model-name",
        default=None,
        help="model name clients send (default: MODEL as given)",
    )
    p.add_argument(
        "--backend", choices=("hf", "vllm"), default="hf", help="in-process engine (default: hf)"
    )
    p.add_argument("--device", default="auto", help="hf: cuda, cpu, cuda:1, ... (default: auto)")
    p.add_argument("--dtype", default="auto", help="auto (bf16 on GPU, fp32 on CPU), bfloat16, ...")
    p.add_argument("--batch-size", type=int, default=None, help="hf: rows per batch")
    p.add_argument(
        "--static-cache",
        action="store_true",
        help="hf: static KV cache, compiled with torch.compile on GPU",
    )
    p.add_argument(
        "--max-batch",
        type=int,
        default=256,
        help="most HTTP requests gathered into one generate() call (default: 256)",
    )
    p.add_argument(
        "--batch-wait",
        type=float,
        default=0.01,
        help="seconds to wait for more requests before running a batch",
    )
    p.add_argument(
        "--default-max-tokens",
        type=int,
        default=512,
        help="chat max_tokens when a request gives none (default: 512)",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks")


def run(args: argparse.Namespace) -> int:
    import socket

    from metamath.models import check_model

    check_model(args.model, "MODEL")  # a typo fails here, before anything loads
    import uvicorn

    from metamath.llm.serve import build_app

    if args.backend == "vllm":
        from metamath.llm.vllm import VLLMLLM

        llm = VLLMLLM(args.model, dtype=args.dtype)
    else:
        from metamath.llm.hf import HFLLM

        llm = HFLLM(
            args.model,
            device=args.device,
            dtype=args.dtype,
            batch_size=args.batch_size,
            static_cache=args.static_cache,
        )
    name = args.served_model_name or args.model
    app = build_app(
        llm,
        name,
        max_batch=args.max_batch,
        batch_wait_s=args.batch_wait,
        default_max_tokens=args.default_max_tokens,
    )
    # Bind the socket here so the address printed is the real one, also for --port 0 (any free).
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    port = sock.getsockname()[1]
    print(f"serving {name!r} ({args.backend}) at http://{args.host}:{port}/v1", flush=True)
    try:
        uvicorn.Server(uvicorn.Config(app, log_level="info")).run(sockets=[sock])
    finally:
        llm.close()
    return 0
