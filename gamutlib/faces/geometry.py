"""Face geometry: identity + AUs + pose -> curves, frames and the 68 landmarks.

Geometry comes first and pixels are drawn from it (`raster.py`), so the
landmarks lie exactly on the drawn features. Every feature is a curve with a
closed form in face units (x right, y down, the face about 2 units wide):

- eyes: upper and lower lid parabolas meeting at the corners;
- brows: a thick arched centre line between an inner and an outer end;
- mouth: the line where the lips meet, which parts into an inner upper and an
  inner lower lip curve, with the outer lip curves outside them;
- jaw: a superellipse below the widest line of the head, an ellipse above;
- nose: the bridge line and the nostril base.

Each AU moves only the parameters of its own FACS region (see `au_geometry`).

Pose is 3-D-ish: the face has three planar layers at different depths (the
head outline at z = 0, the face surface at z = 0.55, the nose sheared from
0.75 at the bridge to 1.05 at the tip); each is rotated by yaw/pitch/roll and
projected orthographically, so turning the head moves the features against
the outline as a real head does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from gamutlib.constants import AU_IDS

from gamutlib.faces.identity import Identity

# Image framing: pixels per face unit, and the face point at the image centre.
SCALE = 0.255
CENTRE_Y = 0.12
# Offset of a pixel's centre from its left/top edge in the rasteriser's
# continuous coordinates; landmarks subtract it (see `to_pixels`).
PIXEL_CENTRE = 0.5

FACE_DEPTH = 0.55
NOSE_DEPTH = 0.75
NOSE_SLOPE = 0.6  # dz/dy along the nose (the tip sticks out)
CHIN_SLOPE = 0.3  # dz/dy of the head outline (the chin is in front of the ears)


def _au(aus: torch.Tensor, number: int) -> torch.Tensor:
    """AU ``number`` as a (N, 1) fraction of its maximum."""
    return aus[:, AU_IDS.index(number)].unsqueeze(1) / 5.0


@dataclass
class Geometry:
    """Per-face curve parameters, each (N, 1), plus the three pose frames."""

    p: dict[str, torch.Tensor]
    # frame name -> (M (N, 2, 2) local -> unit, offset (N, 2)) : unit = M @ local + offset
    frames: dict[str, tuple[torch.Tensor, torch.Tensor]]
    rotation: torch.Tensor  # (N, 3, 3)

    def __getattr__(self, name: str) -> torch.Tensor:
        try:
            return self.__dict__["p"][name]
        except KeyError as err:
            raise AttributeError(name) from err


def rotation_matrix(pose: torch.Tensor) -> torch.Tensor:
    """(N, 3, 3) rotation for (yaw, pitch, roll) radians; x right, y down, z to the viewer."""
    yaw, pitch, roll = pose.unbind(1)
    c, s = torch.cos, torch.sin
    one, zero = torch.ones_like(yaw), torch.zeros_like(yaw)
    ry = torch.stack([c(yaw), zero, s(yaw), zero, one, zero, -s(yaw), zero, c(yaw)], 1).view(-1, 3, 3)
    rx = torch.stack([one, zero, zero, zero, c(pitch), s(pitch), zero, -s(pitch), c(pitch)], 1).view(-1, 3, 3)
    rz = torch.stack([c(roll), -s(roll), zero, s(roll), c(roll), zero, zero, zero, one], 1).view(-1, 3, 3)
    return rz @ rx @ ry


def _frame(rot: torch.Tensor, depth: torch.Tensor, slope_y: float) -> tuple[torch.Tensor, torch.Tensor]:
    """A planar layer z = depth + slope_y * y, rotated and projected."""
    m = rot[:, :2, :2].clone()
    m[:, :, 1] = m[:, :, 1] + rot[:, :2, 2] * slope_y
    offset = rot[:, :2, 2] * depth.reshape(-1, 1)
    return m, offset


def au_geometry(identity: Identity, aus: torch.Tensor, pose: torch.Tensor) -> Geometry:
    """Curve parameters of every face (identity moved by its AUs), and its frames."""
    i = identity
    col = lambda t: t.reshape(-1, 1).to(aus.dtype)  # noqa: E731
    a1, a2, a4, a5, a6, a7 = (_au(aus, k) for k in (1, 2, 4, 5, 6, 7))
    a9, a10, a12, a14, a15, a17 = (_au(aus, k) for k in (9, 10, 12, 14, 15, 17))
    a20, a23, a25, a26, a45 = (_au(aus, k) for k in (20, 23, 25, 26, 45))
    p: dict[str, torch.Tensor] = {}

    # Head outline: widest line a little below the eyes.
    p["a"] = col(i.face_halfwidth)
    p["yc"] = col(i.eye_y) + 0.10
    p["bt"] = col(i.skull_height)
    jaw_drop = 0.30 * a26  # AU26: the jaw (and with it the chin) drops
    p["jaw_drop"] = jaw_drop
    p["bb"] = col(i.jaw_length) + jaw_drop - 0.03 * a17  # AU17 pushes the chin boss up
    p["jm"] = col(i.jaw_squareness)

    # Eyes (evaluated on |x|, both eyes at once).
    p["ex"], p["ey"], p["ew"] = col(i.eye_x), col(i.eye_y), col(i.eye_halfwidth)
    hu = col(i.eye_upper) * (1 + 0.85 * a5 - 0.35 * a7 - 0.25 * a6 - 0.2 * a4 * (1 - a5))
    hl = col(i.eye_lower) * (1 - 0.45 * a6 - 0.45 * a7 + 0.25 * a5)
    hu, hl = hu.clamp_min(0.012), hl.clamp_min(0.012)
    # AU45: the upper lid comes down onto the lower one.
    p["eu"] = -(1 - a45) * hu + a45 * 0.92 * hl  # signed upper lid height (negative = above)
    p["el"] = hl
    p["eu_open"] = -hu
    p["tilt"] = col(i.eye_tilt)
    p["ir"] = col(i.iris_radius)
    p["closure"] = a45

    # Brows: inner end (t = 0) to outer end (t = 1).
    p["bx0"] = col(i.brow_inner) - 0.045 * a4  # AU4 draws the brows together
    p["bx1"] = col(i.brow_outer) - 0.02 * a4
    p["by"] = col(i.eye_y) - col(i.brow_height)
    p["barch"] = col(i.brow_arch)
    p["bth"] = col(i.brow_thickness)
    p["b_a1"] = 0.16 * a1  # AU1 raises the inner end
    p["b_a2"] = 0.15 * a2  # AU2 raises the outer end
    p["b_a4"] = 0.085 * a4 + 0.03 * a9  # AU4 lowers (more at the inner end); AU9 pulls the inner end down a bit

    # Nose: bridge from the eye line to the tip; wings lifted by AU9 and AU10.
    p["nl"] = col(i.nose_length)
    p["nw"] = col(i.nose_width) * (1 + 0.12 * a9 + 0.05 * a10)
    p["wing_up"] = 0.05 * a9 + 0.025 * a10
    p["nbase"] = col(i.eye_y) + col(i.nose_length) + 0.075

    # Mouth.
    mw = col(i.mouth_halfwidth)
    p["mw"] = mw * (1 + 0.20 * a12 + 0.26 * a20 - 0.13 * a23 - 0.06 * a14 - 0.03 * a15)
    p["my"] = col(i.mouth_y) - 0.035 * a17 - 0.015 * a10
    # Corner height relative to the lip centre (negative = corners up).
    p["dcy"] = -0.17 * a12 + 0.10 * a15 - 0.025 * a14 + 0.025 * a20 + 0.035 * a17
    p["open_u"] = 0.016 * a25 + 0.05 * a10 + 0.02 * a9 + 0.012 * a26 + 0.02 * a12
    p["open_l"] = (0.04 * a25 + 0.03 * a12 + jaw_drop * 0.92 - 0.03 * a17 * (1 - a25)).clamp_min(0.0)
    thin = (1 - 0.55 * a23) * (1 - 0.3 * a20) * (1 - 0.15 * a12)
    p["tu"] = col(i.lip_upper) * thin
    p["tl"] = col(i.lip_lower) * thin * (1 + 0.25 * a17)

    # Wrinkle strengths (0..1) and the cheeks.
    p["w_forehead_in"] = a1
    p["w_forehead_out"] = a2
    p["w_furrow"] = a4
    p["w_nose"] = a9
    p["w_crow"] = (a6 * 1.0 + 0.3 * a7).clamp_max(1.0)
    p["w_nasolabial"] = (0.22 + 0.6 * a12 + 0.5 * a10 + 0.5 * a9 + 0.2 * a6).clamp_max(1.0)
    p["w_dimple"] = a14
    p["w_chin"] = (0.12 + 0.8 * a17).clamp_max(1.0)
    p["w_lowerlid"] = (0.12 + 0.7 * a6 + 0.4 * a7).clamp_max(1.0)
    p["w_marionette"] = a15
    p["w_stretch"] = a20
    p["cheek_up"] = 0.07 * a6 + 0.02 * a12

    p["hairline"] = col(i.hairline)

    rot = rotation_matrix(pose)
    zero = torch.zeros_like(p["a"])
    frames = {
        "head": _frame(rot, zero, CHIN_SLOPE),
        "face": _frame(rot, zero + FACE_DEPTH, 0.0),
        "nose": _frame(rot, NOSE_DEPTH - NOSE_SLOPE * p["ey"], NOSE_SLOPE),
    }
    return Geometry(p=p, frames=frames, rotation=rot)


# --- curves shared by the landmarks and the rasteriser ----------------------


def brow_line(g: Geometry, t: torch.Tensor) -> torch.Tensor:
    """y of the brow centre line at t in [0, 1] (inner to outer)."""
    return (
        g.by
        - g.barch * (2.2 * t - 1.5 * t * t)
        - g.b_a1 * (1 - t) ** 2
        - g.b_a2 * t**1.5
        + g.b_a4 * (1 - 0.6 * t)
    )


def brow_thickness(g: Geometry, t: torch.Tensor) -> torch.Tensor:
    return g.bth * (1.1 - 0.5 * t)


def eye_upper(g: Geometry, q: torch.Tensor) -> torch.Tensor:
    """v (relative to the eye centre) of the upper lid at q = u / ew in [-1, 1]."""
    return g.eu * (1 - q * q) * (1 - 0.12 * q) - g.tilt * q


def eye_lower(g: Geometry, q: torch.Tensor) -> torch.Tensor:
    return g.el * (1 - q * q) - g.tilt * q


def mouth_curves(g: Geometry, q: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """(upper outer, upper inner, lower inner, lower outer) lip y at q = |x| / mw."""
    q2 = q * q
    s = (1 - q2).clamp_min(0).sqrt()
    line = g.my + g.dcy * q2
    ui = line - g.open_u * s
    li = line + g.open_l * s
    bow = 1 - 0.3 * torch.exp(-(q2 / 0.03))
    uo = ui - g.tu * s * bow
    lo = li + g.tl * s
    return uo, ui, li, lo


def _jaw_points(g: Geometry) -> torch.Tensor:
    """(N, 17, 2) jaw contour on the head outline, subject's right ear to left ear."""
    theta = torch.linspace(-0.10, math.pi / 2, 9, device=g.a.device, dtype=g.a.dtype)[None]
    c, s = torch.cos(theta), torch.sin(theta)
    upper = theta < 0
    x = torch.where(upper, g.a * c, g.a * c.clamp_min(0) ** (2.0 / g.jm))
    y = torch.where(upper, g.yc + g.bt * s, g.yc + g.bb * s)
    left = torch.stack([-x, y], -1)  # points 0..8
    right = torch.stack([x, y], -1).flip(1)[:, 1:]  # points 9..16
    return torch.cat([left, right], 1)


