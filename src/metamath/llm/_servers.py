"""The servers of one openai-backend job: the HTTP session, which server gets the next request
(the least busy one that is up), their health, the limits on what is in flight and per minute,
and the POST itself with transport errors turned into a status and a message."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from metamath.llm._async import RateLimiter
from metamath.llm._wire import endpoint, proxy_for, split_credentials
from metamath.llm.progress import Progress
from metamath.secrets import redact_text


class Servers:
    """Per-job state of the openai backend's servers (built inside the job's event loop)."""

    def __init__(self, llm: Any, bar: Progress):
        import aiohttp

        key = os.environ.get(llm.api_key_env) or "EMPTY"
        self.timeout = llm.timeout
        self.session = aiohttp.ClientSession(
            # limit=0: no connector cap; our semaphore bounds what is in flight.
            connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
            timeout=aiohttp.ClientTimeout(total=llm.timeout),
            headers={"Content-Type": "application/json", **llm.headers},
        )
        self.busy = {u: 0 for u in llm.base_urls}  # url -> requests in flight there
        # url -> [consecutive failures, avoid until (monotonic s)]: a server that refuses
        # connections or times out is skipped for a while (0.5 s, doubling, at most 30 s)
        # while another one is up, so one dead data-parallel replica does not eat retries.
        self.health = {u: [0, 0.0] for u in llm.base_urls}
        self.proxies = {u: proxy_for(u) for u in llm.base_urls}
        # (URL without user info, headers) per server: user:password@ in a base_url becomes
        # Basic auth for that server (aiohttp refuses it beside an Authorization header);
        # otherwise the key from the environment goes as a Bearer token.
        self.targets = {u: split_credentials(u, key) for u in llm.base_urls}
        self.http_slots = asyncio.Semaphore(llm.max_in_flight)
        self.rpm = RateLimiter(llm.rpm) if llm.rpm else None
        self.tpm = RateLimiter(llm.tpm) if llm.tpm else None
        self.bar = bar

    async def limits(self, est_tokens: int) -> None:
        """Wait for the requests-per-minute and tokens-per-minute budgets."""
        if self.rpm:
            await self.rpm.acquire(1)
        if self.tpm:
            await self.tpm.acquire(est_tokens)

    def pick(self) -> str:
        """The least busy server that is up (any, when none is)."""
        now = time.monotonic()
        servers = self.busy
        up = [u for u, h in self.health.items() if h[1] <= now] if len(servers) > 1 else servers
        return min(up or servers, key=servers.__getitem__)

    async def post(self, url: str, path: str, data: bytes, max_body: int) -> tuple:
        """(status, headers, body, error): status 0 with the error for a timeout or a dropped
        connection; the body is cut after max_body + 1 bytes (see read_bounded)."""
        import aiohttp

        status, headers, raw, last = 0, {}, b"", ""
        shown = redact_text(url)
        async with self.http_slots:
            self.busy[url] += 1
            self.bar.sent()
            try:
                target, auth = self.targets[url]
                async with self.session.post(
                    endpoint(target, path), data=data, proxy=self.proxies[url], headers=auth
                ) as resp:
                    status, headers = resp.status, resp.headers
                    raw = await read_bounded(resp, max_body)
            except TimeoutError:
                status, last = 0, f"timeout after {self.timeout}s from {shown}"
            except aiohttp.ClientError as e:  # refused, reset, dropped mid-response
                status = 0
                last = redact_text(f"connection error to {shown}: {type(e).__name__}: {e}")[:300]
            finally:
                self.busy[url] -= 1
        self._note(url, status)
        return status, headers, raw, last

    def _note(self, url: str, status: int) -> None:
        h = self.health[url]
        if status in (0, 502, 503, 504):
            h[0] += 1
            h[1] = time.monotonic() + min(30.0, 0.5 * 2 ** (h[0] - 1))
        else:
            h[0] = 0

    async def close(self) -> None:
        await self.session.close()


async def read_bounded(resp: Any, limit: int) -> bytes:
    """The body, or its first limit + 1 bytes when it is longer (never held whole)."""
    if resp.content_length is not None and resp.content_length <= limit:
        return await resp.read()
    raw = bytearray()
    async for chunk in resp.content.iter_chunked(1 << 16):
        raw += chunk
        if len(raw) > limit:
            break
    return bytes(raw)
