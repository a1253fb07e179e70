"""`python -m grounding_node.eval`: see grounding_node/training/eval.py."""

from grounding_node.training.eval import main

if __name__ == "__main__":
    raise SystemExit(main())
