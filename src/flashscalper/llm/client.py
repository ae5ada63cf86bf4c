"""A small client for OpenAI-compatible ``/v1/chat/completions`` endpoints, over aiohttp.

Every call has a hard deadline (``timeout_s`` covers connect, send and read together) and fails with
one of three typed errors, so callers can always fall back to a rule: :class:`LLMTimeout`,
:class:`LLMUnavailable` (network, HTTP errors) and :class:`LLMBadAnswer` (an answer without text).
The API key travels only in the ``Authorization`` header and never appears in errors or logs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import aiohttp
import orjson

from flashscalper.config import GeneralSettings
from flashscalper.errors import FlashScalperError

__all__ = ["ChatClient", "LLMBadAnswer", "LLMError", "LLMTimeout", "LLMUnavailable", "Message"]

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "..."}


class LLMError(FlashScalperError):
    """The model gave no usable answer; the caller should use its rule-based default."""


class LLMTimeout(LLMError):
    """No complete answer within the deadline."""


class LLMUnavailable(LLMError):
    """The endpoint could not be reached or answered with an HTTP error."""


class LLMBadAnswer(LLMError):
    """The endpoint answered, but not with a chat completion."""


class ChatClient:
    """``await client.complete(messages)`` returns the assistant's text or raises :class:`LLMError`.

    ``base_url`` may or may not end in ``/v1`` (``http://127.0.0.1:11434`` and
    ``http://127.0.0.1:11434/v1`` both work).
    """

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, timeout_s: float = 2.0,
                 session: aiohttp.ClientSession | None = None) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        base = base_url.rstrip("/")
        self.url = (base if base.endswith("/v1") else base + "/v1") + "/chat/completions"
        self.model = model
        self.timeout_s = timeout_s
        self._api_key = api_key
        self._session = session
        self._own_session = session is None
        self.calls = 0
        self.failures = 0

    @classmethod
    def from_settings(cls, general: GeneralSettings) -> ChatClient | None:
        """A client when ``FLASHSCALPER_LLM_BASE_URL`` and ``FLASHSCALPER_LLM_MODEL`` are set, else None."""
        if not general.llm_base_url or not general.llm_model:
            return None
        key = general.llm_api_key.get_secret_value() if general.llm_api_key else None
        return cls(general.llm_base_url, general.llm_model, api_key=key, timeout_s=general.llm_timeout_seconds)

    def __repr__(self) -> str:  # never show the key
        return f"ChatClient(url={self.url!r}, model={self.model!r}, timeout_s={self.timeout_s})"

    async def complete(self, messages: Sequence[Message], *, max_tokens: int = 200, temperature: float = 0.2,
                       json_mode: bool = False) -> str:
        """The assistant's reply to ``messages``, within ``timeout_s`` or :class:`LLMTimeout`."""
        self.calls += 1
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self._post(messages, max_tokens, temperature, json_mode)
        except TimeoutError:
            self.failures += 1
            raise LLMTimeout(f"the LLM did not answer within {self.timeout_s:g}s") from None
        except LLMError:
            self.failures += 1
            raise
        except (aiohttp.ClientError, OSError) as exc:
            self.failures += 1
            raise LLMUnavailable(f"the LLM endpoint is unreachable: {type(exc).__name__}") from None

    async def _post(self, messages: Sequence[Message], max_tokens: int, temperature: float, json_mode: bool) -> str:
        body: dict[str, Any] = {"model": self.model, "messages": list(messages), "max_tokens": max_tokens,
                                "temperature": temperature, "stream": False}
        if json_mode:
            body["response_format"] = {"type": "json_object"}
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        session = self._session_for_call()
        async with session.post(self.url, data=orjson.dumps(body), headers=headers) as response:
            raw = await response.read()
            if response.status >= 400:
                raise LLMUnavailable(f"the LLM endpoint answered HTTP {response.status}")
        try:
            answer = orjson.loads(raw)
            content = answer["choices"][0]["message"]["content"]
        except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
            raise LLMBadAnswer("the LLM endpoint did not return a chat completion") from None
        if not isinstance(content, str) or not content.strip():
            raise LLMBadAnswer("the LLM answered with empty content")
        return content

    def _session_for_call(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None
