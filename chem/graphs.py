"""Element graphs: a :class:`Molecule` as an RDKit graph of elements joined by single bonds,
blind to bond orders and charges, for identity and atom matching across crystal structures
where bond-order perception may have failed."""

from __future__ import annotations

from .molecule import Molecule


def element_graph(mol: Molecule, heavy_only: bool = False):
    """RDKit molecule of the element graph (all bonds single, no charges, no implicit H;
    ring info set). With ``heavy_only`` hydrogens are left out and atoms renumbered in order."""
    from rdkit import Chem

    keep = [i for i, s in enumerate(mol.symbols) if not (heavy_only and s == "H")]
    index = {old: new for new, old in enumerate(keep)}
    rw = Chem.RWMol()
    for i in keep:
        atom = Chem.Atom(mol.symbols[i])
        atom.SetNoImplicit(True)
        rw.AddAtom(atom)
    for i, j, _ in mol.bonds:
        if i in index and j in index:
            rw.AddBond(index[i], index[j], Chem.BondType.SINGLE)
    m = rw.GetMol()
    m.UpdatePropertyCache(strict=False)
    Chem.FastFindRings(m)
    return m


def graph_key(mol: Molecule, heavy_only: bool = False) -> str:
    """Canonical SMILES of the element graph: identity by graph, blind to bond-order
    perception and, with ``heavy_only``, to hydrogens."""
    from rdkit import Chem

    return Chem.MolToSmiles(element_graph(mol, heavy_only), canonical=True)
