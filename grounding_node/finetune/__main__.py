"""`python -m grounding_node.finetune`: see grounding_node/finetune/cli.py."""

from grounding_node.finetune.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
