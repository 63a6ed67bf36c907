"""2-D depictions of molecules (RDKit), for reports and notebooks."""

from __future__ import annotations


def depict_svg(smiles: str, legend: str = "", size: tuple[int, int] = (240, 170)) -> bytes:
    """An RDKit 2-D depiction (SVG bytes) of a SMILES string; ValueError when RDKit cannot read it."""
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
