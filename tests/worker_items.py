"""Work items for the worker-pool tests, importable by spawned workers."""
import os
import time


def run(item):
    """``("exit", s)`` sleeps ``s`` seconds, then ends its worker process; ``("ok", v)``
    returns ``v``."""
    kind, value = item
    if kind == "exit":
        time.sleep(value)
        os._exit(1)
    return value
