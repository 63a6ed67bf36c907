"""Pure 3-D geometry on NumPy arrays (Å, degrees at the surface): angles, rotations,
least-squares superposition. Nothing here knows about molecules."""

from __future__ import annotations

import math

import numpy as np


def angle_between(u, v) -> float:
    """Angle between vectors u and v, degrees (0-180)."""
    c = np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


def angle(p, q, r) -> float:
    """Angle p-q-r at q, degrees."""
    return angle_between(np.asarray(p) - q, np.asarray(r) - q)


def skew(v) -> np.ndarray:
    """The cross-product matrix [v]x, so that skew(v) @ w == cross(v, w)."""
    return np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])


def axis_rotation(axis: np.ndarray, angle_rad: float) -> np.ndarray:
    """Rotation matrix by ``angle_rad`` (radians, right-handed) about ``axis`` (Rodrigues)."""
    axis = axis / np.linalg.norm(axis)
    k = skew(axis)
    return np.eye(3) + np.sin(angle_rad) * k + (1 - np.cos(angle_rad)) * k @ k


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The rotation matrix taking the direction of a onto the direction of b."""
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    v, c = np.cross(a, b), float(np.dot(a, b))
    if np.linalg.norm(v) < 1e-10:
        if c > 0:
            return np.eye(3)
        # 180 degrees: rotate about any axis perpendicular to a
        perp = np.cross(a, [1.0, 0, 0] if abs(a[0]) < 0.9 else [0, 1.0, 0])
        perp /= np.linalg.norm(perp)
        return 2 * np.outer(perp, perp) - np.eye(3)
    vx = skew(v)
    return np.eye(3) + vx + vx @ vx * (1 / (1 + c))


def plane_frame(xyz: np.ndarray) -> np.ndarray:
    """Principal axes of a point set (rows: longest axis, second axis, plane normal; SVD of
    the centred points)."""
    _, _, vt = np.linalg.svd(xyz - xyz.mean(axis=0))
    return vt


def kabsch(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Proper rotation R and shift t minimising |R source + t - target| (least squares, Kabsch);
    apply as ``source @ R.T + t``."""
    cs, ct = source.mean(0), target.mean(0)
    u, _, vt = np.linalg.svd((source - cs).T @ (target - ct))
    d = np.sign(np.linalg.det(vt.T @ u.T))
    rotation = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return rotation, ct - rotation @ cs


def superposed_rmsd(x: np.ndarray, y: np.ndarray, reflection: bool = False) -> float:
    """RMSD (Å) between two matched point sets after optimal superposition; with
    ``reflection`` an improper rotation (mirror image) is allowed too."""
    x = x - x.mean(axis=0)
    y = y - y.mean(axis=0)
    if reflection:
        s = np.linalg.svd(x.T @ y, compute_uv=False)
    else:
        u, s, vt = np.linalg.svd(x.T @ y)
        if np.linalg.det(u @ vt) < 0:
            s[-1] = -s[-1]
    return math.sqrt(max(0.0, (np.sum(x * x) + np.sum(y * y) - 2 * s.sum()) / len(x)))
