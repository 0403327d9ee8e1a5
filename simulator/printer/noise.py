"""Repeatable pseudo-random noise: the same seed gives the same reports, however time is sliced."""

_MASK = 0xFFFFFFFFFFFFFFFF


def mix(*values: int) -> int:
    """Hash integers to 64 bits (splitmix64): repeatable noise independent of call chunking."""
    state = 0x9E3779B97F4A7C15
    for value in values:
        state = (state ^ (value & _MASK)) * 0xBF58476D1CE4E5B9 & _MASK
        state ^= state >> 31
        state = state * 0x94D049BB133111EB & _MASK
        state ^= state >> 29
    return state


def noise(seed: int, channel: int, slot: int) -> float:
    """Deterministic noise in [-1, 1] for one channel and time slot."""
    return (mix(seed, channel, slot) % 20001) / 10000.0 - 1.0
