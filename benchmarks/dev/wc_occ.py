"""Issue 14, weight conditioning on a 3-D occupancy field (the paper's 3-D shape setting, our shape): ReLU + PE
3x256, BCE, 3000 Adam steps, batch 8192, lr 1e-3; steps to reach the unconditioned final training loss."""
import json
from rankfield.inr import CoordinateMLP, FitConfig, fit_occupancy
res = {}
for label, extra in (("plain", {}), ("wc_recomputed", dict(linear="conditioned", outer_linear="conditioned")),
                     ("wc_frozen", dict(linear="conditioned", outer_linear="conditioned", conditioning_recompute=False))):
    m = CoordinateMLP(in_features=3, out_features=1, width=256, depth=3, activation="relu", encoding="positional",
                      encoding_options={"n_frequencies": 6}, seed=3, **extra)
    r = fit_occupancy("composite", m, FitConfig(steps=3000, lr=1e-3, batch_size=8192, loss="bce", log_every=50,
                                                 progress=False, seed=3), n_points=100_000, eval_resolution=64, seed=3)
    res[label] = r
    print(json.dumps({"run": label, "iou": round(r.metrics["iou"], 4), "final_loss": r.history["loss"][-1]}), flush=True)
target = res["plain"].history["loss"][-1]
for label, r in res.items():
    hit = next((s for s, l in zip(r.history["step"], r.history["loss"]) if l <= target), None)
    print(json.dumps({"run": label, "steps_to_plain_final_loss": hit, "ratio": None if hit is None else hit / 3000}), flush=True)
