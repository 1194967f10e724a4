"""A local sentence-transformers model → an int8 ONNX file, built offline once and cached by the model's hashes.

torch's own exporter (the TorchScript path, `dynamo=False`: the dynamo path needs onnxscript, an extra dependency
that buys nothing for a plain BERT) writes the transformer's token embeddings; onnxruntime's BERT fusions merge
each layer's attention, layer norms and GELU into single ops; `quantize_dynamic` turns the weight MatMuls and
Attention into int8 ones. Per-channel weight scales keep the vectors close to fp32 (cosine to torch 0.994 mean,
0.986 min on 300 dev texts; one scale per tensor gave ~0.956). Measured on those texts against plain
sentence-transformers (same run): fp32 ONNX + fusions 1.5x, int8 2.6x; keeping the feed-forward output
projections fp32 (the previous recipe) brought the mean cosine to 0.997 but the speed-up down to 2.0x.
Pooling and normalising stay outside the graph (recommender/embed.py), exactly as sentence-transformers does them.

The build runs in a child process (`python -m recommender.onnx_export`), so it can be stopped: a SIGTERM to the
process that waits for it (e.g. `newsagg api`, whose loader thread builds on first use) shuts that one down as
usual, and the child, seeing its stdin close, stops and removes its work directory. The export's torch and
quantizer state never stays in the serving process either. Readers only ever see a complete build (one
directory renamed into place); the leftovers of a build killed outright (SIGKILL) go before the next one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path

from filelock import FileLock

log = logging.getLogger("recommender.onnx_export")  # by name: the builder runs it as __main__

# Bump when the export or quantization recipe changes, so caches built by older code are rebuilt.
RECIPE = "torchscript-opset17-eager+bert-fusions+qint8-per-channel/3"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
MODEL_FILE = "model.onnx"
BUILD_PREFIX = ".build-"


def model_fingerprint(model_dir: Path, quantize: bool) -> str:
    """sha256 over the model's path, every file's name and content, and the recipe: any change means a rebuild."""
    digest = hashlib.sha256(f"{RECIPE}|int8={quantize}|{model_dir.resolve()}".encode())
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(model_dir)).encode())
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def exported_model(model_dir: Path, cache_root: Path, quantize: bool = True) -> Path:
    """Path of the ONNX file for this model, exporting (and quantizing) it first if the cache has none for it."""
    model_dir = Path(model_dir)
    fingerprint = model_fingerprint(model_dir, quantize)
    target = cache_root / f"{_build_name(model_dir, quantize)}-{fingerprint[:16]}"
    if not (target / MODEL_FILE).exists():
        _build_in_child(model_dir, target, quantize, fingerprint)
    return target / MODEL_FILE


def _build_name(model_dir: Path, quantize: bool) -> str:
    return f"{model_dir.name}-{'int8' if quantize else 'fp32'}"


def _build_in_child(model_dir: Path, target: Path, quantize: bool, fingerprint: str) -> None:
    """_build_once in a child process; an exception here (KeyboardInterrupt, SystemExit) stops the child first."""
    args = json.dumps({"model_dir": str(model_dir), "target": str(target), "quantize": quantize,
                       "fingerprint": fingerprint})
    package_root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)}
    child = subprocess.Popen([sys.executable, "-m", "recommender.onnx_export", args], stdin=subprocess.PIPE, env=env)
    try:
        code = child.wait()
    except BaseException:
        child.terminate()
        child.wait()
        raise
    if code != 0 or not (target / MODEL_FILE).exists():
        raise RuntimeError(f"building the ONNX model from {model_dir} failed (exit status {code}; see the log above)")


def _build_once(model_dir: Path, target: Path, quantize: bool, fingerprint: str) -> None:
    """Build under a lock held by the building process itself (until its work directory is gone), so two
    processes starting at once build once, and a build's leftovers are never removed while it runs."""
    cache_root = target.parent
    cache_root.mkdir(parents=True, exist_ok=True)
    name = _build_name(model_dir, quantize)
    with FileLock(str(cache_root / f"{name}.lock")):
        if (target / MODEL_FILE).exists():
            return  # another process built it while this one waited
        for work in cache_root.glob(f"{BUILD_PREFIX}*"):  # left by a build that was killed outright
            shutil.rmtree(work, ignore_errors=True)
        log.info("building the ONNX embedding model from %s into %s (once per model)", model_dir, target)
        _build(model_dir, target, quantize, fingerprint)
        _prune(cache_root, name, keep=target)


