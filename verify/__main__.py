import sys

from verify.run import main

sys.exit(main())
