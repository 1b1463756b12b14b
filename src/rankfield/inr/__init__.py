"""rankfield.inr -- coordinate MLPs (implicit neural representations).

Build a network from one config, fit it, and diagnose its rank:

    >>> from rankfield.inr import CoordinateMLP
    >>> model = CoordinateMLP(in_features=2, out_features=3, activation="relu", init="rank_expanding")

Public API: :class:`MLPConfig` / :class:`CoordinateMLP`, fitting (:func:`fit`, :func:`fit_image`,
:func:`fit_signal`, :func:`fit_occupancy`; many networks at once: :func:`fit_many`, :func:`fit_images`) and data
helpers. The building blocks, which an ``MLPConfig`` names by string, live in their modules:
:mod:`rankfield.inr.encodings` (``PositionalEncoding``, ``FourierFeatures``, ``HashGridEncoding``),
:mod:`rankfield.inr.activations` (``Sine``, ``Finer``, ``Gauss``, ``Wire``), :mod:`rankfield.inr.layers`
(``ConditionedLinear``, ``LowRankLinear``, ``SineLowRankLinear``) and :mod:`rankfield.inr.init`
(``rank_expanding_init_``, ``hat_basis_init_``). Rank and NTK diagnostics are in :mod:`rankfield.inr.diagnostics`,
image and shape metrics in :mod:`rankfield.inr.metrics`.
"""

from rankfield._moved import moved_getattr
from rankfield.inr import activations, diagnostics, encodings, init, layers, metrics
from rankfield.inr.data import chirp, default_image, grid_coordinates, image_coordinates, load_image, load_signal, shape_occupancy
from rankfield.inr.fitting import FitConfig, FitResult, fit, fit_image, fit_occupancy, fit_signal, load_model, predict
from rankfield.inr.many import ManyFitResult, fit_images, fit_many
from rankfield.inr.mlp import CoordinateMLP, MLPConfig

__all__ = [
    "MLPConfig", "CoordinateMLP",
    "FitConfig", "FitResult", "fit", "fit_image", "fit_signal", "fit_occupancy", "predict", "load_model",
    "ManyFitResult", "fit_many", "fit_images",
    "load_image", "default_image", "load_signal", "chirp", "grid_coordinates", "image_coordinates", "shape_occupancy",
]

# Package-level names until 2026-12, now reached through their modules (rankfield.inr.diagnostics.stable_rank,
# rankfield.inr.metrics.psnr, rankfield.inr.encodings.make_encoding, ...). The old names work for one release with
# a DeprecationWarning.
_MOVED = {**dict.fromkeys(("stable_rank", "effective_rank", "numerical_rank", "condition_number", "rank_report",
                           "layer_features", "ntk_spectrum"), "diagnostics"),
          **dict.fromkeys(("psnr", "ssim", "iou"), "metrics"), "make_encoding": "encodings",
          "make_activation": "activations", "siren_init_": "activations", "make_linear": "layers",
          # and the building blocks (the MLPConfig names them by string), moved 2026-12-06
          **dict.fromkeys(("Sine", "Finer", "Gauss", "Wire"), "activations"),
          **dict.fromkeys(("PositionalEncoding", "FourierFeatures", "HashGridEncoding"), "encodings"),
          **dict.fromkeys(("ConditionedLinear", "LowRankLinear", "SineLowRankLinear"), "layers"),
          **dict.fromkeys(("rank_expanding_init_", "hat_basis_init_"), "init")}


__getattr__ = moved_getattr("rankfield.inr", _MOVED)
