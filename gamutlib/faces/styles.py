"""The three modalities, composited from the same distance fields (`raster.Fields`).

Layers are painted back to front with `over` (alpha compositing). Colours are
in [0, 1] here; `render` maps the result to [-1, 1].
"""

from __future__ import annotations

import torch

from gamutlib.faces.identity import Identity
from gamutlib.faces.raster import Fields

SCLERA = (0.80, 0.77, 0.74)
TEETH = (0.93, 0.91, 0.84)
CAVITY = (0.28, 0.07, 0.08)
INK = (0.06, 0.05, 0.05)
PAPER = (0.96, 0.95, 0.91)
GRAPHITE = (0.22, 0.22, 0.24)


def _c(rgb, ref: torch.Tensor) -> torch.Tensor:
    return torch.tensor(rgb, device=ref.device, dtype=ref.dtype).view(1, 3, 1)


def over(img: torch.Tensor, alpha: torch.Tensor, colour: torch.Tensor) -> torch.Tensor:
    """Paint ``colour`` ((N|1, 3, 1|P)) over ``img`` (N, 3, P) with coverage ``alpha`` (N, P).

    One fused `torch.lerp` (img + alpha * (colour - img)) instead of three
    passes over the image: compositing is most of the painting time.
    """
    return torch.lerp(img, colour.expand_as(img), alpha.unsqueeze(1).to(img.dtype))


class Painter:
    """Coverage and stroke of distance fields at the image's pixel scale."""

    def __init__(self, fields: Fields):
        self.px = fields.px

    # Both build one new tensor and update it in place (one allocation, not three).
    def fill(self, d: torch.Tensor) -> torch.Tensor:
        return (d * -self.px).add_(0.5).clamp_(0, 1)

    def line(self, d: torch.Tensor, width_px: float = 1.0) -> torch.Tensor:
        return (d.abs().mul_(-self.px)).add_(0.5 + 0.5 * width_px).clamp_(0, 1)


def _col(t: torch.Tensor) -> torch.Tensor:
    return t.unsqueeze(2)


