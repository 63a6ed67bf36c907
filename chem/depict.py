"""2-D depictions of molecules (RDKit), for reports and notebooks."""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

DEPICTION_RECIPE = "1"  # bump when the drawing options below change what a depiction looks like


@functools.lru_cache(maxsize=None)
def _rdkit_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rdkit")
    except PackageNotFoundError:
        return "unknown"


def depict_svg(smiles: str, legend: str = "", size: tuple[int, int] = (240, 170),
               cache_dir: str | os.PathLike | None = None) -> bytes:
    """An RDKit 2-D depiction (SVG bytes) of a SMILES string; ValueError when RDKit cannot read it.

    ``cache_dir``: where depictions are kept by what they show (SMILES, legend, size, RDKit's
    version); one already there is returned without drawing.
    """
    path = None
    if cache_dir is not None:
        content = json.dumps([smiles, legend, list(size), _rdkit_version(), DEPICTION_RECIPE])
        path = Path(cache_dir) / f"depict-{hashlib.sha256(content.encode()).hexdigest()[:32]}.svg"
        if path.exists():
            return path.read_bytes()
    svg = _draw_svg(smiles, legend, size)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(svg)
        os.replace(tmp, path)  # whole or absent, with writers side by side
    return svg


def _draw_svg(smiles: str, legend: str, size: tuple[int, int]) -> bytes:
    from rdkit import Chem
    from rdkit.Chem.Draw import rdMolDraw2D

    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise ValueError(f"cannot depict {smiles!r}")
    drawer = rdMolDraw2D.MolDraw2DSVG(*size)
    drawer.drawOptions().legendFontSize = 14
    rdMolDraw2D.PrepareAndDrawMolecule(drawer, mol, legend=legend)
    drawer.FinishDrawing()
    return drawer.GetDrawingText().encode()
