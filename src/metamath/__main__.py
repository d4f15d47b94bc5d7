import sys

from metamath.cli import main

sys.exit(main())
