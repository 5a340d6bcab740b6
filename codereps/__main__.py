import sys

from codereps.cli import main

sys.exit(main())
