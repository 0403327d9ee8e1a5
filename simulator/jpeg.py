"""Camera frames for the simulated P1/A1 chamber camera: real 1280x720 JPEG images.

Each frame shows a stylised build plate, the part growing with the job's progress, and the job
name, state and percentage as text. Rendering and JPEG encoding take milliseconds, so frames are
cached by what they show: serving 30 frames a second of an unchanged picture costs a dict
lookup, and a print re-renders at most once per percent.
"""

import io
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property

from PIL import Image, ImageDraw, ImageFont

WIDTH = 1280
HEIGHT = 720

_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True, slots=True)
class Overlay:
    """What a frame shows; equal overlays give the same (cached) frame."""

    job_name: str = ""
    state: str = "IDLE"
    percent: int | None = None
    layer: int | None = None
    total_layers: int | None = None

    def normalized(self) -> "Overlay":
        """Return the overlay with values clamped and trimmed, as used for the cache key."""
        percent = None if self.percent is None else max(0, min(100, int(self.percent)))
        return Overlay(self.job_name[:80], self.state[:24], percent, self.layer, self.total_layers)


@cache
def _font(size: int) -> _Font:
    try:
        return ImageFont.load_default(size=size)
    except ImportError:  # pragma: no cover - Pillow built without FreeType
        return ImageFont.load_default()


class JpegRenderer:
    """Render overlays into JPEG bytes, keeping the last few results."""

    def __init__(
        self,
        width: int = WIDTH,
        height: int = HEIGHT,
        *,
        quality: int = 80,
        cache_size: int = 8,
    ) -> None:
        self.width = width
        self.height = height
        self.quality = quality
        self._cache_size = cache_size
        self._cache: OrderedDict[Overlay, bytes] = OrderedDict()
        self.renders = 0

    @cached_property
    def _background(self) -> Image.Image:
        """Draw the static part once: chamber walls, build plate, a little sensor noise."""
        w, h = self.width, self.height
        image = Image.linear_gradient("L").resize((w, h)).convert("RGB")
        image = Image.blend(image, Image.new("RGB", (w, h), (28, 30, 34)), 0.8)
        draw = ImageDraw.Draw(image)
        top, bottom = int(h * 0.55), int(h * 0.92)
        plate = [(w * 0.22, top), (w * 0.78, top), (w * 0.95, bottom), (w * 0.05, bottom)]
        draw.polygon(plate, fill=(62, 64, 70), outline=(120, 122, 130))
        for i in range(1, 12):  # grid lines on the textured plate
            x_top = w * 0.22 + (w * 0.56) * i / 12
            x_bottom = w * 0.05 + (w * 0.90) * i / 12
            draw.line([(x_top, top), (x_bottom, bottom)], fill=(80, 82, 90), width=1)
        noise = Image.effect_noise((w, h), 24).convert("RGB")
        return Image.blend(image, noise, 0.08)

    def render(self, overlay: Overlay) -> bytes:
        """Return the JPEG for an overlay, rendering it only if it is not cached."""
        key = overlay.normalized()
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        data = self._encode(key)
        self._cache[key] = data
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return data

    def source(self, overlay: Callable[[], Overlay]) -> Callable[[], bytes]:
        """Return a frame source for CameraServer that renders whatever `overlay()` says now."""
        return lambda: self.render(overlay())

    def _encode(self, overlay: Overlay) -> bytes:
        self.renders += 1
        w, h = self.width, self.height
        image = self._background.copy()
        draw = ImageDraw.Draw(image)
        if overlay.percent is not None:
            # The part on the plate grows with the progress.
            part_h = int(h * 0.3 * overlay.percent / 100)
            base = int(h * 0.74)
            draw.rectangle(
                [(w * 0.42, base - part_h), (w * 0.58, base)],
                fill=(40, 170, 90),
                outline=(20, 110, 60),
            )
        draw.rectangle([(0, 0), (w, int(h * 0.16))], fill=(0, 0, 0))
        title = overlay.job_name or "No job"
        draw.text((int(w * 0.025), int(h * 0.02)), title, fill=(240, 240, 240), font=_font(h // 18))
        status = overlay.state
        if overlay.percent is not None:
            status += f"  {overlay.percent}%"
        if overlay.layer is not None and overlay.total_layers:
            status += f"  layer {overlay.layer}/{overlay.total_layers}"
        draw.text((int(w * 0.025), int(h * 0.095)), status, fill=(0, 200, 120), font=_font(h // 28))
        if overlay.percent is not None:
            bar_w = int(w * 0.95 * overlay.percent / 100)
            draw.rectangle(
                [(int(w * 0.025), h - 18), (int(w * 0.025) + bar_w, h - 8)], fill="green"
            )
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=self.quality)
        return out.getvalue()
