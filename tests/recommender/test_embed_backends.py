"""Embedding backends: the int8 ONNX export agrees with torch, is cached by the model's hashes, never mixes."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from newsagg.config import EmbeddingSettings
from recommender.embed import Embedder, mean_pool_normalised, resolve_model
from recommender.onnx_export import exported_model
from recommender.service import RelatedService

from tests.recommender.recommender_helpers import add_article, make_settings

pytestmark = pytest.mark.slow

TEXTS = [
    "Tesla recalls 120,000 Model S cars over seat belt bolts. The NHTSA said the faulty bolts were fitted in Fremont.",
    "BYD overtakes Tesla as the world's largest seller of electric cars in the fourth quarter of 2023.",
    "Apple unveils the M4 MacBook Pro with a faster neural engine",
    "EU duties",
    "Der Bundestag beschließt neue Förderung für Elektroautos; Händler rechnen mit mehr Nachfrage.",
]
COSINE_FLOOR = 0.97  # int8 per-channel vs fp32 torch; measured 0.977 min / 0.993 mean on 66 dev texts


@pytest.fixture(scope="module")
def torch_embedder():
    return Embedder(EmbeddingSettings(backend="torch"))


def test_int8_vectors_match_torch_on_real_texts(torch_embedder, tmp_path_factory):
    onnx = Embedder(EmbeddingSettings(backend="onnx"), cache_dir=tmp_path_factory.mktemp("data"))
    ours, ref = onnx.encode(TEXTS), torch_embedder.encode(TEXTS)
    assert ours.shape == ref.shape == (len(TEXTS), 384) and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosine = (ours * ref).sum(axis=1)
    assert cosine.min() >= COSINE_FLOOR, cosine
    # the same text ranks its own torch vector first: the backends agree on what is near what
    assert (np.argmax(ours @ ref.T, axis=1) == np.arange(len(TEXTS))).all()
    # padding masks out: a text alone and in a batch of longer ones stay close (int8 activations are scaled per
    # batch, so they are not bit-identical; fp32 ones are)
    alone = onnx.encode(TEXTS[3:4])[0]
    assert float(alone @ ours[3]) >= 0.98


def test_mean_pooling_ignores_padding_like_sentence_transformers():
    tokens = np.array([[[1.0, 0.0], [3.0, 0.0], [100.0, 100.0]]], dtype=np.float32)
    pooled = mean_pool_normalised(tokens, np.array([[1, 1, 0]]))
    assert np.allclose(pooled, [[1.0, 0.0]])


def _model_copy(dst: Path) -> Path:
    """The bundled model, small files copied and the weights linked (so the copy can be edited)."""
    src = Path(resolve_model("all-MiniLM-L6-v2"))
    for path in src.rglob("*"):
        target = dst / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif path.stat().st_size > 1_000_000:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    return dst


def test_export_is_cached_and_rebuilt_when_the_model_changes(tmp_path):
    model = _model_copy(tmp_path / "model")
    cache = tmp_path / "cache"
    first = exported_model(model, cache)
    built_at = first.stat().st_mtime_ns
    assert exported_model(model, cache) == first and first.stat().st_mtime_ns == built_at  # reused, not rebuilt
    config = model / "config_sentence_transformers.json"
    config.write_text(config.read_text() + "\n", encoding="utf-8")  # any change to the model's files
    second = exported_model(model, cache)
    assert second != first and second.exists()
    assert not first.exists()  # the stale build is pruned
    emb = Embedder(EmbeddingSettings(model=str(model), backend="onnx", cache_dir=cache))
    assert emb.encode(["a car"]).shape == (1, 384) and emb.model.onnx_file == second


def test_backends_store_and_index_under_their_own_key(store, torch_embedder, tmp_path):
    ids = [add_article(store, t, t + " More words about it follow here.", source=f"s{i}", hours=i)
           for i, t in enumerate(TEXTS)]
    settings = make_settings(tmp_path)
    first = RelatedService(store, settings, embedder=torch_embedder).update_index()
    assert first.embedded == len(ids)
    onnx = Embedder(EmbeddingSettings(backend="onnx"), cache_dir=tmp_path)
    assert onnx.info.key == "all-MiniLM-L6-v2@onnx-int8" != torch_embedder.info.key
    service = RelatedService(store, settings, embedder=onnx)
    second = service.update_index()
    # the torch snapshot and stored torch vectors are not reused for the int8 backend: all re-embedded
    assert second.embedded == len(ids) and second.reused == 0 and second.total == len(ids)
    assert service.vectors.stored_count() == len(ids)
    assert RelatedService(store, settings, embedder=torch_embedder).vectors.stored_count() == len(ids)
    assert service.related(ids[0]) is not None


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown embedding backend"):
        Embedder(EmbeddingSettings(backend="tensorflow"))


def _wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return found


def test_sigterm_while_the_api_builds_the_model_shuts_down_cleanly(tmp_path):
    """`newsagg api` builds the int8 model on first use (its loader thread); a SIGTERM in the middle of the build
    still shuts it down gracefully, the builder stops and cleans up, and the next start builds a whole model."""
    models = tmp_path / "data" / "models"
    env = {**os.environ, "NEWSAGG_DATA_DIR": str(tmp_path / "data"), "NEWSAGG_CONFIG": str(tmp_path / "none.toml"),
           "HF_HUB_OFFLINE": "1", "NEWSAGG_EMBEDDING__BACKEND": "onnx"}
    log = open(tmp_path / "api.log", "w")
    api = subprocess.Popen([sys.executable, "-m", "newsagg.app.cli", "api", "--host", "127.0.0.1", "--port", "0"],
                           env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=log, text=True)
    builders: list[psutil.Process] = []
    try:
        assert re.search(r"http://127\.0\.0\.1:\d+/", api.stdout.readline())
        work = _wait_for(lambda: list(models.glob(".build-*")), 300, "the build to start")
        time.sleep(2)  # well inside the export (it takes tens of seconds)
        builders = psutil.Process(api.pid).children(recursive=True)
        api.send_signal(signal.SIGTERM)
        api.wait(timeout=60)
        # the builder sees the API go and stops, taking its work directory with it
        gone, alive = psutil.wait_procs(builders, timeout=60)
        assert not alive, alive
    finally:
        for proc in [api, *builders]:
            with contextlib.suppress(psutil.Error, OSError):
                proc.kill()
        log.close()
    output = (tmp_path / "api.log").read_text()
    assert api.returncode in (0, -signal.SIGTERM) and "Application shutdown complete" in output, output[-3000:]
    assert not work[0].exists() and not list(models.glob(".build-*"))
    built = [d for d in models.glob("model-int8-*") if d.is_dir()]
    assert all((d / "source.json").exists() for d in built)  # nothing half-written under a model's name
    # the next start builds the model whole and uses it
    emb = Embedder(EmbeddingSettings(backend="onnx", cache_dir=models))
    assert emb.encode(["a car recall"]).shape == (1, 384)
    source = json.loads((emb.model.onnx_file.parent / "source.json").read_text())
    assert source["int8"] is True and emb.model.onnx_file.parent.name.endswith(source["fingerprint"][:16])
