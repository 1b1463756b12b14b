"""``python -m rankfield ...`` is the ``rankfield`` command."""

import sys

from rankfield.cli import main

sys.exit(main())
