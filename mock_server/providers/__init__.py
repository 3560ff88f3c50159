"""One package per provider, each mapping its API onto the core."""
