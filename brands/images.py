"""Uploaded images: checked by content, re-encoded without metadata, resized for the pages.

Nothing the uploader sends is stored as-is: the file is decoded with Pillow
(JPEG, PNG and WebP only, whatever its name says), re-encoded — which drops
EXIF, GPS and any other metadata — and stored as a normalized original plus
the display sizes the pages use.
"""

import contextlib
import io
import uuid
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
# The normalized original is capped so a phone photo does not weigh 10 MB on a weak connection.
ORIGINAL_MAX_SIDE = 2048

# Display sizes per kind of image: (longest side in px).
SIZES = {"logo": 256, "cover": 1200, "photo": 480}


@dataclass(frozen=True)
class NormalizedImage:
    original: ContentFile
    display: ContentFile


def _encode(image: Image.Image, *, keep_alpha: bool) -> tuple[bytes, str]:
    buffer = io.BytesIO()
    if keep_alpha:
        image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue(), "png"
    image.convert("RGB").save(buffer, format="JPEG", quality=85, optimize=True, progressive=True)
    return buffer.getvalue(), "jpg"


def normalize(upload, *, kind: str) -> NormalizedImage:
    """Check an uploaded file and return the files to store; ValidationError with a clear message otherwise."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise ValidationError(
            _("The file is %(size).1f MB; images may be at most 5 MB."), params={"size": size / 1024 / 1024}
        )
    upload.seek(0)
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValidationError(_("Images may be at most 5 MB."))
    not_an_image = ValidationError(_("This file is not a JPEG, PNG or WebP image."), code="invalid_image")
    try:
        with warnings.catch_warnings():
            # Pillow warns (and past twice the limit raises) on decompression bombs; both are a refusal here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ALLOWED_FORMATS:
                raise not_an_image
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ValidationError(
                    _("The image is %(width)d × %(height)d pixels; at most 40 megapixels are accepted."),
                    params={"width": width, "height": height},
                    code="too_many_pixels",
                )
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(_("The image has too many pixels to be processed."), code="too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise not_an_image from None

    # Keep the photo upright once the orientation tag is gone. Unreadable EXIF leaves the pixels as stored:
    # they are fine, only their orientation is unknown.
    with contextlib.suppress(SyntaxError, ValueError, OSError, KeyError, TypeError):
        image = ImageOps.exif_transpose(image)
    keep_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    image = image.convert("RGBA" if keep_alpha else "RGB")
    original = image.copy()
    original.thumbnail((ORIGINAL_MAX_SIDE, ORIGINAL_MAX_SIDE))
    display = image.copy()
    display.thumbnail((SIZES[kind], SIZES[kind]))
    stem = uuid.uuid4().hex
    original_bytes, ext = _encode(original, keep_alpha=keep_alpha)
    display_bytes, _ext = _encode(display, keep_alpha=keep_alpha)
    return NormalizedImage(
        original=ContentFile(original_bytes, name=f"{stem}.{ext}"),
        display=ContentFile(display_bytes, name=f"{stem}-{SIZES[kind]}.{ext}"),
    )
