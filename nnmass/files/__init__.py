"""The files users hand nnmass and the files it writes for them, handled safely: bounded,
text-only reading of YAML and JSON (:mod:`.reading`), of large text files line by line
(:mod:`.text_lines`), and atomic writes that never harm the target or the results store
(:mod:`.writing`). Standard library only."""
