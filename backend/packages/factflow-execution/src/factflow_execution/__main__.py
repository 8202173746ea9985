"""``python -m factflow_execution``: the demo (see ``_demo``)."""

import sys

from factflow_execution._demo import main

sys.exit(main())
