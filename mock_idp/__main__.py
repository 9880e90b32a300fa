"""``python -m mock_idp``."""

import sys

from mock_idp.cli import main

sys.exit(main())