def _brow_points(g: Geometry) -> torch.Tensor:
    """(N, 10, 2): 17-21 (image-left brow, outer to inner), 22-26 (inner to outer)."""
    t = torch.linspace(0, 1, 5, device=g.a.device, dtype=g.a.dtype)[None]
    x = g.bx0 + t * (g.bx1 - g.bx0)
    y = brow_line(g, t) - 0.45 * brow_thickness(g, t)  # on the upper half of the brow
    right = torch.stack([-x, y], -1).flip(1)
    left = torch.stack([x, y], -1)
    return torch.cat([right, left], 1)


def _nose_points(g: Geometry) -> torch.Tensor:
    """(N, 9, 2): bridge 27-30, nostril base 31-35."""
    f = torch.tensor([0.0, 1 / 3, 2 / 3, 1.0], device=g.a.device, dtype=g.a.dtype)[None]
    bridge = torch.stack([torch.zeros_like(f * g.a), g.ey - 0.06 + f * (g.nl + 0.06)], -1)
    xs = torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0], device=g.a.device, dtype=g.a.dtype)[None]
    x = xs * 0.8 * g.nw
    y = nostril_base(g, x)
    return torch.cat([bridge, torch.stack([x, y], -1)], 1)


def nostril_base(g: Geometry, x: torch.Tensor) -> torch.Tensor:
    """y of the lower nose edge (where the nostrils meet the lip), lifted by AU9/AU10 at the wings."""
    r = (x.abs() / g.nw).clamp_max(1.2)
    return g.nbase + 0.02 * (1 - r * r) - g.wing_up * r - 0.03 * r * r


