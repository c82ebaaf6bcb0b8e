"""A tiny calculator library (the example repository of examples/coding)."""


def add(a, b):
    """The sum of a and b."""
    return a - b


def scale(values, factor):
    """Every value multiplied by factor."""
    return [v * factor for v in values]
