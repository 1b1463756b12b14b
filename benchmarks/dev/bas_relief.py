"""Is fern's pose error a bas-relief slide? (issue 33; no training: reads the final poses of earlier dev runs.)

For every pair of frames the relative rotation R_i^T R_j (gauge-free) is compared with GT's as rotation vectors
w_ij. If the estimate is GT's camera motion scaled by one factor s (rotation about the fixation point traded
against scene relief: the bas-relief ambiguity of narrow-FOV captures), then w_est ~= s w_gt. Prints, per run:
the relative rotation error (deg), the least-squares s, the residual after the scaled fit, and the same for the
camera centres after Sim(3) alignment of their means (centre offsets from the mean, c_est ~= s c_gt up to a
rotation), so a small residual with a large error says the cameras sit on the one-parameter valley.

    python benchmarks/dev/bas_relief.py benchmarks/dev/fern_barf_prefix.log benchmarks/dev/fern_coarse_gt.log
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
from rankfield.nerf import load_llff  # noqa: E402


def log_rot(R):
    """Rotation vectors of (..., 3, 3) rotations (radians)."""
    cos = np.clip((np.trace(R, axis1=-2, axis2=-1) - 1) / 2, -1, 1)
    th = np.arccos(cos)
    w = np.stack([R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0], R[..., 1, 0] - R[..., 0, 1]], -1)
    k = np.where(th[..., None] > 1e-8, th[..., None] / (2 * np.sin(np.maximum(th, 1e-8))[..., None]), 0.5)
    return w * k


def pair_vectors(c2w):
    R = c2w[:, :3, :3]
    rel = np.einsum("iba,jbc->ijac", R, R)  # R_i^T R_j
    n = len(R)
    iu = np.triu_indices(n, 1)
    return log_rot(rel[iu])


def analyse(est, gt):
    we, wg = pair_vectors(est), pair_vectors(gt)
    err = np.degrees(np.linalg.norm(we - wg, axis=-1)).mean()
    s = float((we * wg).sum() / (wg * wg).sum())
    res = np.degrees(np.linalg.norm(we - s * wg, axis=-1)).mean()
    # per camera axis (the relative rotation vectors are in camera i's frame; fern's cameras are nearly parallel):
    # x = pitch, y = yaw (both trade against a sideways shift in a forward-facing capture), z = roll
    s_axis = [round(float((we[:, k] * wg[:, k]).sum() / max((wg[:, k] ** 2).sum(), 1e-12)), 3) for k in range(3)]
    rms_gt = [round(float(np.degrees(np.sqrt((wg[:, k] ** 2).mean()))), 2) for k in range(3)]
    # the best rotation-only fit with a free rotation of the relative vectors is not needed: they are gauge-free
    ce, cg = est[:, :3, 3] - est[:, :3, 3].mean(0), gt[:, :3, 3] - gt[:, :3, 3].mean(0)
    U, S, Vt = np.linalg.svd(cg.T @ ce)
    D = np.diag([1, 1, np.sign(np.linalg.det(U @ Vt))])
    Rg = U @ D @ Vt  # rotates est offsets onto gt's
    ce_r = ce @ Rg.T
    sc = float((ce_r * cg).sum() / (cg * cg).sum())
    cres = np.linalg.norm(ce_r - sc * cg, axis=-1).mean() / np.linalg.norm(cg, axis=-1).mean()
    return {"rel_rot_err": round(err, 2), "s_rot": round(s, 3), "resid_after_scale": round(res, 2),
            "s_xyz": s_axis, "gt_rms_deg_xyz": rms_gt,
            "s_centres": round(sc, 3), "centre_resid_frac": round(float(cres), 3)}


def main(paths):
    gt = load_llff(ROOT.parent / "shared" / "data" / "fern", factor=16).poses.double().numpy()
    for p in paths:
        for line in Path(p).read_text().splitlines():
            if '"poses"' not in line:
                continue
            d = json.loads(line)
            est = np.array(d["poses"]).reshape(-1, 3, 4) if len(d["poses"][0]) == 12 else np.array(d["poses"]).reshape(-1, 4, 4)
            if len(est) != len(gt):
                continue
            tag = d.get("tag") or f"{d.get('init')} steps {d.get('steps')}"
            print(json.dumps({"log": Path(p).name, "tag": tag, "init": d.get("init"), **analyse(est, gt)}))


if __name__ == "__main__":
    main(sys.argv[1:])
