"""Uploaded images: checked by content, re-encoded without metadata, resized for the pages.

Nothing the uploader sends is stored as-is: the file is decoded with Pillow
(JPEG, PNG and WebP only, whatever its name says), re-encoded — which drops
EXIF, GPS and any other metadata — and stored as a normalized original plus
the display sizes the pages use.
"""

import contextlib
import io
import math
import uuid
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 5 * 1024 * 1024
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
# The normalized original is capped so a phone photo does not weigh 10 MB on a weak connection.
ORIGINAL_MAX_SIDE = 2048

# Display sizes per kind of image: (longest side in px).
SIZES = {"logo": 256, "cover": 1200, "photo": 480}

# Pillow's own guard, for every Image.open in the process: it warns past this and refuses past twice it.
Image.MAX_IMAGE_PIXELS = settings.IMAGE_MAX_PIXELS


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
    limit = settings.IMAGE_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            # Pillow warns past its limit (the same one) and raises past twice it; below the warning, our
            # own check refuses with the image's size.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # lazy: reads the header only
            if image.format not in ALLOWED_FORMATS:
                raise not_an_image
            width, height = image.size
            if width * height > limit:
                raise ValidationError(
                    _("The image is %(width)d × %(height)d pixels; at most %(megapixels)s megapixels are accepted."),
                    params={"width": width, "height": height, "megapixels": f"{limit / 1_000_000:g}"},
                    code="too_many_pixels",
                )
            # A JPEG decodes at 1/2, 1/4 or 1/8 scale for free: no larger than the stored original needs,
            # and within the decoding budget.
            budget = settings.IMAGE_MAX_DECODED_PIXELS
            reduce = 1
            while image.format == "JPEG" and reduce < 8:
                needed = max(width, height) / (2 * reduce) >= ORIGINAL_MAX_SIDE
                if not needed and (width / reduce) * (height / reduce) <= budget:
                    break
                reduce *= 2
            if reduce > 1:
                image.draft(None, (math.ceil(width / reduce), math.ceil(height / reduce)))
            decoded = image.size[0] * image.size[1]  # after the draft: what decoding will allocate
            if decoded > budget:
                raise ValidationError(
                    _(
                        "The image is %(width)d × %(height)d pixels; PNG and WebP images may have at most "
                        "%(megapixels)s megapixels. Save it as JPEG, or make it smaller."
                    ),
                    params={
                        "width": width,
                        "height": height,
                        "megapixels": f"{budget / 1_000_000:g}",
                    },
                    code="too_many_pixels",
                )
            image.load()
    except Image.DecompressionBombError:
        raise ValidationError(_("The image has too many pixels to be processed."), code="too_many_pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise not_an_image from None

    # One full-size copy at a time: convert (only when the mode needs it, e.g. palette images, which
    # resize badly), shrink in place to the stored size, and only then turn upright and derive the display size.
    keep_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    mode = "RGBA" if keep_alpha else "RGB"
    if image.mode != mode:
        image = image.convert(mode)  # keeps ``info``, where exif_transpose finds the orientation
    image.thumbnail((ORIGINAL_MAX_SIDE, ORIGINAL_MAX_SIDE))
    # Keep the photo upright once the orientation tag is gone. Unreadable EXIF leaves the pixels as stored:
    # they are fine, only their orientation is unknown.
    with contextlib.suppress(SyntaxError, ValueError, OSError, KeyError, TypeError):
        image = ImageOps.exif_transpose(image)
    original = image
    display = image.copy()
    display.thumbnail((SIZES[kind], SIZES[kind]))
    stem = uuid.uuid4().hex
    original_bytes, ext = _encode(original, keep_alpha=keep_alpha)
    display_bytes, _ext = _encode(display, keep_alpha=keep_alpha)
    return NormalizedImage(
        original=ContentFile(original_bytes, name=f"{stem}.{ext}"),
        display=ContentFile(display_bytes, name=f"{stem}-{SIZES[kind]}.{ext}"),
    )
