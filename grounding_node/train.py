"""`python -m grounding_node.train`: see grounding_node/training/train.py."""

from grounding_node.training.train import main

if __name__ == "__main__":
    raise SystemExit(main())
