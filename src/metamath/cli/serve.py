"""metamath serve MODEL: serve a local model over the OpenAI protocol (no vLLM needed)."""

from __future__ import annotations

import argparse

HELP = "serve a local model over the OpenAI HTTP protocol (/v1/completions, /v1/chat/completions)"
DESCRIPTION = """\
Serve a model (a directory, a .gguf file or a Hub id) through the OpenAI protocol, so the
`openai` backend, curl or any OpenAI client can use it. The model runs in-process with the
hf backend (transformers) or, with --backend vllm, with vLLM. Concurrent requests are
batched. Prompts may be text or token ids (as lm-evaluation-harness sends them).

  metamath serve ./tiny --port 8000
  curl http://127.0.0.1:8000/v1/completions -H 'Content-Type: application/json' \\
       -d '{"model": "./tiny", "prompt": "1+1=", "max_tokens": 8, "n": 2}'

It binds only to --host (default 127.0.0.1, this machine). Beyond this machine (--host
0.0.0.0) it needs an API key, checked as a Bearer token: --api-key KEY or $METAMATH_SERVE_API_KEY
(prefer the variable: a command line is visible to other users), or --allow-unauthenticated
to serve it open on purpose. Requests over --max-request-bytes are refused before they are
read; every error has the OpenAI error shape.
"""


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
    p.add_argument(
        "--api-key",
        default=None,
        help="require 'Authorization: Bearer KEY' on /v1 (default: $METAMATH_SERVE_API_KEY)",
    )
    p.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        help="allow a --host beyond this machine without an API key (anyone can use it)",
    )
    p.add_argument(
        "--max-request-bytes",
        type=int,
        default=1 << 20,
        help="larger request bodies get a 413 before they are read (default: 1 MiB)",
    )
    p.add_argument(
        "--max-stop", type=int, default=16, help="most stop strings per request (default: 16)"
    )


def run(args: argparse.Namespace) -> int:
    import os
    import socket
    import sys

    from metamath.llm.serve_guard import KEY_ENV, check_bind
    from metamath.models import check_model

    api_key = args.api_key or os.environ.get(KEY_ENV) or None
    warning = check_bind(args.host, api_key, args.allow_unauthenticated)  # before the model
    if warning:
        print(warning, file=sys.stderr, flush=True)
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
        max_request_bytes=args.max_request_bytes,
        max_stop=args.max_stop,
        api_key=api_key,
    )
    # Bind the socket here so the address printed is the real one, also for --port 0 (any free).
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    port = sock.getsockname()[1]
    auth = "; API key required" if api_key else ""
    print(f"serving {name!r} ({args.backend}) at http://{args.host}:{port}/v1{auth}", flush=True)
    try:
        uvicorn.Server(uvicorn.Config(app, log_level="info")).run(sockets=[sock])
    finally:
        llm.close()
    return 0