def _eye_points(g: Geometry) -> torch.Tensor:
    """(N, 12, 2): 36-41 (image-left eye), 42-47 (image-right eye)."""
    # (q, upper?) for each point in iBUG order, q measured outward from the nose.
    order_right = [(1.0, True), (1 / 3, True), (-1 / 3, True), (-1.0, True), (-1 / 3, False), (1 / 3, False)]
    order_left = [(-1.0, True), (-1 / 3, True), (1 / 3, True), (1.0, True), (1 / 3, False), (-1 / 3, False)]
    pts = []
    for side, order in ((-1.0, order_right), (1.0, order_left)):
        for q, upper in order:
            qt = torch.full_like(g.a, q)
            v = eye_upper(g, qt) if upper else eye_lower(g, qt)
            x = side * (g.ex + q * g.ew)
            pts.append(torch.cat([x, g.ey + v], 1))
    return torch.stack(pts, 1)


def _mouth_points(g: Geometry) -> torch.Tensor:
    """(N, 20, 2): outer 48-59 and inner 60-67 lip points."""
    outer = [(-1.0, 0), (-0.62, 0), (-0.28, 0), (0.0, 0), (0.28, 0), (0.62, 0), (1.0, 0),
             (0.62, 3), (0.28, 3), (0.0, 3), (-0.28, 3), (-0.62, 3)]
    inner = [(-0.88, 1), (-0.45, 1), (0.0, 1), (0.45, 1), (0.88, 1), (0.45, 2), (0.0, 2), (-0.45, 2)]
    pts = []
    for q, which in outer + inner:
        qt = torch.full_like(g.a, abs(q))
        curves = mouth_curves(g, qt)
        y = curves[which]
        if abs(q) > 0.8 and which in (1, 2):  # inner corners sit on the middle of the lip line
            y = 0.5 * (curves[1] + curves[2])
        pts.append(torch.cat([q * g.mw, y], 1))
    return torch.stack(pts, 1)


