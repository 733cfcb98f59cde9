"""Pixels from geometry: signed distances to the curves of `geometry.py`.

Every feature is a signed distance field in face units, evaluated on all
pixels of all faces at once ((N, H*W) tensors, no loop over faces). Coverage
is a one-pixel linear ramp of the distance (box-filter anti-aliasing), and a
stroke is a ramp of |distance|. The same fields feed the three styles:

- photo: smooth Lambert shading of an ellipsoid head, skin mottling, soft
  colours, shadows in the eye sockets, under the nose and the lower lip;
- cartoon: flat fills, two-tone cel shading and black outlines;
- sketch: graphite outlines and hatching on paper.
"""

from __future__ import annotations

import torch

from gamutlib.faces import geometry as geo
from gamutlib.faces.geometry import Geometry
from gamutlib.faces.identity import Identity


def _local(grid_x: torch.Tensor, grid_y: torch.Tensor, frame) -> tuple[torch.Tensor, torch.Tensor]:
    """Face-unit coordinates of every pixel in one pose layer (inverse of `geometry.to_pixels`)."""
    m, offset = frame
    inv = torch.linalg.inv(m)
    ux = grid_x - offset[:, 0:1]
    uy = grid_y - offset[:, 1:2]
    return inv[:, 0, 0:1] * ux + inv[:, 0, 1:2] * uy, inv[:, 1, 0:1] * ux + inv[:, 1, 1:2] * uy


def _grain(seed: torch.Tensor, n_pixels: int) -> torch.Tensor:
    """(N, P) per-pixel uniform noise in [-0.5, 0.5) from a hash (same on CPU and GPU)."""
    idx = seed[:, None] * 1_000_003 + torch.arange(n_pixels, device=seed.device)[None]
    mask = 0xFFFFFFFF
    x = (idx * 0x9E3779B1) & mask
    x = x ^ (x >> 16)
    x = (x * 0x7FEB352D) & mask
    x = x ^ (x >> 15)
    return (x & 0xFFFF).float() / 65536.0 - 0.5


