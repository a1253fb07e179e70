"""The offline default model: an object-centric grounding network trained on the MuJoCo tabletop.

modeling.py (the network), processing.py (image/text in, candidates/boxes out), backend.py (the
GroundingBackend the node loads). The checkpoint in weights/ is trained by `python -m grounding_node.train`.
"""
