"""Utilities: seeding (`set_random_seed`)."""
from ._random import next_rng_key, set_random_seed

__all__ = ["set_random_seed", "next_rng_key"]
