"""Fine-tuning on a user's own phrase-box pairs: `python -m grounding_node.finetune` (see cli.py)."""
