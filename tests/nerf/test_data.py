import json
import math
import warnings

import numpy as np
import pytest
import torch

from rankfield.errors import InputError
from rankfield.nerf.data import MissingFramesWarning, load_blender, load_llff, load_scene
from rankfield.nerf.poses import perturb_poses_barf, perturb_poses_l2g
from rankfield.nerf.procedural import generate_procedural_scene
from rankfield.nerf.evaluate import pose_errors
from tests.nerf.conftest import write_png


def test_blender_loader(blender_dir):
    s = load_blender(blender_dir, "train")
    assert s.images.shape == (3, 6, 8, 3)
    assert s.intrinsics.fx == pytest.approx(0.5 * 8 / math.tan(0.35))
    assert s.poses[2, 2, 3] == pytest.approx(6.0)
    assert (s.near, s.far) == (2.0, 6.0)
    # alpha 128/255 of grey 128/255 composited on white
    a = 128 / 255
    assert float(s.images[0, 0, 0, 0]) == pytest.approx(a * a + (1 - a), abs=1e-5)


def test_blender_missing_frames_warn_with_count(blender_dir):
    (blender_dir / "train" / "r_1.png").unlink()
    (blender_dir / "train" / "r_2.png").unlink()
    with pytest.warns(MissingFramesWarning, match="2 of 3 frames"):
        s = load_blender(blender_dir, "train")
    assert len(s) == 1


def test_instant_ngp_intrinsics(tmp_path):
    write_png(tmp_path / "images" / "a.png", h=6, w=8)
    M = np.eye(4)
    M[2, 3] = 3
    meta = {"fl_x": 10.0, "fl_y": 11.0, "cx": 4.5, "cy": 2.5, "w": 8, "h": 6,
            "frames": [{"file_path": "images/a.png", "transform_matrix": M.tolist()},
                       {"file_path": "images/missing.png", "transform_matrix": M.tolist()}]}
    (tmp_path / "transforms.json").write_text(json.dumps(meta))
    with pytest.warns(MissingFramesWarning, match="1 of 2"):
        s = load_blender(tmp_path)
    assert (s.intrinsics.fx, s.intrinsics.fy, s.intrinsics.cx, s.intrinsics.cy) == (10.0, 11.0, 4.5, 2.5)


@pytest.mark.parametrize("case, match", [
    ("no_frames", "has no frames"),
    ("empty_frames", "has no frames"),
    ("nan_matrix", "non-finite"),
    ("bad_shape", "shape"),
    ("mixed_sizes", "mixed sizes"),
    ("all_missing", "none of the"),
])
def test_blender_bad_input(blender_dir, case, match):
    path = blender_dir / "transforms_train.json"
    meta = json.loads(path.read_text())
    if case == "no_frames":
        del meta["frames"]
    elif case == "empty_frames":
        meta["frames"] = []
    elif case == "nan_matrix":
        meta["frames"][1]["transform_matrix"][0][3] = float("nan")
    elif case == "bad_shape":
        meta["frames"][0]["transform_matrix"] = [[1, 0], [0, 1]]
    elif case == "mixed_sizes":
        write_png(blender_dir / "train" / "r_2.png", h=5, w=8)
    elif case == "all_missing":
        for f in meta["frames"]:
            f["file_path"] = "./nowhere/x"
    path.write_text(json.dumps(meta).replace("NaN", "NaN"))
    with pytest.raises(InputError, match=match):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingFramesWarning)
            load_blender(blender_dir, "train")


def test_llff_loader(llff_dir):
    s = load_llff(llff_dir, factor=8, recenter=False)
    assert s.images.shape == (4, 6, 8, 3)
    assert s.forward_facing and not s.white_background
    assert s.intrinsics.fx == pytest.approx(50.0 * 8 / 64)
    # [down, right, back] -> [right, up, back] gives the identity rotation
    assert torch.allclose(s.poses[:, :, :3], torch.eye(3).expand(4, 3, 3), atol=1e-6)
    sc = 1 / (2.0 * 0.75)  # rescale by 1/(0.75 min bound)
    assert s.poses[3, 0, 3] == pytest.approx(0.3 * sc)  # positions are world coordinates: only rescaled
    assert s.near == pytest.approx(2.0 * sc * 0.9)
    r = load_llff(llff_dir, factor=8)  # recentred: mean centre at the origin
    assert torch.allclose(r.poses[:, :, 3].mean(0), torch.zeros(3), atol=1e-5)
    assert load_scene(llff_dir).forward_facing


def test_llff_bad_shapes_and_counts(llff_dir):
    np.save(llff_dir / "poses_bounds.npy", np.zeros((4, 15)))
    with pytest.raises(InputError, match="N x 17"):
        load_llff(llff_dir)
    pb = np.zeros((5, 17))
    pb[:, 15:] = 1
    np.save(llff_dir / "poses_bounds.npy", pb)
    with pytest.raises(InputError, match="5 poses .* but 4 images"):
        load_llff(llff_dir)
    pb = np.full((4, 17), np.inf)
    np.save(llff_dir / "poses_bounds.npy", pb)
    with pytest.raises(InputError, match="non-finite"):
        load_llff(llff_dir)


def test_procedural_scene_roundtrip(tmp_path):
    root = generate_procedural_scene(tmp_path, n_train=5, n_test=2, size=12)
    tr, te = load_blender(root, "train"), load_blender(root, "test")
    assert tr.images.shape == (5, 12, 12, 3) and len(te) == 2
    # something is rendered (not all background) and the cameras look at the origin
    assert float((tr.images < 0.95).float().mean()) > 0.3
    fwd = -tr.poses[:, :, 2]
    to_origin = -tr.poses[:, :, 3] / tr.poses[:, :, 3].norm(dim=-1, keepdim=True)
    assert float((fwd * to_origin).sum(-1).min()) > 0.99


def test_perturbations_are_seeded_and_sized():
    from rankfield.nerf.procedural import procedural_camera_poses

    gt = procedural_camera_poses(30).float()
    a, b = perturb_poses_barf(gt, 0.15, seed=3), perturb_poses_barf(gt, 0.15, seed=3)
    assert torch.equal(a, b)
    # BARF sigma = 0.15 per axis: rotation angle ~ 0.15 * sqrt(3) * 0.92 rad ~ 13.7 deg on average (chi-3 mean)
    rot = pose_errors(a, gt)["rotation_deg"]
    assert 8 < np.mean(rot) < 20
    l2g = perturb_poses_l2g(gt, rotation_deg=10, translation=0.0, seed=0)
    ang = torch.rad2deg(torch.arccos(((l2g[:, :3, :3] @ gt[:, :3, :3].transpose(1, 2)).diagonal(0, 1, 2).sum(-1) - 1)
                                     .div(2).clamp(-1, 1)))
    assert 4 < float(ang.mean()) < 12  # |N(0, 10)| has mean 7.98


def test_moved_names_keep_their_old_imports():
    """Issue 34 moved the procedural scene and the pose noise out of nerf/data.py; old imports still work."""
    import rankfield.nerf as nerf
    from rankfield.nerf import data, poses, procedural

    for name in ("generate_procedural_scene", "procedural_camera_poses"):
        assert getattr(data, name) is getattr(procedural, name)
    for name in ("perturb_poses_barf", "perturb_poses_l2g", "identity_poses"):
        assert getattr(data, name) is getattr(poses, name) is getattr(nerf, name)
    assert nerf.generate_procedural_scene is procedural.generate_procedural_scene
    assert set(data.__all__) <= set(dir(data))
