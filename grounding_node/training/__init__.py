"""Training and evaluation of the tabletop model on rendered scenes (data, train, eval)."""