class Fields:
    """All distance fields and shading terms of a batch of faces."""

    def __init__(self, g: Geometry, identity: Identity, size: int, light: torch.Tensor, seed: torch.Tensor):
        device, dtype = g.a.device, g.a.dtype
        n = g.a.shape[0]
        self.n, self.size = n, size
        self.px = geo.SCALE * size  # pixels per face unit
        # Pixel i is sampled at its centre, i + PIXEL_CENTRE from the edge; landmarks use
        # the integer-centre convention (geometry.to_pixels), so the two agree.
        lin = (torch.arange(size, device=device, dtype=dtype) + geo.PIXEL_CENTRE - size / 2) / self.px
        gy, gx = torch.meshgrid(lin + geo.CENTRE_Y, lin, indexing="ij")
        gx, gy = gx.reshape(1, -1), gy.reshape(1, -1)
        self.gy_img = gy
        hx, hy = _local(gx, gy, g.frames["head"])
        fx, fy = _local(gx, gy, g.frames["face"])
        nx, ny = _local(gx, gy, g.frames["nose"])
        self.fx = fx
        ax, nax = fx.abs(), nx.abs()
        px = self.px

        # ---- head, hair, neck, ears ------------------------------------
        upper = hy < g.yc
        b = torch.where(upper, g.bt, g.bb)
        t = (hy - g.yc) / b
        xm = (hx.abs() / g.a).clamp_min(1e-4)
        xpow = torch.where(upper, xm * xm, xm.pow(g.jm))
        dx = torch.where(upper, 2 * xm, g.jm * xpow / xm) / g.a
        f = xpow + t * t - 1
        self.d_face = f / (dx * dx + (2 * t / b) ** 2).sqrt().clamp_min(0.4)
        ear = (((hx.abs() - g.a + 0.02) / 0.12) ** 2 + ((hy - g.yc - 0.03) / 0.22) ** 2).sqrt()
        self.d_ear = (ear - 1) * 0.12
        self.ear_inner = ((ear - 0.55).abs() * 0.12 - 0.01)
        style = identity.hair_style.reshape(-1, 1)
        pad = torch.tensor([0.04, 0.10, 0.15, 0.17], device=device, dtype=dtype)[style]
        bottom = g.yc + torch.tensor([-0.35, 0.05, 0.85, 2.0], device=device, dtype=dtype)[style]
        cap = ((hx / (g.a + pad)) ** 2 + ((hy - g.yc + 0.08) / (g.bt + pad)) ** 2).sqrt()
        d_cap = (cap - 1) * g.a
        d_sides = torch.maximum(hx.abs() - (g.a + pad + 0.1 * (hy - g.yc).clamp_min(0)), g.yc - 0.4 - hy)
        self.d_hair_back = torch.maximum(torch.minimum(d_cap, d_sides), hy - bottom)
        r = hx.abs() / g.a
        hairline = g.hairline + 0.16 * r * r + 4.0 * (r - 0.7).clamp_min(0) ** 2
        self.d_hair_front = torch.maximum(torch.maximum(self.d_face - 0.02, hy - hairline), -self.d_hair_back - 0.5)
        self.d_hair_front = torch.maximum(self.d_hair_front, (hy - g.yc).where(upper, hy - g.yc))
        self.d_neck = torch.maximum(hx.abs() - 0.46 * g.a - 0.25 * (hy - g.yc - 1.5).clamp_min(0), g.yc + 0.3 - hy)
        self.d_cloth = (g.yc + g.bb - g.jaw_drop + 0.42 + 0.3 * hx * hx) - hy
        self.ears_visible = (style < 2).to(dtype)
        self.hair_ids = style
        self.strands = torch.sin(hx * 40 + 5 * torch.sin(hy * 6)) * 0.5 + 0.5

        # ---- shading: Lambert on an ellipsoid, in camera space --------------
        nX = hx / (g.a * 1.15)
        nY = (hy - g.yc) / (b * 1.1)
        nZ = (1 - nX * nX - nY * nY).clamp_min(0.03).sqrt()
        lcam = light / light.norm(dim=1, keepdim=True)
        lhead = (g.rotation.transpose(1, 2) @ lcam.unsqueeze(2)).squeeze(2)  # light in head coordinates
        self.lambert = (lhead[:, 0:1] * nX + lhead[:, 1:2] * nY + lhead[:, 2:3] * nZ).clamp_min(0)
        self.light_x = lhead[:, 0:1]

        # ---- eyes ---------------------------------------------------------
        u = ax - g.ex
        v = fy - g.ey
        q = u / g.ew
        vu, vl = geo.eye_upper(g, q), geo.eye_lower(g, q)
        self.d_eye = torch.maximum(vu - v, v - vl)
        idy = -0.008
        self.d_iris = (u * u + (v - idy) ** 2).sqrt() - g.ir
        self.d_pupil = (u * u + (v - idy) ** 2).sqrt() - 0.4 * g.ir
        us = fx - torch.sign(fx) * g.ex  # signed, so the catchlight is on the same side in both eyes
        self.d_catch = ((us + 0.35 * g.ir) ** 2 + (v - idy + 0.35 * g.ir) ** 2).sqrt() - 0.2 * g.ir
        self.lid_shadow = ((v - vu) / 0.05).clamp(0, 1)
        qa = q.abs()
        self.d_lid = torch.maximum((v - vu + 0.008).abs() - 0.022 * (1 - 0.5 * q * q), (qa - 1.06) * g.ew)
        crease = (g.eu_open - 0.045) * (1 - q * q) * (1 - 0.12 * q) - g.tilt * q
        self.d_crease = torch.maximum((v - crease).abs() - 0.006, (qa - 0.95) * g.ew)
        self.d_lower_lid = torch.maximum((v - vl - 0.004).abs() - 0.006, (qa - 0.9) * g.ew)
        bag = vl + 0.05 * (1 - q * q) + 0.012
        self.d_bag = torch.maximum((v - bag).abs() - 0.006, (qa - 0.75) * g.ew)
        self.socket = torch.exp(-((u / (g.ew * 1.6)) ** 2) - ((v + 0.06) / 0.14) ** 2)

        # ---- brows ----------------------------------------------------------
        tb = ((ax - g.bx0) / (g.bx1 - g.bx0)).clamp(0, 1)
        yb = geo.brow_line(g, tb)
        self.d_brow = torch.maximum((fy - yb).abs() - geo.brow_thickness(g, tb), torch.maximum(g.bx0 - ax, ax - g.bx1))
        self.brow_tex = torch.sin(fx * 140 - fy * 60) * 0.5 + 0.5

        # ---- nose (own layer: the tip sticks out) ----------------------------
        cx = 0.48 * g.nw
        base_c = geo.nostril_base(g, cx)
        self.d_nostril = (((nax - cx) / (0.33 * g.nw)) ** 2 + ((ny - base_c + 0.028) / 0.03) ** 2).sqrt() * 0.03 - 0.03
        base = geo.nostril_base(g, nx)
        wing = (((nax - 0.82 * g.nw) / (0.32 * g.nw)) ** 2 + ((ny - base + 0.065) / 0.08) ** 2).sqrt()
        self.d_ala = torch.maximum((wing - 1).abs() * 0.06 - 0.006, torch.maximum(base - 0.07 - ny, 0.6 * g.nw - nax))
        self.d_nose_base = torch.maximum((ny - base).abs() - 0.006, nax - 0.85 * g.nw)
        along = ((ny - g.ey - 0.05) / (g.nl - 0.05)).clamp(0, 1)
        self.nose_side = torch.exp(-(((nax - 0.085 - 0.1 * g.nw * along) / 0.035) ** 2)) * ((ny > g.ey + 0.02) & (ny < base - 0.04)).to(dtype)
        self.nose_side_sign = torch.sign(nx)
        self.under_nose = 1.5 * torch.exp(-(((ny - base - 0.03) / 0.035) ** 2)) * (nax < g.nw).to(dtype)
        self.nose_tip = torch.exp(-((nax / 0.06) ** 2) - ((ny - g.ey - g.nl + 0.02) / 0.05) ** 2)
        wr = torch.zeros_like(ax)
        for k in range(3):
            yk = g.ey + 0.13 + 0.045 * k + 0.4 * nx * nx
            line = (1 - ((ny - yk).abs() - 0.006) * px).clamp(0, 1) * (1 - (nax / 0.12) ** 2).clamp_min(0)
            wr = torch.maximum(wr, g.w_nose * line)

        # ---- mouth --------------------------------------------------------
        qm = ax / g.mw
        uo, ui, li, lo = geo.mouth_curves(g, qm)
        self.d_lips = torch.maximum(torch.maximum(uo - fy, fy - lo), ax - g.mw)
        self.d_cavity = torch.maximum(torch.maximum(ui - fy, fy - li), ax - g.mw)
        self.d_teeth_up = torch.maximum(self.d_cavity, torch.maximum(fy - ui - 0.055, ax - 0.78 * g.mw))
        self.d_teeth_low = torch.maximum(self.d_cavity, torch.maximum(li - 0.035 - fy, ax - 0.65 * g.mw))
        mid = 0.5 * (ui + li)
        self.d_lip_line = torch.maximum((fy - mid).abs() - 0.007, ax - g.mw)
        self.upper_lip = (fy < mid).to(dtype)
        self.under_lip = torch.exp(-(((fy - lo - 0.035) / 0.03) ** 2)) * (1 - (qm / 0.75) ** 2).clamp_min(0)
        self.lip_shine = torch.exp(-(((fy - lo + 0.35 * g.tl) / (0.2 * g.tl + 0.01)) ** 2) - (qm / 0.35) ** 2)

        # ---- wrinkles and folds: thin strokes whose strength is the AU --------
        def stroke(d: torch.Tensor) -> torch.Tensor:
            return (1 - d * px).clamp(0, 1)

        span = (ax / 0.5).clamp_max(1)
        fore = (g.w_forehead_in * (1 - span) + g.w_forehead_out * span).clamp_max(1) * (ax < 0.55).to(dtype)
        lift = 0.5 * (g.b_a1 + g.b_a2)
        for k in range(3):
            yk = g.by - 0.16 - 0.075 * k - 0.5 * lift + 0.07 * (fx / 0.5) ** 2
            wr = torch.maximum(wr, 0.7 * fore * stroke((fy - yk).abs() - 0.005))
        xf = 0.035 + 0.12 * (fy - g.by + 0.1)
        fur = stroke(torch.maximum((ax - xf).abs() - 0.007, (fy - g.by - 0.02).abs() - 0.11))
        wr = torch.maximum(wr, g.w_furrow * fur)
        ox, oy = g.ex + g.ew + 0.035, g.ey
        for angle in (-0.5, 0.0, 0.5):
            c, s = torch.cos(torch.tensor(angle)), torch.sin(torch.tensor(angle))
            du, dv = ax - ox, fy - oy
            al = du * c + dv * s
            perp = (-du * s + dv * c).abs()
            crow = stroke(torch.maximum(perp - 0.006, (al - 0.06).abs() - 0.06))
            wr = torch.maximum(wr, g.w_crow * crow)
        bag = stroke(self.d_bag)
        wr = torch.maximum(wr, g.w_lowerlid * bag * 0.8)
        x0, y0 = g.nw + 0.03, g.nbase - 0.09
        corner_y = g.my + g.dcy
        x1, y1 = g.mw + 0.07, corner_y + 0.13
        s_ = ((fy - y0) / (y1 - y0))
        xs = x0 + (x1 - x0) * s_.clamp(0, 1).sqrt() + 0.02 * torch.sin(s_.clamp(0, 1) * 3.14)
        nl_fold = stroke(torch.maximum((ax - xs).abs() - 0.009, (s_ - 0.5).abs() * (y1 - y0) - 0.5 * (y1 - y0)))
        wr = torch.maximum(wr, g.w_nasolabial * nl_fold)
        dimple = stroke(torch.maximum((ax - g.mw - 0.035).abs() - 0.009, (fy - corner_y).abs() - 0.04))
        wr = torch.maximum(wr, g.w_dimple * dimple)
        mar = stroke(torch.maximum((ax - (g.mw + 0.01 - 0.15 * (fy - corner_y))).abs() - 0.008, (fy - corner_y - 0.14).abs() - 0.1))
        wr = torch.maximum(wr, g.w_marionette * mar)
        st_x = ax - g.mw - 0.02
        stretch = stroke(torch.maximum((fy - corner_y - 0.6 * st_x).abs() - 0.007, (st_x - 0.08).abs() - 0.08))
        wr = torch.maximum(wr, g.w_stretch * stretch)
        _, _, _, lo0 = geo.mouth_curves(g, torch.zeros_like(g.a))
        chin_y = lo0 + 0.1 + 0.5 * fx * fx
        chin = stroke(torch.maximum((fy - chin_y).abs() - 0.008, ax - 0.17))
        wr = torch.maximum(wr, g.w_chin * chin)
        self.wrinkles = wr * (self.d_face < 0).to(dtype)

        # ---- cheeks, glasses, beard, skin ----------------------------------
        self.cheek = torch.exp(-(((ax - 0.5) / 0.2) ** 2) - ((fy - g.ey - 0.36 + g.cheek_up) / 0.13) ** 2)
        ring = ((u / 0.26) ** 2 + ((v + 0.01) / 0.19) ** 2).sqrt()
        d_ring = (ring - 1).abs() * 0.19 - 0.014
        d_bridge = torch.maximum((fy - g.ey + 0.05).abs() - 0.012, ax - (g.ex - 0.25))
        d_temple = torch.maximum((fy - g.ey + 0.07).abs() - 0.012, torch.maximum(g.ex + 0.25 - ax, ax - g.a))
        glasses = identity.glasses.reshape(-1, 1).to(dtype)
        self.d_glasses = torch.minimum(torch.minimum(d_ring, d_bridge), d_temple) + (1 - glasses) * 10
        self.lens = (ring < 1).to(dtype) * glasses
        self.grain = _grain(seed, size * size)
        beard_mask = ((fy - g.nbase - 0.04) * px).clamp(0, 1) * (-self.d_face * px).clamp(0, 1)
        self.beard = identity.beard.reshape(-1, 1).to(dtype) * beard_mask * (0.55 + 0.9 * self.grain).clamp(0, 1)
