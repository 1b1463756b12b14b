"""Gallery: discover the Lorenz equations from a trajectory with 10% noise (RKTV-INR + SINDy).

Run: ``python examples/dynamics_lorenz.py`` (about a minute on a laptop CPU).
"""

import pysindy as ps

from rankfield.dynamics import RKTV, AutoSTLSQ, add_noise, discover, get_system, metrics, validate_model

lorenz = get_system("lorenz")
t, x = lorenz.simulate()                       # 1000 samples, dt = 0.01
y = add_noise(x, level=0.1, seed=0)            # sigma_j = 0.1 * std(x_j)

# 1. High level: denoise, differentiate, choose the threshold per equation by BIC; at this noise (estimated
#    above 3% of the signal) discover also runs two model-in-the-loop refinement passes (refine="auto").
result = discover(y, t, state_names=["x", "y", "z"])
print("\n".join(result.format_equations()))
xi_true = lorenz.true_coefficients()
print("support recovered:", metrics.support_recovered(result.coefficients, xi_true),
      "coefficient error:", round(metrics.coefficient_error(result.coefficients, xi_true), 3))
print("derivative error:", round(metrics.derivative_error(result.x_dot[0], lorenz.rhs(x)), 3))
print("forecast error vs clean:", round(validate_model(result.model, t, y, x_clean=x)["error_vs_clean"], 3))

# 2. The first pass of the same inside plain PySINDy: RKTV is a differentiation method like any other.
model = ps.SINDy(differentiation_method=RKTV(progress=False), optimizer=AutoSTLSQ(),
                 feature_library=ps.PolynomialLibrary(2))
model.fit(y, t=t, feature_names=["x", "y", "z"])
model.print()
