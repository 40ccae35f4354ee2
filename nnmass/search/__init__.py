"""Zero-shot architecture search over a benchmark's space (``nnmass search``): draw or
list candidates, keep those within a params/MACs budget, screen them with a cheap
score, score the rest, and report the best. Scores go through the same resumable
score store as ``nnmass rank``. Torch is imported only where networks are scored."""
