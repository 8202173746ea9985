"""``python -m factflow_cli``: the ``factflow`` command."""

import sys

from factflow_cli._app import main

sys.exit(main())