def to_pixels(points: torch.Tensor, frame: tuple[torch.Tensor, torch.Tensor], size: int) -> torch.Tensor:
    """Map (N, K, 2) face-unit points of a layer to image pixels."""
    m, offset = frame
    unit = points @ m.transpose(1, 2) + offset[:, None]
    unit = unit - torch.tensor([0.0, CENTRE_Y], device=points.device, dtype=points.dtype)
    # Pixel convention of dlib, OpenFace and the landmark contract: the centre
    # of pixel i is at coordinate i (pixel i covers [i - 0.5, i + 0.5]). The
    # rasteriser (`raster.Fields`) samples pixel i at continuous position
    # i + 0.5 from the image edge, so the same point lands 0.5 px lower here.
    # Fixing it on the landmark side keeps every image bit-identical (the
    # judges were trained on them).
    return unit * (SCALE * size) + (size / 2 - PIXEL_CENTRE)


def landmarks(g: Geometry, size: int) -> torch.Tensor:
    """(N, 68, 2) iBUG landmarks in pixels (x, y), from the same curves as the pixels."""
    jaw = to_pixels(_jaw_points(g), g.frames["head"], size)
    brows = to_pixels(_brow_points(g), g.frames["face"], size)
    nose = to_pixels(_nose_points(g), g.frames["nose"], size)
    eyes = to_pixels(_eye_points(g), g.frames["face"], size)
    mouth = to_pixels(_mouth_points(g), g.frames["face"], size)
    return torch.cat([jaw, brows, nose, eyes, mouth], 1)
