"""rankfield.inr -- coordinate MLPs (implicit neural representations).

Build a network from one config, fit it, and diagnose its rank::

    >>> from rankfield.inr import CoordinateMLP
    >>> model = CoordinateMLP(in_features=2, out_features=3, activation="relu", init="rank_expanding")

Public API: encodings (:class:`PositionalEncoding`, :class:`FourierFeatures`, :class:`HashGridEncoding`),
activations (:class:`Sine`, :class:`Finer`, :class:`Gauss`, :class:`Wire`), layers
(:class:`ConditionedLinear`, :class:`LowRankLinear`, :class:`SineLowRankLinear`),
:func:`rank_expanding_init_`, :func:`hat_basis_init_`, :class:`MLPConfig` / :class:`CoordinateMLP`, diagnostics, fitting
(:func:`fit`, :func:`fit_image`, :func:`fit_signal`, :func:`fit_occupancy`; many networks at once:
:func:`fit_many`, :func:`fit_images`) and metrics.
"""

from rankfield.inr.activations import Finer, Gauss, Sine, Wire, make_activation, siren_init_
from rankfield.inr.diagnostics import (condition_number, effective_rank, layer_features, ntk_spectrum,
                                       numerical_rank, rank_report, stable_rank)
from rankfield.inr.encodings import FourierFeatures, HashGridEncoding, PositionalEncoding, make_encoding
from rankfield.inr.init import hat_basis_init_, rank_expanding_init_
from rankfield.inr.layers import ConditionedLinear, LowRankLinear, SineLowRankLinear, make_linear
from rankfield.inr.data import chirp, default_image, grid_coordinates, image_coordinates, load_image, load_signal, shape_occupancy
from rankfield.inr.fitting import FitConfig, FitResult, fit, fit_image, fit_occupancy, fit_signal, load_model, predict
from rankfield.inr.many import ManyFitResult, fit_images, fit_many
from rankfield.inr.metrics import iou, psnr, ssim
from rankfield.inr.mlp import CoordinateMLP, MLPConfig

__all__ = [
    "PositionalEncoding", "FourierFeatures", "HashGridEncoding", "make_encoding",
    "Sine", "Finer", "Gauss", "Wire", "make_activation", "siren_init_",
    "ConditionedLinear", "LowRankLinear", "SineLowRankLinear", "make_linear",
    "rank_expanding_init_", "hat_basis_init_", "MLPConfig", "CoordinateMLP",
    "stable_rank", "effective_rank", "numerical_rank", "condition_number", "rank_report",
    "layer_features", "ntk_spectrum",
    "FitConfig", "FitResult", "fit", "fit_image", "fit_signal", "fit_occupancy", "predict", "load_model",
    "ManyFitResult", "fit_many", "fit_images",
    "load_image", "default_image", "load_signal", "chirp", "grid_coordinates", "image_coordinates", "shape_occupancy",
    "psnr", "ssim", "iou",
]
