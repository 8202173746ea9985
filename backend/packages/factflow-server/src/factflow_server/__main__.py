"""``python -m factflow_server``: run the API (same options as ``factflow-server``)."""

import sys

from factflow_server._cli import main

sys.exit(main())
