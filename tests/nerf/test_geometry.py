import math

import pytest
import torch

from rankfield.nerf.geometry import (compose, invert, procrustes_sim3, rigid_fit, rotation_error_deg, se3_exp,
                                     se3_log, skew, so3_exp, so3_log)

D = torch.float64


def test_exp_gradcheck_at_exactly_zero():
    xi = torch.zeros(6, dtype=D, requires_grad=True)
    assert torch.autograd.gradcheck(se3_exp, (xi,))
    w = torch.zeros(3, dtype=D, requires_grad=True)
    assert torch.autograd.gradcheck(so3_exp, (w,))
    # the derivative of exp at 0 is the generator: d/dw_i exp(w) = [e_i]_x, d/dv_i = e_i
    J = torch.autograd.functional.jacobian(se3_exp, torch.zeros(6, dtype=D))  # (3, 4, 6)
    for i in range(3):
        e = torch.zeros(3, dtype=D)
        e[i] = 1
        assert torch.allclose(J[:, :3, i], skew(e))
        assert torch.allclose(J[:, 3, 3 + i], e)


def test_log_gradcheck_at_zero_and_generic():
    assert torch.autograd.gradcheck(lambda x: se3_log(se3_exp(x)), (torch.zeros(6, dtype=D, requires_grad=True),))
    x = torch.tensor([0.3, -0.2, 0.5, 1.0, -2.0, 0.5], dtype=D, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: se3_log(se3_exp(x)), (x,))
    assert torch.autograd.gradcheck(so3_log, (torch.eye(3, dtype=D, requires_grad=True),))


def test_exp_log_roundtrip_and_rodrigues():
    gen = torch.Generator().manual_seed(0)
    xi = torch.randn(50, 6, generator=gen, dtype=D)
    xi[:, :3] *= 0.8
    xi[0] = 0
    xi[1, :3] = 1e-7  # Taylor branch
    assert torch.allclose(se3_log(se3_exp(xi)), xi, atol=1e-10)
    # rotation by pi/2 about z
    R = so3_exp(torch.tensor([0, 0, math.pi / 2], dtype=D))
    assert torch.allclose(R, torch.tensor([[0, -1, 0], [1, 0, 0], [0, 0, 1]], dtype=D), atol=1e-12)
    # near pi
    w = torch.tensor([1.0, 2.0, -2.0], dtype=D)
    w = w / w.norm() * (math.pi - 1e-5)
    assert torch.allclose(so3_log(so3_exp(w)), w, atol=1e-6)


def test_compose_invert():
    T = se3_exp(torch.tensor([0.1, 0.2, 0.3, 1.0, 2.0, 3.0], dtype=D))
    I = compose(T, invert(T))
    assert torch.allclose(I, torch.eye(4, dtype=D)[:3], atol=1e-12)


def test_procrustes_recovers_known_similarity():
    gen = torch.Generator().manual_seed(1)
    src = torch.randn(20, 3, generator=gen, dtype=D)
    R = so3_exp(torch.tensor([0.4, -1.1, 0.7], dtype=D))
    s, t = 2.5, torch.tensor([1.0, -3.0, 0.25], dtype=D)
    dst = s * src @ R.T + t
    sim = procrustes_sim3(src, dst)
    assert sim.s == pytest.approx(s, rel=1e-10)
    assert torch.allclose(sim.R, R, atol=1e-10)
    assert torch.allclose(sim.t, t, atol=1e-10)
    assert torch.allclose(sim.inverse().apply(dst), src, atol=1e-10)
    # a reflected target is fixed to a proper rotation
    refl = dst * torch.tensor([1.0, 1.0, -1.0], dtype=D)
    assert torch.linalg.det(procrustes_sim3(src, refl).R) == pytest.approx(1.0)


def test_rigid_fit_is_differentiable():
    src = torch.randn(12, 3, dtype=D)
    w = torch.tensor([0.2, 0.1, -0.3], dtype=D, requires_grad=True)
    R, t, _ = rigid_fit(src, src @ so3_exp(w).T)
    assert torch.allclose(R, so3_exp(w), atol=1e-10)
    R.sum().backward()
    assert torch.isfinite(w.grad).all() and w.grad.abs().sum() > 0


def test_rotation_error_degrees():
    R = so3_exp(torch.tensor([0, 0, math.radians(10)], dtype=D))
    assert float(rotation_error_deg(R, torch.eye(3, dtype=D))) == pytest.approx(10.0, abs=1e-6)


def test_geometry_helpers_left_the_package_level_with_a_deprecation_warning():
    import importlib

    import pytest

    nerf = importlib.import_module("rankfield.nerf")
    from rankfield.nerf import geometry

    assert "se3_exp" not in nerf.__all__ and nerf.geometry.__name__ == "rankfield.nerf.geometry"
    with pytest.warns(DeprecationWarning, match="rankfield.nerf.geometry.se3_exp"):
        assert nerf.se3_exp is geometry.se3_exp
    with pytest.raises(AttributeError):
        nerf.not_a_name


def test_low_level_helpers_moved_to_their_modules_keep_a_deprecated_alias():
    import warnings

    from rankfield import nerf
    from rankfield.nerf import camera, poses, render

    for name, module in (("pixel_points", camera), ("rays_from_poses", camera), ("volume_render", render),
                         ("make_pose_model", poses), ("default_lr_pose_end", poses)):
        assert name not in nerf.__all__
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert getattr(nerf, name) is getattr(module, name)
        assert caught[0].category is DeprecationWarning and f"{module.__name__}.{name}" in str(caught[0].message)
