import sys

from fieldexp.cli import main

sys.exit(main())
