"""Generation client throughput: our openai backend vs the MetaMath pattern, same run.

    python benchmarks/llm_throughput.py                 # ~30-40 s on 2 cores
    python benchmarks/llm_throughput.py --questions 4000 --baseline-questions 80

Both talk to the same loopback OpenAI-compatible server (tests/_fake_server.py, a separate
process) that answers every request after a fixed 200 ms, with room for any number in flight.
The workload is k = 10 samples per question with a few-shot prompt, as in MetaMath's AnsAug.

- MetaMath pattern: a pool of 16 processes, one request per sample (n=1), the official sync
  OpenAI client, so the few-shot prompt is sent k times per question. (Generous to it: one
  imap_unordered over all samples, without MetaMath's per-chunk pools and barriers.)
- Ours: OpenAILLM with 256 requests in flight, one request per question asking n = k; and the
  same behind CachedLLM (a fresh SQLite file), as real jobs run it.

Figures come from the server's own counters (requests, prompt tokens received) and wall time;
our client's CPU cost is the benchmark process's CPU time during our run (the server is another
process) divided by the requests it sent. Goals: >= 10x samples/s, >= 5x fewer prompt tokens per
sample, < 1 ms client CPU per request.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO = (
    "Question: Natalia sold clips to 48 of her friends in April, and then she sold half as "
    "many clips in May. How many clips did Natalia sell altogether in April and May?\n"
    "Answer: Natalia sold 48/2 = 24 clips in May. Natalia sold 48+24 = 72 clips altogether "
    "in April and May. The answer is: 72\n\n"
)


def prompt_for(i: int, shots: int) -> str:
    return DEMO * shots + f"Question: What is {i} plus {i + 1}?\nAnswer:"


def server_stats(base: str) -> dict:
    with urllib.request.urlopen(base + "/stats", timeout=10) as r:
        return json.loads(r.read())


# -- the MetaMath pattern ---------------------------------------------------------------------
_client = None


def _init_worker(base_url: str) -> None:
    global _client
    from openai import OpenAI

    _client = OpenAI(base_url=base_url, api_key="EMPTY", max_retries=0)


def _one_sample(task: tuple[str, int]) -> str:
    prompt, _sample = task
    resp = _client.completions.create(
        model="fake", prompt=prompt, n=1, max_tokens=256, temperature=0.7
    )
    return resp.choices[0].text


def run_baseline(base_url: str, questions: int, k: int, shots: int, procs: int) -> dict:
    import openai  # noqa: F401  (imported before the fork, as MetaMath's scripts do at the top)

    tasks = [(prompt_for(i, shots), s) for i in range(questions) for s in range(k)]
    before = server_stats(base_url)
    t0 = time.monotonic()
    with mp.get_context("fork").Pool(procs, initializer=_init_worker, initargs=(base_url,)) as pool:
        texts = list(pool.imap_unordered(_one_sample, tasks, chunksize=1))
    wall = time.monotonic() - t0
    after = server_stats(base_url)
    return {
        "samples": len(texts),
        "wall_s": wall,
        "requests": after["requests"] - before["requests"],
        "prompt_tokens": after["prompt_tokens"] - before["prompt_tokens"],
    }


# -- ours -----------------------------------------------------------------------------------
def run_ours(
    base_url: str, questions: int, k: int, shots: int, in_flight: int, cache: Path | None = None
) -> dict:
    sys.path.insert(0, str(REPO / "src"))
    from metamath.llm.base import Request
    from metamath.llm.cache import CachedLLM
    from metamath.llm.openai_compat import OpenAILLM

    reqs = [
        Request(id=f"q{i}", prompt=prompt_for(i, shots), n=k, temperature=0.7, max_tokens=256)
        for i in range(questions)
    ]
    llm = OpenAILLM("fake", base_url=base_url, max_in_flight=in_flight, desc="ours")
    if cache is not None:  # what a real job runs: every answered sample committed to SQLite
        llm = CachedLLM(llm, cache)
    list(llm.generate([Request(id=f"w{i}", prompt=f"warm-up {i}") for i in range(8)]))  # imports
    before = server_stats(base_url)
    c0, t0 = time.process_time(), time.monotonic()
    samples = sum(len(r.completions) for r in llm.generate(reqs))
    wall, cpu = time.monotonic() - t0, time.process_time() - c0
    after = server_stats(base_url)
    n_req = after["requests"] - before["requests"]
    return {
        "samples": samples,
        "wall_s": wall,
        "requests": n_req,
        "prompt_tokens": after["prompt_tokens"] - before["prompt_tokens"],
        "client_cpu_ms_per_request": 1000 * cpu / max(n_req, 1),
        "failures": llm.stats["failures"],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=int, default=2000, help="questions for our client")
    ap.add_argument(
        "--baseline-questions",
        type=int,
        default=40,
        help="questions for the MetaMath pattern (it is slow: 80 samples/s at best)",
    )
    ap.add_argument("--k", type=int, default=10, help="samples per question")
    ap.add_argument("--shots", type=int, default=4, help="few-shot demos in each prompt")
    ap.add_argument("--latency", type=float, default=0.2, help="server latency per request (s)")
    ap.add_argument("--in-flight", type=int, default=256)
    ap.add_argument("--procs", type=int, default=16, help="baseline processes")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()

    server = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "_fake_server.py"), "--latency", str(args.latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(server.stdout.readline().split()[1])
        base = f"http://127.0.0.1:{port}/v1"
        base_fig = run_baseline(base, args.baseline_questions, args.k, args.shots, args.procs)
        ours = run_ours(base, args.questions, args.k, args.shots, args.in_flight)
        with tempfile.TemporaryDirectory() as tmp:
            cached = run_ours(
                base,
                args.questions,
                args.k,
                args.shots,
                args.in_flight,
                cache=Path(tmp) / "cache.sqlite",
            )
    finally:
        server.terminate()
        server.wait()

    rows = []
    for name, f in (("MetaMath pattern", base_fig), ("ours", ours), ("ours + cache", cached)):
        f["samples_per_s"] = f["samples"] / f["wall_s"]
        f["prompt_tokens_per_sample"] = f["prompt_tokens"] / max(f["samples"], 1)
        rows.append(
            f"{name:<17} {f['samples']:>7} samples  {f['requests']:>6} requests  "
            f"{f['wall_s']:>6.1f} s  {f['samples_per_s']:>8.1f} samples/s  "
            f"{f['prompt_tokens_per_sample']:>6.1f} prompt tokens/sample"
        )
    speed = ours["samples_per_s"] / base_fig["samples_per_s"]
    tokens = base_fig["prompt_tokens_per_sample"] / ours["prompt_tokens_per_sample"]
    cpu = ours["client_cpu_ms_per_request"]
    print(f"server latency {args.latency * 1000:.0f} ms, k = {args.k}, {args.shots}-shot prompts")
    print("\n".join(rows))
    print(
        f"samples/s ratio:            {speed:6.1f}x  (goal >= 10x)  "
        f"{'ok' if speed >= 10 else 'MISSED'}"
    )
    print(
        f"prompt tokens/sample ratio: {tokens:6.1f}x fewer  (goal >= 5x)  "
        f"{'ok' if tokens >= 5 else 'MISSED'}"
    )
    print(
        f"our client CPU:             {cpu:6.2f} ms/request  (goal < 1 ms)  "
        f"{'ok' if cpu < 1 else 'MISSED'}; with the SQLite cache "
        f"{cached['client_cpu_ms_per_request']:.2f} ms/request"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "baseline": base_fig,
                    "ours": ours,
                    "ours_cached": cached,
                    "speedup": speed,
                    "prompt_token_ratio": tokens,
                },
                indent=2,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
