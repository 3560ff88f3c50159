"""The HTTP layer: provider routes built from the contracts, and the one request pipeline."""
