"""rankfield.nerf -- NeRF with camera poses optimised jointly with the scene.

Poses are fixed, refined per frame in se(3) (BARF), or produced by an invertible neural warp shared by
all frames with per-frame latent codes and a rigidity loss from a differentiable Kabsch fit (Chng et al.,
ECCV 2024). Conventions: camera-to-world poses in OpenGL axes (see :mod:`rankfield.nerf.camera`),
twists ordered ``[w, v]`` (see :mod:`rankfield.nerf.geometry`).

Examples:
    A few seconds on a CPU:


    >>> import tempfile
    >>> from rankfield.nerf import (generate_procedural_scene, load_blender, perturb_poses_barf,
    ...                             fit_pose_nerf, TrainConfig, FieldConfig)
    >>> root = generate_procedural_scene(tempfile.mkdtemp(), n_train=8, n_test=2, size=16)
    >>> train, test = load_blender(root, "train"), load_blender(root, "test")
    >>> init = perturb_poses_barf(train.poses, sigma=0.05, seed=1)
    >>> res = fit_pose_nerf(train, test, init, "warp", field_config=FieldConfig(width=32, depth=2),
    ...                     train_config=TrainConfig(steps=20, rays_per_step=128, progress=False))
    >>> sorted(k for k in res.metrics if k.startswith("rotation"))
    ['rotation_deg', 'rotation_deg_median']

Also: :func:`load_llff`, :func:`load_scene`, pose models (:class:`FixedPoses`, :class:`SE3Refinement`,
:class:`InvertibleWarpPoses`), :func:`pose_errors` (and its alignment-free
``rankfield.nerf.evaluate.relative_rotation_errors``), :func:`evaluate_views`, the 2-D alignment task
(:mod:`rankfield.nerf.planar`) and the geometry helpers in :mod:`rankfield.nerf.geometry` (``so3_exp``,
``se3_log``, ``rigid_fit``, ...). Lower-level pieces are reached through their modules:
``rankfield.nerf.camera.rays_from_poses``, ``rankfield.nerf.render.render_image``,
``rankfield.nerf.poses.InvertibleWarp``, ``rankfield.nerf.evaluate.refine_test_poses``, ...
"""

from rankfield._moved import moved_getattr
from rankfield.nerf import camera, data, evaluate, geometry, poses, render
from rankfield.nerf.camera import Intrinsics
from rankfield.nerf.data import Scene, load_blender, load_llff, load_scene
from rankfield.nerf.evaluate import evaluate_views, pose_errors
from rankfield.nerf.field import FieldConfig, RadianceField
from rankfield.nerf.pipeline import PoseNerfResult, fit_pose_nerf
from rankfield.nerf.poses import (FixedPoses, InvertibleWarpPoses, SE3Refinement, WarpConfig, identity_poses,
                                  perturb_poses_barf)
from rankfield.nerf.procedural import generate_procedural_scene
from rankfield.nerf.render import RenderConfig
from rankfield.nerf.train import TrainConfig, TrainResult, train_scene

__all__ = [
    "Intrinsics", "Scene", "load_blender", "load_llff", "load_scene", "generate_procedural_scene",
    "perturb_poses_barf", "identity_poses",
    "FieldConfig", "RadianceField", "RenderConfig",
    "FixedPoses", "SE3Refinement", "WarpConfig", "InvertibleWarpPoses",
    "TrainConfig", "TrainResult", "train_scene",
    "pose_errors", "evaluate_views",
    "fit_pose_nerf", "PoseNerfResult",
]

# The geometry helpers were package-level names until 2026-12; they live in rankfield.nerf.geometry. The old names
# work for one release with a DeprecationWarning.
_MOVED_TO_GEOMETRY = ("so3_exp", "so3_log", "se3_exp", "se3_log", "compose", "invert", "rigid_fit", "procrustes_sim3",
                      "rotation_error_deg")


# Low-level helpers that were package-level names until 2026-12 too, now reached through their modules.
_MOVED = {**dict.fromkeys(_MOVED_TO_GEOMETRY, "geometry"), "pixel_points": "camera", "rays_from_poses": "camera",
          "volume_render": "render", "make_pose_model": "poses", "default_lr_pose_end": "poses",
          # moved 2026-12-06: building blocks and helpers behind the entry points
          "look_at": "camera", "MissingFramesWarning": "data", "perturb_poses_l2g": "poses", "PoseModel": "poses",
          "InvertibleWarp": "poses", "render_rays": "render", "render_image": "render",
          "relative_rotation_errors": "evaluate", "refine_test_poses": "evaluate", "render_view": "evaluate"}


__getattr__ = moved_getattr("rankfield.nerf", _MOVED)
