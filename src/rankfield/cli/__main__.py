import sys

from rankfield.cli import main

sys.exit(main())
