"""`metamath serve` at its edges: malformed and oversized requests, the API key, the bind
address; in a thread for the error table, and the real command for size and concurrency."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from _servers import free_port, running_server

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("torch")


@pytest.fixture(scope="module")
def hf(tiny_model_dir):
    from metamath.llm.hf import HFLLM

    return HFLLM(str(tiny_model_dir), batch_size=8)


@pytest.fixture(scope="module")
def server(hf):
    from metamath.llm.serve import build_app, serve_in_thread

    app = build_app(hf, "tiny", max_request_bytes=4096, api_key="k3y")
    with serve_in_thread(app) as base_url:
        yield base_url


def send(url: str, data: bytes | dict, key: str | None = "k3y", method: str = "POST"):
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    req = urllib.request.Request(url, raw if method == "POST" else None, headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def chat(content) -> dict:
    return {"model": "tiny", "max_tokens": 2, "messages": [{"role": "user", "content": content}]}


CASES = [
    ("/chat/completions", chat([{"type": "text", "text": 5}]), 400, "messages.0.content"),
    ("/chat/completions", chat([{"type": "text", "text": ["a"]}]), 400, "messages.0.content"),
    ("/chat/completions", chat([{"type": "image_url", "image_url": {}}]), 400, "image_url"),
    ("/chat/completions", chat(7), 400, "messages.0.content"),
    ("/chat/completions", {"model": "tiny", "messages": []}, 400, "messages"),
    ("/chat/completions", {"model": "tiny", "messages": ["hi"]}, 400, "messages.0"),
    ("/completions", {"model": "tiny", "prompt": []}, 400, "prompt"),
    # token ids are a valid prompt (lm-eval sends them); ids outside the vocabulary are not
    ("/completions", {"model": "tiny", "prompt": [10**9]}, 400, "prompt"),
    ("/completions", {"model": "tiny", "prompt": "x", "stop": ["s"] * 17}, 400, "at most 16"),
    ("/completions", {"model": "tiny", "prompt": "x", "stop": "s" * 600}, 400, "stop"),
    ("/completions", b'{"model": "tiny", "prompt": ', 400, "not valid JSON"),
    ("/completions", b"\xff\xfe", 400, "not valid JSON"),
    ("/completions", {"model": "tiny", "prompt": "x" * 5000}, 413, "--max-request-bytes"),
    ("/nowhere", {}, 404, "Not Found"),
]


@pytest.mark.parametrize("path, body, status, words", CASES)
def test_bad_requests_get_an_openai_shaped_error(server, path, body, status, words):
    code, doc = send(server + path, body)
    assert code == status, doc
    assert set(doc) == {"error"} and set(doc["error"]) == {"message", "type", "param", "code"}
    assert words in doc["error"]["message"] + str(doc["error"]["param"])


def test_a_chunked_body_over_the_limit_is_refused(server):
    import http.client
    import urllib.parse

    u = urllib.parse.urlsplit(server)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    body = json.dumps({"model": "tiny", "prompt": "x" * 10_000}).encode()
    chunks = (body[i : i + 1000] for i in range(0, len(body), 1000))
    headers = {"Authorization": "Bearer k3y", "Content-Type": "application/json"}
    conn.request("POST", u.path + "/completions", chunks, headers, encode_chunked=True)
    resp = conn.getresponse()
    doc = json.loads(resp.read())
    assert resp.status == 413 and "larger than this server's limit" in doc["error"]["message"]


def test_wrong_method_is_openai_shaped(server):
    code, doc = send(server + "/completions", {}, method="GET")
    assert code == 405 and "error" in doc


def test_the_api_key_is_a_bearer_token(server):
    body = {"model": "tiny", "prompt": "1+1=", "max_tokens": 2}
    assert send(server + "/completions", body)[0] == 200
    for key in (None, "wrong", "k3yk3y", "k3"):
        code, doc = send(server + "/completions", body, key=key)
        assert code == 401 and doc["error"]["code"] == "invalid_api_key", key
    req = urllib.request.Request(
        server + "/completions", json.dumps(body).encode(), {"Authorization": "Basic k3y"}
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=60)
    assert e.value.code == 401
    code, doc = send(server + "/models", b"", key=None, method="GET")
    assert code == 401
    with urllib.request.urlopen(server.removesuffix("/v1") + "/health") as r:  # stays open
        assert r.status == 200


def test_hostile_text_in_a_prompt_is_cleaned(server, hf):
    body = {"model": "tiny", "prompt": "1+1=\x00\x1b[31m\ud800", "max_tokens": 3, "temperature": 0}
    code, doc = send(server + "/completions", body)
    clean = {"model": "tiny", "prompt": "1+1=\ufffd", "max_tokens": 3, "temperature": 0}
    assert (
        code == 200
        and doc["choices"][0]["text"]
        == send(server + "/completions", clean)[1]["choices"][0]["text"]
    )


@pytest.mark.parametrize(
    "host, key, allow, outcome",
    [
        ("127.0.0.1", None, False, None),
        ("localhost", None, False, None),
        ("::1", None, False, None),
        ("0.0.0.0", "k", False, "reachable from other machines"),
        ("0.0.0.0", None, True, "WITHOUT an API key"),
        ("0.0.0.0", None, False, ValueError),
        ("::", None, False, ValueError),
    ],
)
def test_binding_beyond_loopback_needs_a_key(host, key, allow, outcome):
    from metamath.llm.serve_guard import check_bind

    if outcome is ValueError:
        with pytest.raises(ValueError, match="--api-key"):
            check_bind(host, key, allow)
    elif outcome is None:
        assert check_bind(host, key, allow) is None
    else:
        assert outcome in check_bind(host, key, allow)


def test_serve_refuses_an_open_public_bind_before_loading_the_model(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "METAMATH_SERVE_API_KEY"}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "metamath",
            "serve",
            str(tmp_path / "no-model"),
            "--host",
            "0.0.0.0",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 2 and "--allow-unauthenticated" in out.stderr


def _hwm_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        line = next(x for x in f if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


@pytest.mark.slow
def test_a_20mb_request_is_refused_while_a_small_one_is_answered(tiny_model_dir, tmp_path):
    """The real command: a 20 MB prompt gets a 413 without being read or tokenised; a small
    request sent meanwhile is answered within a second; the server stays under 1 GB."""
    port = free_port()
    env = dict(os.environ, METAMATH_SERVE_API_KEY="s3rv3r-key")
    cmd = [sys.executable, "-m", "metamath", "serve", str(tiny_model_dir), "--port", str(port)]
    with open(tmp_path / "serve.log", "w") as log, running_server(cmd, port, log, env=env) as url:
        big = {"model": str(tiny_model_dir), "prompt": "7 " * 10_000_000, "max_tokens": 4}
        small = {"model": str(tiny_model_dir), "prompt": "1+1=", "max_tokens": 4}
        got: dict = {}

        def go(name, body):
            t0 = time.monotonic()
            got[name] = (send(url + "/completions", body, key="s3rv3r-key"), time.monotonic() - t0)

        send(url + "/completions", small, key="s3rv3r-key")  # warm up
        threads = [threading.Thread(target=go, args=a) for a in (("big", big), ("small", small))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        (code, doc), _ = got["big"]
        assert code == 413 and "max-request-bytes" in doc["error"]["message"]
        (code, doc), took = got["small"]
        assert code == 200 and len(doc["choices"]) == 1 and took < 1.0, took
        # a prompt under the byte limit but longer than the model can hold: refused before
        # tokenising, with the OpenAI error shape
        long = {"model": str(tiny_model_dir), "prompt": "7 " * 400_000, "max_tokens": 4}
        code, doc = send(url + "/completions", long, key="s3rv3r-key")
        assert code == 400 and "checked before tokenising" in doc["error"]["message"]
        server_pid = _listener_pid(port)
        assert _hwm_mb(server_pid) < 1024


def _listener_pid(port: int) -> int:
    """The pid of the process listening on 127.0.0.1:port (from /proc, no lsof needed)."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                parts = line.split()
                if int(parts[1].split(":")[1], 16) == port and parts[3] == "0A":
                    inode = parts[9]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return int(pid)
        except OSError:
            continue
    raise AssertionError(f"no process listens on port {port}")
