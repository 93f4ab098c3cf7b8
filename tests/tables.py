"""Small tables the tests write, shaped like real measurements (the default feature choice keeps them)."""


def measurements(rows: int, groups: int) -> bytes:
    """A CSV of two float columns with ``groups`` levels of weight (no id-like or code-like column)."""
    lines = [f"{1.5 + 0.01 * (i % 7):.2f},{50 + 3.7 * (i % groups) + 0.1 * i:.1f}" for i in range(rows)]
    return ("height,weight\n" + "\n".join(lines) + "\n").encode()
