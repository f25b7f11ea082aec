"""LLM backends that return JSON constrained by a JSON schema.

- `LlamaCppBackend`: an in-process llama.cpp model (llama-cpp-python) from a GGUF file;
  by default the Qwen2.5-Coder-1.5B-Instruct Q4_K_M that `models.py` assembles from PyPI packages.
- `OpenAIBackend`: any OpenAI-compatible `/v1/chat/completions` endpoint (vLLM, Ollama,
  llama.cpp server, hosted APIs) with `response_format` carrying the schema.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx

from takeaway.errors import ExtractionError, ModelMissingError


@dataclass
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    model: str


class LLM(Protocol):
    model_id: str

    def complete(self, messages: list[dict], schema: dict, max_tokens: int = 1024,
                 frequency_penalty: float = 0.0) -> Completion: ...

    def count_tokens(self, text: str) -> int: ...

    @property
    def context(self) -> int: ...


@contextmanager
def weight_repacking(enabled: bool):
    """Models loaded inside use (or not) llama.cpp's repacked weight buffers.

    Repacked buffers (AMX, AVX-512 8x8 kernels) crash llama-cpp-python 0.3.36 on some
    virtualized CPUs as soon as a batch holds more than one token, so they are off by default.
    """
    import llama_cpp
    from llama_cpp import llama as llama_module

    defaults = llama_cpp.llama_model_default_params

    def model_params():
        params = defaults()
        params.use_extra_bufts = enabled
        return params

    llama_module.llama_cpp.llama_model_default_params = model_params
    try:
        yield
    finally:
        llama_module.llama_cpp.llama_model_default_params = defaults


class LlamaCppBackend:
    """A GGUF model run in-process by llama.cpp, loaded once."""

    def __init__(self, model_path: Path, n_ctx: int = 8192, threads: int = 0, repack: bool = False):
        if not Path(model_path).is_file():
            raise ModelMissingError(f"LLM weights not found at {model_path}")
        from llama_cpp import Llama

        threads = threads or max(1, os.cpu_count() or 1)
        try:
            with weight_repacking(repack):
                self.llm = Llama(model_path=str(model_path), n_ctx=n_ctx, n_threads=threads,
                                 n_threads_batch=threads, verbose=False, seed=0,
                                 n_ubatch=128)  # smaller compute buffers: ~70 MB less, same speed here
        except ValueError as exc:
            raise ModelMissingError(f"cannot load GGUF {model_path}: {exc}") from None
        self.model_id = Path(model_path).name
        self._context = n_ctx

    @property
    def context(self) -> int:
        return self._context

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode(), add_bos=False, special=True))

    def complete(self, messages: list[dict], schema: dict, max_tokens: int = 1024,
                 frequency_penalty: float = 0.0) -> Completion:
        out = self.llm.create_chat_completion(messages=messages, temperature=0.0, max_tokens=max_tokens,
                                              frequency_penalty=frequency_penalty,
                                              response_format={"type": "json_object", "schema": schema})
        return Completion(text=out["choices"][0]["message"]["content"] or "",
                          prompt_tokens=out["usage"]["prompt_tokens"],
                          completion_tokens=out["usage"]["completion_tokens"], model=self.model_id)


class OpenAIBackend:
    """An OpenAI-compatible chat-completions endpoint with JSON-schema `response_format`."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 300.0,
                 context: int = 8192, answer_limit: int | None = None):
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers,
                                   timeout=httpx.Timeout(timeout_s, connect=10.0))
        self.model_id = model
        self._context = context
        self.format = "json_schema"
        self.answer_limit = answer_limit  # the endpoint's own cap on completion tokens, if any

    def response_format(self, schema: dict) -> dict:
        if self.format == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": "minutes", "schema": schema}}
        return {"type": "json_object", "schema": schema}

    @property
    def context(self) -> int:
        return self._context

    def count_tokens(self, text: str) -> int:
        return len(text) // 3 + 1  # conservative estimate: the endpoint's tokenizer is not local

    def complete(self, messages: list[dict], schema: dict, max_tokens: int = 1024,
                 frequency_penalty: float = 0.0) -> Completion:
        if self.answer_limit:
            max_tokens = min(max_tokens, self.answer_limit)
        body = {"model": self.model_id, "messages": messages, "temperature": 0, "max_tokens": max_tokens,
                "response_format": self.response_format(schema)}
        if frequency_penalty:
            body["frequency_penalty"] = frequency_penalty
        try:
            resp = self.client.post("/chat/completions", json=body)
            if self.format == "json_schema" and resp.status_code >= 400 and "response_format" in resp.text:
                # servers such as llama-cpp-python's take the schema as {"type": "json_object", "schema": ...}
                self.format = "json_object"
                body["response_format"] = self.response_format(schema)
                resp = self.client.post("/chat/completions", json=body)
        except httpx.HTTPError as exc:
            raise ExtractionError(f"LLM endpoint {self.client.base_url} unreachable: {exc}") from None
        if resp.status_code in (401, 403):
            raise ExtractionError(f"LLM endpoint refused the API key (HTTP {resp.status_code}): "
                                  "set TAKEAWAY_LLM_API_KEY")
        if resp.status_code >= 400:
            raise ExtractionError(f"LLM endpoint answered HTTP {resp.status_code}: {resp.text[:300]}")
        data = resp.json()
        usage = data.get("usage") or {}
        return Completion(text=data["choices"][0]["message"].get("content") or "",
                          prompt_tokens=int(usage.get("prompt_tokens", 0)),
                          completion_tokens=int(usage.get("completion_tokens", 0)),
                          model=data.get("model") or self.model_id)
