import sys

from unsup_core.cli import main

sys.exit(main())
