"""rankfield.inr -- coordinate MLPs (implicit neural representations).

Build a network from one config, fit it, and diagnose its rank:

    >>> from rankfield.inr import CoordinateMLP
    >>> model = CoordinateMLP(in_features=2, out_features=3, activation="relu", init="rank_expanding")

Public API: encodings (:class:`PositionalEncoding`, :class:`FourierFeatures`, :class:`HashGridEncoding`),
activations (:class:`Sine`, :class:`Finer`, :class:`Gauss`, :class:`Wire`), layers
(:class:`ConditionedLinear`, :class:`LowRankLinear`, :class:`SineLowRankLinear`),
:func:`rank_expanding_init_`, :func:`hat_basis_init_`, :class:`MLPConfig` / :class:`CoordinateMLP`, fitting
(:func:`fit`, :func:`fit_image`, :func:`fit_signal`, :func:`fit_occupancy`; many networks at once:
:func:`fit_many`, :func:`fit_images`) and data helpers. Rank and NTK diagnostics are in
:mod:`rankfield.inr.diagnostics`, image and shape metrics in :mod:`rankfield.inr.metrics`; the registries'
factories beside their registries (``rankfield.inr.encodings.make_encoding``, ...).
"""

from rankfield._moved import moved_getattr
from rankfield.inr import activations, diagnostics, encodings, layers, metrics
from rankfield.inr.activations import Finer, Gauss, Sine, Wire
from rankfield.inr.encodings import FourierFeatures, HashGridEncoding, PositionalEncoding
from rankfield.inr.init import hat_basis_init_, rank_expanding_init_
from rankfield.inr.layers import ConditionedLinear, LowRankLinear, SineLowRankLinear
from rankfield.inr.data import chirp, default_image, grid_coordinates, image_coordinates, load_image, load_signal, shape_occupancy
from rankfield.inr.fitting import FitConfig, FitResult, fit, fit_image, fit_occupancy, fit_signal, load_model, predict
from rankfield.inr.many import ManyFitResult, fit_images, fit_many
from rankfield.inr.mlp import CoordinateMLP, MLPConfig

__all__ = [
    "PositionalEncoding", "FourierFeatures", "HashGridEncoding",
    "Sine", "Finer", "Gauss", "Wire",
    "ConditionedLinear", "LowRankLinear", "SineLowRankLinear",
    "rank_expanding_init_", "hat_basis_init_", "MLPConfig", "CoordinateMLP",
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
          "make_activation": "activations", "siren_init_": "activations", "make_linear": "layers"}


__getattr__ = moved_getattr("rankfield.inr", _MOVED)
