"""Files a user might bring, written by the tests: an image zip with folders as labels, a labelled table."""

from __future__ import annotations

import io
import zipfile

import numpy as np
from PIL import Image, ImageDraw


def shapes_zip(count: int = 60, size: int = 20) -> bytes:
    """``count`` PNGs, half squares in ``square/`` and half circles in ``circle/``, at random places."""
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(count):
            shape = ("square", "circle")[index % 2]
            image = Image.new("L", (size, size), 0)
            left, top = rng.integers(1, size // 3, 2)
            side = int(rng.integers(size // 3, size // 2))
            box = (int(left), int(top), int(left) + side, int(top) + side)
            draw = ImageDraw.Draw(image)
            draw.rectangle(box, fill=255) if shape == "square" else draw.ellipse(box, fill=255)
            png = io.BytesIO()
            image.save(png, format="PNG")
            archive.writestr(f"{shape}/{index:03d}.png", png.getvalue())
    return buffer.getvalue()


def labelled_table(rows: int = 90) -> bytes:
    """A CSV of three measurements in three groups, with the group in a ``species`` column."""
    rng = np.random.default_rng(0)
    group = np.arange(rows) % 3
    centres = np.array([[5.0, 3.4, 1.5], [5.9, 2.8, 4.3], [6.6, 3.0, 5.6]])
    values = centres[group] + rng.normal(0, 0.25, (rows, 3))
    names = np.array(["setosa", "versicolor", "virginica"])[group]
    lines = [f"{a:.2f},{b:.2f},{c:.2f},{name}" for (a, b, c), name in zip(values, names)]
    return ("sepal_length,sepal_width,petal_length,species\n" + "\n".join(lines) + "\n").encode()
