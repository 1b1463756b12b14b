"""CUDA checks (marked gpu: excluded by default, skipped without CUDA). Run with `pytest -m gpu`."""

import pytest
import torch

from rankfield.inr import CoordinateMLP, FitConfig, default_image, fit_image
from rankfield.inr.encodings import HashGridEncoding

pytestmark = pytest.mark.gpu


def test_image_fit_on_cuda_with_amp():
    img = default_image(64)
    model = CoordinateMLP(in_features=2, out_features=3, activation="sine", width=128)
    res = fit_image(img, model=model, config=FitConfig(steps=300, lr=1e-3, device="cuda", amp=True, progress=False))
    assert res.metrics["psnr"] > 28.0
    assert next(res.model.parameters()).device.type == "cuda"


def test_hash_grid_torch_backend_matches_on_cuda_and_cpu():
    enc = HashGridEncoding(3, n_levels=8, log2_hashmap_size=12, backend="torch")
    x = torch.rand(1000, 3) * 2 - 1
    cpu = enc(x)
    gpu = enc.to("cuda")(x.to("cuda")).cpu()
    assert torch.allclose(cpu, gpu, atol=1e-6)


def test_fp32_fit_agrees_between_cpu_and_cuda_within_a_tenth_of_a_db():
    """Mixed precision is opt-in: at the default fp32 a fit measures the same on both devices."""
    img = default_image(48)
    res = {}
    for device in ("cpu", "cuda"):
        model = CoordinateMLP(in_features=2, out_features=3, activation="sine", width=64, seed=3)
        res[device] = fit_image(img, model=model, config=FitConfig(steps=200, lr=1e-3, device=device, progress=False))
    assert abs(res["cpu"].metrics["psnr"] - res["cuda"].metrics["psnr"]) < 0.1, {k: v.metrics for k, v in res.items()}


def test_fit_many_on_cuda_matches_separate_fits():
    from rankfield.inr import fit, fit_many, image_coordinates
    x = image_coordinates(16, 16).reshape(-1, 2)
    ys = torch.rand(4, 256, 3, generator=torch.Generator().manual_seed(0))
    cfg = FitConfig(steps=50, device="cuda", progress=False)
    nets = [CoordinateMLP(activation="sine", width=32, seed=i) for i in range(4)]
    res = fit_many(nets, x, ys, cfg)
    for i in range(4):
        alone = fit(CoordinateMLP(activation="sine", width=32, seed=i), x, ys[i], cfg)
        assert abs(res.history["psnr"][-1][i] - alone.history["psnr"][-1]) < 1e-3
        assert next(nets[i].parameters()).device.type == "cuda"