def photo(F: Fields, ident: Identity, background: torch.Tensor) -> torch.Tensor:
    P = Painter(F)
    skin, hair, lips, iris = _col(ident.skin), _col(ident.hair), _col(ident.lips), _col(ident.iris)
    bg = _col(background) * (1.08 - 0.25 * (F.gy_img.unsqueeze(1) + 1.2) / 2.8)
    img = bg.expand(F.n, 3, F.size * F.size).clone() + 0.02 * F.grain.unsqueeze(1)
    strand = (0.8 + 0.25 * F.strands).unsqueeze(1)
    img = over(img, P.fill(F.d_hair_back), hair * strand * 0.85)
    shirt = _col(1 - 0.6 * background)
    img = over(img, P.fill(F.d_neck), skin * 0.72)
    img = over(img, P.fill(F.d_cloth), shirt)
    ear = P.fill(F.d_ear) * F.ears_visible
    img = over(img, ear, skin * 0.88)
    img = over(img, ear * P.line(F.ear_inner, 1.5) * 0.5, skin * 0.6)
    # Skin: Lambert shading, mottling, and the shadows of the face's relief.
    shade = 0.78 + 0.2 * F.lambert
    shade = shade * (1 - 0.8 * F.socket) * (1 - 0.35 * F.under_nose) * (1 - 0.22 * F.under_lip)
    side = 1 - 0.4 * F.nose_side * (0.6 - 0.5 * F.nose_side_sign * F.light_x.sign())
    shade = (shade * side + 0.12 * F.nose_tip).unsqueeze(1)
    face_rgb = skin * shade * (1 + 0.05 * F.grain.unsqueeze(1))
    face_rgb = face_rgb + 0.08 * F.cheek.unsqueeze(1) * torch.tensor([1.0, -0.4, -0.4], device=img.device).view(1, 3, 1)
    face_a = P.fill(F.d_face)
    img = over(img, face_a, face_rgb)
    img = over(img, F.beard * 0.8, hair * 0.8)
    img = over(img, P.fill(F.d_hair_front) * (0.75 + 0.25 * (F.hair_ids > 0)), hair * strand)
    img = img * (1 - 0.42 * F.wrinkles.unsqueeze(1))
    img = over(img, P.fill(F.d_brow) * (0.8 + 0.2 * F.brow_tex), hair * 0.45 + 0.04)
    # Eyes.
    eye = P.fill(F.d_eye)
    sclera = _c(SCLERA, img) * (1 - 0.35 * F.lid_shadow.unsqueeze(1).clamp(0, 1).neg().add(1))
    img = over(img, eye, sclera)
    img = over(img, eye * P.fill(F.d_iris), iris * (0.75 + 0.5 * (F.d_iris / 0.08).clamp(-1, 0).neg()).unsqueeze(1) * 0.9)
    img = over(img, eye * P.fill(F.d_pupil), _c(INK, img))
    img = over(img, eye * P.fill(F.d_catch) * 0.9, _c((1.0, 1.0, 1.0), img))
    img = over(img, P.line(F.d_crease, 1.0) * 0.35, skin * 0.55)
    img = over(img, P.line(F.d_lower_lid, 1.0) * 0.3, skin * 0.6)
    img = over(img, P.fill(F.d_lid), _c((0.12, 0.08, 0.07), img))
    # Nose.
    img = over(img, P.line(F.d_ala, 1.0) * 0.45, skin * 0.55)
    img = over(img, P.line(F.d_nose_base, 1.0) * 0.3, skin * 0.5)
    img = over(img, P.fill(F.d_nostril) * 0.85, skin * 0.25)
    # Mouth.
    lip_rgb = lips * (0.62 + 0.18 * (1 - F.upper_lip)).unsqueeze(1) + 0.12 * F.lip_shine.unsqueeze(1)
    img = over(img, P.fill(F.d_lips), lip_rgb)
    cav = P.fill(F.d_cavity)
    img = over(img, cav, _c(CAVITY, img))
    img = over(img, cav * P.fill(F.d_teeth_up), _c(TEETH, img))
    img = over(img, cav * P.fill(F.d_teeth_low) * 0.9, _c(TEETH, img) * 0.9)
    img = over(img, P.line(F.d_lip_line, 1.0) * 0.6, lips * 0.4)
    # Glasses.
    img = over(img, F.lens * 0.08, _c((0.7, 0.8, 0.9), img))
    img = over(img, P.fill(F.d_glasses), _c((0.1, 0.08, 0.08), img))
    return img


def cartoon(F: Fields, ident: Identity, background: torch.Tensor) -> torch.Tensor:
    P = Painter(F)
    ink = _c(INK, F.grain)
    skin, hair, lips, iris = _col(ident.skin), _col(ident.hair), _col(ident.lips), _col(ident.iris)
    # Flat, brighter palette.
    skin = (skin * 1.08 + 0.04).clamp(0, 1)
    img = _col(background * 0.9 + 0.1).expand(F.n, 3, F.size * F.size).clone()

    def shape(img, d, colour, width=1.3):
        img = over(img, P.fill(d), colour)
        return over(img, P.line(d, width), ink)

    img = shape(img, F.d_hair_back, hair)
    img = shape(img, F.d_neck, skin * 0.85)
    img = shape(img, F.d_cloth, _col(1 - 0.7 * background))
    ear = F.d_ear + (1 - F.ears_visible) * 10
    img = shape(img, ear, skin)
    cel = (F.lambert < 0.55).to(F.lambert.dtype).unsqueeze(1)
    img = over(img, P.fill(F.d_face), skin * (1 - 0.12 * cel))
    img = over(img, P.line(F.d_face, 1.3), ink)
    img = over(img, F.beard.gt(0.3).float() * 0.6, hair)
    front = F.d_hair_front + (F.hair_ids == 0).to(F.lambert.dtype) * 0.0
    img = shape(img, front, hair)
    img = over(img, (F.wrinkles > 0.25).to(F.lambert.dtype) * F.wrinkles, ink)
    img = over(img, 0.25 * F.cheek.gt(0.6).float(), _c((0.95, 0.45, 0.45), img))
    img = over(img, P.fill(F.d_brow), ink)
    eye = P.fill(F.d_eye)
    img = over(img, eye, _c((1.0, 1.0, 1.0), img))
    img = over(img, eye * P.fill(F.d_iris), iris)
    img = over(img, eye * P.fill(F.d_pupil), ink)
    img = over(img, eye * P.fill(F.d_catch), _c((1.0, 1.0, 1.0), img))
    img = over(img, P.fill(F.d_lid), ink)
    img = over(img, P.line(F.d_eye, 1.0) * eye.gt(0).float(), ink)
    img = over(img, P.line(F.d_ala, 1.2), ink)
    img = over(img, P.fill(F.d_nostril), ink)
    img = shape(img, F.d_lips, lips * 1.05)
    cav = P.fill(F.d_cavity)
    img = over(img, cav, _c(CAVITY, img))
    img = over(img, cav * P.fill(F.d_teeth_up), _c((1.0, 1.0, 1.0), img))
    img = over(img, P.line(F.d_lip_line, 1.0), ink)
    img = over(img, P.fill(F.d_glasses), ink)
    return img.clamp(0, 1)


