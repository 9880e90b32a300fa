"""``python -m reference_gateway``."""

from reference_gateway.cli import main

raise SystemExit(main())
