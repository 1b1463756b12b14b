"""`CoordinateMLP`: one configurable coordinate network for every method in rankfield.

Structure (``depth`` hidden layers of ``width`` units)::

    x -> encoding -> L_0 -> [BN] -> act -> L_1 -> [BN] -> act -> ... -> L_{depth-1} -> [BN] -> act -> L_out -> out_act

``L_0`` (first) and ``L_out`` (last) are of type ``outer_linear``; the hidden-to-hidden layers
``L_1 .. L_{depth-1}`` are of type ``linear`` (dense / conditioned / lowrank / sine_lowrank), as in
the sine low-rank paper where first and last layers stay full rank.

Examples:
    ReLU MLP with rank-expanding init, and SIREN with sine low-rank rank-4 hidden layers::

        >>> relu_rei = CoordinateMLP(in_features=2, out_features=3, activation="relu", init="rank_expanding")
        >>> siren_lr = CoordinateMLP(in_features=2, out_features=3, activation="sine", linear="sine_lowrank", rank=4)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import torch
from torch import nn

from rankfield._config import Config
from rankfield._registry import Registry
from rankfield._device import check_seed, fork_rng
from rankfield.errors import InputError
from rankfield.inr.activations import ACTIVATIONS, make_activation, paper_omega0, siren_init_
from rankfield.inr.encodings import ENCODINGS, make_encoding
from rankfield.inr.init import hat_basis_init_, rank_expanding_init_
from rankfield.inr.layers import LINEAR_TYPES, make_linear

__all__ = ["MLPConfig", "CoordinateMLP"]

INITS = Registry("init")
INITS.register("paper", "the activation's paper init (PyTorch default for relu/gauss/wire)")
INITS.register("default", "PyTorch default everywhere")
INITS.register("rank_expanding", "ReLU only: the rank-expanding first layer (rankfield.inr.init)")
INITS.register("hat_basis", "ReLU only, ours: first two layers make a hierarchical hat basis (rankfield.inr.init)")
_OUTPUT_ACTIVATIONS = (None, "none", "sigmoid", "relu", "softplus", "tanh")


@dataclass
class MLPConfig(Config):
    """Configuration of a :class:`CoordinateMLP`. Every field has a default.

    Attributes:
        in_features: coordinate dimension (1 signal, 2 image, 3 shape).
        out_features: output channels.
        width: units per hidden layer.
        depth: number of hidden (activated) layers.
        activation: hidden activation, ``relu | sine | finer | gauss | wire``.
        omega0: frequency of sine/finer (SIREN ``omega0``) and WIRE's ``omega0``; ``None``: the activation's paper
            value (30 for sine and finer, 20 for wire).
        first_omega0: frequency of the first sine/finer layer (defaults to ``omega0``).
        gauss_scale: ``s`` of the Gaussian activation ``exp(-(s z)^2)``.
        wire_sigma0: WIRE's ``sigma0``.
        init: ``paper`` (the activation's paper init; PyTorch default for relu/gauss/wire),
            ``default`` (PyTorch default everywhere), ``rank_expanding`` (ReLU only: the paper's rule, first
            layer, our formula) or ``hat_basis`` (ReLU only, ours: first two layers, see
            :func:`~rankfield.inr.init.hat_basis_init_`).
        first_bias_scale: FINER's first-layer bias ``U(-k, k)``; ``None`` keeps the default bias.
        encoding: input encoding, ``None | positional | fourier | hashgrid``.
        encoding_options: keyword arguments of the encoding (e.g. ``{"n_frequencies": 10}``).
        linear: type of the hidden-to-hidden layers: ``dense | conditioned | lowrank | sine_lowrank``.
        outer_linear: type of the first and last layers: ``dense | conditioned``.
        rank: rank of ``lowrank`` / ``sine_lowrank`` layers.
        sine_omega: ``omega`` inside ``sin(omega U V^T)`` of sine low-rank layers (why 1000:
            ``docs/guide/inr.md#what-reproduces``).
        sine_gain: divisor ``g`` of sine low-rank layers (``None``: ``sqrt(fan_in)``, the authors').
        conditioning: equilibration of ``conditioned`` layers: ``row | col | rowcol``.
        conditioning_recompute: recompute the equilibration every step (``True``) or freeze it at init.
        batchnorm: BatchNorm1d after every hidden linear layer (before the activation).
        output_activation: ``None | sigmoid | relu | softplus | tanh``.
        seed: seed for all random initialization (encodings, weights).

    Example:
        >>> import torch
        >>> from rankfield.inr import CoordinateMLP, MLPConfig
        >>> cfg = MLPConfig(in_features=2, out_features=3, width=32, depth=2, activation="sine")
        >>> model = CoordinateMLP(cfg)
        >>> model(torch.zeros(5, 2)).shape
        torch.Size([5, 3])
    """

    in_features: int = 2
    out_features: int = 3
    width: int = 256
    depth: int = 3
    activation: str = "relu"
    omega0: float | None = None
    first_omega0: float | None = None
    gauss_scale: float = 10.0
    wire_sigma0: float = 10.0
    init: str = "paper"
    first_bias_scale: float | None = None
    encoding: str | None = None
    encoding_options: dict = field(default_factory=dict)
    linear: str = "dense"
    outer_linear: str = "dense"
    rank: int | None = None
    sine_omega: float = 1000.0
    sine_gain: float | None = None
    conditioning: str = "row"
    conditioning_recompute: bool = True
    batchnorm: bool = False
    output_activation: str | None = None
    seed: int = 0

    def validate(self) -> "MLPConfig":
        """Raise :class:`InputError` naming the first invalid field; return ``self``."""
        super().validate()
        check_seed(self.seed)
        for name in ("in_features", "out_features", "width", "depth"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise InputError(f"{name} must be a positive integer, got {v!r}")
        ACTIVATIONS.get(self.activation)
        INITS.get(self.init)
        if self.encoding not in (None, "none"):
            ENCODINGS.get(self.encoding)
        if self.init in ("rank_expanding", "hat_basis") and self.activation != "relu":
            raise InputError(f"init={self.init!r} is defined for ReLU MLPs only")
        if self.init in ("rank_expanding", "hat_basis") and self.encoding not in (None, "none"):
            raise InputError(f"init={self.init!r} acts on raw coordinates; use it without an encoding")
        if self.init == "hat_basis":
            if self.depth < 2:
                raise InputError("init='hat_basis' sets the first two layers; it needs depth >= 2")
            if self.linear != "dense":  # conditioned rows would rescale the hats' weights but not their biases
                raise InputError(f"init='hat_basis' needs a dense second layer, not linear={self.linear!r}")
            if self.width < 2 * self.in_features:
                raise InputError(f"init='hat_basis' needs width >= {2 * self.in_features} (two units per input axis)")
        if self.linear not in LINEAR_TYPES:
            raise InputError(f"unknown linear type {self.linear!r}; choose one of {', '.join(LINEAR_TYPES)}")
        if self.outer_linear not in ("dense", "conditioned"):
            raise InputError(f"outer_linear must be dense or conditioned, got {self.outer_linear!r}")
        if self.linear in ("lowrank", "sine_lowrank"):
            if self.rank is None:
                raise InputError(f"linear={self.linear!r} needs rank=k")
            if not isinstance(self.rank, int) or self.rank <= 0 or self.rank > self.width:
                raise InputError(f"rank must be an integer in [1, width={self.width}], got {self.rank!r}")
            if self.depth < 2:
                raise InputError("low-rank hidden layers need depth >= 2 (first and last layers stay full rank)")
        if self.activation == "wire" and self.linear == "sine_lowrank":
            raise InputError("sine_lowrank layers are real-valued and cannot follow the complex WIRE activation")
        for name in ("omega0", "gauss_scale", "wire_sigma0", "sine_omega"):
            v = getattr(self, name)
            if name == "omega0" and v is None:
                continue
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise InputError(f"{name} must be a finite number > 0, got {v}")
        if self.output_activation not in _OUTPUT_ACTIVATIONS:
            raise InputError(f"unknown output_activation {self.output_activation!r}")
        return self



def _output_activation(name):
    return {None: nn.Identity(), "none": nn.Identity(), "sigmoid": nn.Sigmoid(), "relu": nn.ReLU(),
            "softplus": nn.Softplus(), "tanh": nn.Tanh()}[name]


class CoordinateMLP(nn.Module):
    """A coordinate MLP built from an :class:`MLPConfig` (or the same fields as keywords).

    Inputs are coordinates in ``[-1, 1]^in_features`` of shape ``(..., in_features)``; outputs have
    shape ``(..., out_features)`` (the real part for WIRE).

    Examples:
        >>> import torch
        >>> from rankfield.inr import CoordinateMLP
        >>> siren = CoordinateMLP(in_features=2, out_features=1, activation="sine", width=64)
        >>> siren(torch.zeros(10, 2)).shape
        torch.Size([10, 1])
    """

    def __init__(self, config: MLPConfig | None = None, **overrides):
        super().__init__()
        if config is None:
            config = MLPConfig(**overrides)
        elif overrides:
            config = dataclasses.replace(config, **overrides)
        self.config = cfg = config.validate()
        #: the frequency in use: ``config.omega0``, or the activation's paper value when that is ``None``
        self.omega0 = float(cfg.omega0) if cfg.omega0 is not None else paper_omega0(cfg.activation)
        with fork_rng(cfg.seed):  # the init draws from torch's RNG; the caller's RNG state is left untouched
            self._build(cfg)

    def _build(self, cfg: MLPConfig) -> None:
        enc_opts = dict(cfg.encoding_options)
        if cfg.encoding in ("fourier", "hashgrid"):
            enc_opts.setdefault("seed", cfg.seed)
        self.encoding = make_encoding(cfg.encoding, cfg.in_features, **enc_opts)
        d_in = self.encoding.out_dim if self.encoding is not None else cfg.in_features
        complex_ = cfg.activation == "wire"
        width = int(round(cfg.width / math.sqrt(2))) if complex_ else cfg.width  # WIRE: width / sqrt(2)
        self.hidden_width = width
        act_kw = dict(omega0=self.omega0, gauss_scale=cfg.gauss_scale, wire_sigma0=cfg.wire_sigma0)
        first_omega = cfg.first_omega0 if cfg.first_omega0 is not None else self.omega0
        lin_kw = dict(conditioning=cfg.conditioning, recompute=cfg.conditioning_recompute)
        cdtype = torch.complex64 if complex_ else None

        self.linears = nn.ModuleList()
        self.norms = nn.ModuleList()
        self.activations = nn.ModuleList()
        for i in range(cfg.depth):
            kind = cfg.outer_linear if i == 0 else cfg.linear
            fan_in = d_in if i == 0 else width
            sine_gain = cfg.sine_gain
            if sine_gain is None and kind == "sine_lowrank":
                sine_gain = self._matched_sine_gain(fan_in)
            self.linears.append(make_linear(kind, fan_in, width, rank=cfg.rank, sine_omega=cfg.sine_omega,
                                            sine_gain=sine_gain, lowrank_init_var=self._dense_init_var(fan_in),
                                            dtype=cdtype if (complex_ and i > 0) else None, **lin_kw))
            self.norms.append(nn.BatchNorm1d(width) if cfg.batchnorm else nn.Identity())
            omega = first_omega if i == 0 else self.omega0
            self.activations.append(make_activation(cfg.activation, **{**act_kw, "omega0": omega}))
        self.output = make_linear(cfg.outer_linear, width, cfg.out_features, dtype=cdtype, **lin_kw)
        self.output_activation = _output_activation(cfg.output_activation)
        self._initialize()

    # -- initialization -------------------------------------------------------------------------
    def _dense_init_var(self, fan_in: int) -> float:
        """Variance of a dense hidden weight under the configured init (low-rank layers match it)."""
        cfg = self.config
        if cfg.activation in ("sine", "finer") and cfg.init == "paper":
            return 2.0 / (fan_in * self.omega0 ** 2)  # SIREN: U(+-sqrt(6/n)/omega0)
        return 1.0 / (3 * fan_in)  # PyTorch default U(+-1/sqrt(n))

    def _matched_sine_gain(self, fan_in: int) -> float | None:
        """For SIREN-initialized MLPs, scale sin(.)/g to SIREN's hidden variance (sin^2 averages 1/2)."""
        cfg = self.config
        if cfg.activation in ("sine", "finer") and cfg.init == "paper":
            return math.sqrt(0.5 / self._dense_init_var(fan_in))
        return None  # the authors' sqrt(fan_in)

    @staticmethod
    def _raw_weight(layer):
        w = getattr(layer, "raw_weight", None)
        return layer.weight if w is None else w

    @torch.no_grad()
    def _initialize(self) -> None:
        cfg = self.config
        if cfg.init == "paper" and cfg.activation in ("sine", "finer"):
            first_omega = cfg.first_omega0 if cfg.first_omega0 is not None else self.omega0
            for i, layer in enumerate(list(self.linears) + [self.output]):
                if not hasattr(layer, "raw_weight") and not isinstance(layer, nn.Linear):
                    continue  # low-rank layers carry their own (matched) init
                siren_init_(self._raw_weight(layer), first_omega if i == 0 else self.omega0, is_first=(i == 0))
                if hasattr(layer, "refreeze"):
                    layer.refreeze()
            if cfg.first_bias_scale is not None:
                k = cfg.first_bias_scale
                self.linears[0].bias.uniform_(-k, k)
        elif cfg.init == "rank_expanding":
            rank_expanding_init_(self.linears[0], seed=cfg.seed)
        elif cfg.init == "hat_basis":
            hat_basis_init_(self.linears[0], self.linears[1])

    # -- forward ----------------------------------------------------------------------------------
    def _hidden(self, x):
        if self.encoding is not None:
            x = self.encoding(x)
        feats = []
        for lin, norm, act in zip(self.linears, self.norms, self.activations):
            x = act(norm(lin(x)))
            feats.append(x)
        return x, feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-1]
        h, _ = self._hidden(x.reshape(-1, x.shape[-1]))
        y = self.output(h)
        if y.is_complex():
            y = y.real
        return self.output_activation(y).reshape(*lead, -1)

    def hidden_features_list(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Post-activation features of each hidden layer over ``x`` (``(N, width)`` each)."""
        return self._hidden(x.reshape(-1, x.shape[-1]))[1]

    def set_progress(self, progress: float) -> None:
        """Forward training progress in ``[0, 1]`` to the encoding (coarse-to-fine PE)."""
        if hasattr(self.encoding, "set_progress"):
            self.encoding.set_progress(progress)

    def num_parameters(self) -> int:
        return sum(p.numel() * (2 if p.is_complex() else 1) for p in self.parameters())