def sketch(F: Fields, ident: Identity, background: torch.Tensor) -> torch.Tensor:
    P = Painter(F)
    paper = _c(PAPER, F.grain)
    img = (paper * (1 + 0.04 * F.grain.unsqueeze(1))).expand(F.n, 3, F.size * F.size).clone()
    lead = _c(GRAPHITE, F.grain)
    diag = torch.sin((F.fx + F.gy_img) * F.px * 1.6) > 0.3
    tone = lambda img, a: over(img, a.clamp(0, 1), lead)  # noqa: E731

    hair_a = P.fill(F.d_hair_back)
    img = tone(img, hair_a * (0.25 + 0.35 * diag) * (0.6 + 0.4 * F.strands))
    img = tone(img, P.line(F.d_hair_back, 1.2) * 0.8)
    img = over(img, P.fill(F.d_face), paper)
    shadow = (0.75 - F.lambert).clamp(0, 1) * P.fill(F.d_face)
    img = tone(img, shadow * diag * 0.5 + 0.25 * F.socket * P.fill(F.d_face) + 0.3 * F.under_nose)
    img = tone(img, P.line(F.d_face, 1.3) * 0.85)
    ear = P.fill(F.d_ear) * F.ears_visible * (F.d_face > 0).to(F.grain.dtype)
    img = tone(img, P.line(F.d_ear, 1.0) * ear.gt(0).float() * 0.7)
    img = tone(img, P.line(F.d_neck, 1.0) * 0.5 * (F.d_face > 0).to(F.grain.dtype))
    img = tone(img, P.fill(F.d_hair_front) * (0.3 + 0.35 * F.strands))
    img = tone(img, P.fill(F.d_brow) * (0.55 + 0.3 * F.brow_tex))
    img = tone(img, F.wrinkles * 0.8)
    img = tone(img, F.beard * 0.4 * (0.5 + diag))
    eye = P.fill(F.d_eye)
    img = over(img, eye, paper)
    img = tone(img, eye * P.fill(F.d_iris) * 0.6)
    img = tone(img, eye * P.fill(F.d_pupil) * 0.95)
    img = over(img, eye * P.fill(F.d_catch), paper)
    img = tone(img, P.fill(F.d_lid) * 0.9)
    img = tone(img, P.line(F.d_eye, 0.8) * 0.5 * (eye > 0))
    img = tone(img, P.line(F.d_crease, 0.8) * 0.45)
    img = tone(img, P.line(F.d_ala, 1.0) * 0.7 + P.fill(F.d_nostril) * 0.8)
    img = tone(img, P.fill(F.d_lips) * 0.25 * (1 + F.upper_lip))
    img = tone(img, P.line(F.d_lips, 1.0) * 0.7)
    cav = P.fill(F.d_cavity)
    img = tone(img, cav * 0.85)
    img = over(img, cav * P.fill(F.d_teeth_up), paper)
    img = tone(img, P.line(F.d_lip_line, 1.0) * 0.8)
    img = tone(img, P.line(F.d_glasses, 1.0))
    return img.clamp(0, 1)


STYLE_PAINTERS = (photo, sketch, cartoon)  # in gamutlib.constants.STYLES order
