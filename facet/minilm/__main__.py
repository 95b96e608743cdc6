import sys

from .dump import main

sys.exit(main())
