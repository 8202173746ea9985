"""``python -m bench [--quick] [names...]``."""

import sys

from bench._cli import main

sys.exit(main())