def _build(model_dir: Path, target: Path, quantize: bool, fingerprint: str) -> None:
    work = Path(tempfile.mkdtemp(prefix=BUILD_PREFIX, dir=target.parent))
    try:
        exported, fp32 = work / "exported.onnx", work / "fp32.onnx"
        _export(model_dir, exported)
        _fuse_transformer_ops(model_dir, exported, fp32)
        exported.unlink()
        if quantize:
            import onnx
            from onnxruntime.quantization import QuantType, quantize_dynamic

            # its root-logger advice to pre-process does not apply to dynamic int8 (this is the child process:
            # silencing logging here silences nothing else)
            logging.disable(logging.WARNING)
            # DefaultTensorType: shape inference gives no type to the fused ops' outputs; they are float
            quantize_dynamic(fp32, work / MODEL_FILE, weight_type=QuantType.QInt8, per_channel=True,
                             extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
            fp32.unlink()
        else:
            fp32.rename(work / MODEL_FILE)
        (work / "source.json").write_text(json.dumps({"model": str(model_dir), "fingerprint": fingerprint,
                                                      "recipe": RECIPE, "int8": quantize}), encoding="utf-8")
        os.replace(work, target)  # readers see the whole directory or none of it
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _fuse_transformer_ops(model_dir: Path, exported: Path, out: Path) -> None:
    """onnxruntime's BERT fusions: one Attention op per layer (with the exporter's eager attention graph; the
    SDPA one is not recognised), EmbedLayerNormalization, SkipLayerNormalization, BiasGelu. Measured on dev
    texts: 1.35x fp32 ONNX without them, and the int8 model's speed-up over torch from 1.7x to ~2.1x."""
    from onnxruntime.transformers.optimizer import optimize_model

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    optimized = optimize_model(str(exported), model_type="bert", num_heads=int(config["num_attention_heads"]),
                               hidden_size=int(config["hidden_size"]))
    fused = optimized.get_fused_operator_statistics()
    if fused.get("Attention", 0) != int(config["num_hidden_layers"]):
        log.warning("only %s of %s attention blocks fused; the ONNX model works but runs slower",
                    fused.get("Attention", 0), config["num_hidden_layers"])
    optimized.save_model_to_file(str(out))


def _export(model_dir: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    # eager attention: its graph is the one onnxruntime's Attention fusion recognises (see _fuse_transformer_ops)
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    # Two texts of different lengths, so padding is traced; batch and sequence axes stay dynamic.
    sample = tokenizer(["an example sentence", "another, somewhat longer example sentence to pad"],
                       padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "token_embeddings")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation and tracer notes, expected here
        torch.onnx.export(TokenEmbeddings(model), tuple(sample[k] for k in INPUTS), str(out),
                          input_names=list(INPUTS), output_names=["token_embeddings"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)


def _prune(cache_root: Path, name: str, keep: Path) -> None:
    """Builds of an older version of this model are dead weight once the new one exists."""
    for old in cache_root.glob(f"{name}-*"):
        if old.is_dir() and old != keep:
            shutil.rmtree(old, ignore_errors=True)


def _stop_when_parent_goes() -> None:
    """The parent holds our stdin open while it waits; EOF means it stopped waiting (exited, or was killed)."""
    while os.read(0, 4096):  # the raw fd: a buffered reader's lock would stall interpreter shutdown
        pass
    signal.raise_signal(signal.SIGTERM)


def _child_main(argv: list[str]) -> int:
    def stop(signum, _frame):
        raise SystemExit(128 + signum)  # unwinds through _build's finally: the work directory goes

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)  # our one line; the optimizer's per-fusion notes stay out of the caller's log
    threading.Thread(target=_stop_when_parent_goes, name="parent-watch", daemon=True).start()
    job = json.loads(argv[0])
    _build_once(Path(job["model_dir"]), Path(job["target"]), bool(job["quantize"]), job["fingerprint"])
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
