"""`python -m grounding_node.dataset ...`: the dataset command line (see grounding_node/data/cli.py and
docs/dataset.md). A module of its own so the documented command stays short; the code lives in `data/`."""

import sys

from grounding_node.data.cli import main

if __name__ == "__main__":
    sys.exit(main())
