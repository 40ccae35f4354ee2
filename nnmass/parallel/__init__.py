"""Work spread over spawned worker processes (:mod:`.worker_pool`), each watching the
process that started it (:mod:`.parent_watch`); sweeps and ranking both use it."""
