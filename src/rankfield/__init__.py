"""rankfield: neural fields in PyTorch.

Three packages share one distribution:

* :mod:`rankfield.inr` -- coordinate MLPs (encodings, activations, rank-expanding init,
  weight conditioning, sine low-rank layers, rank/NTK diagnostics, fitting).
* :mod:`rankfield.nerf` -- NeRF with camera poses optimized jointly with the scene.
* :mod:`rankfield.dynamics` -- RKTV-INR trajectory denoising chained into PySINDy.

``nerf`` and ``dynamics`` build on ``inr``; ``inr`` imports neither.
"""

from rankfield._engine import TrainingInterrupted, load_checkpoint
from rankfield.errors import InputError, TrainingDivergedError
from rankfield.tensorboard import TensorBoardLogger

__version__ = "0.1.0"
__all__ = ["InputError", "TrainingDivergedError", "TrainingInterrupted", "TensorBoardLogger", "load_checkpoint",
           "__version__"]
