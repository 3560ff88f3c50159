"""Provider-agnostic machinery: clock, store, ids, contracts, journal, errors."""
