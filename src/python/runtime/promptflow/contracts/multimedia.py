"""promptflow's image type: the bytes of an image, with its MIME type and where it came from."""

import base64
import hashlib


class Image(bytes):
    """An image given to or returned by a tool. Images kwgraph passes in are read from the
    project (`{"data:image/png;path": ...}`) or decoded (`{"data:image/png;base64": ...}`)."""

    def __new__(cls, value, mime_type="image/*", source_url=None):
        image = super().__new__(cls, value)
        image._mime_type = mime_type
        image.source_url = source_url
        # The file an image was read from, so that returning it stores a path, not its bytes.
        image._kwgraph_path = None
        return image

    def __str__(self):
        return f"Image({hashlib.sha256(self).hexdigest()[:8]})"

    __repr__ = __str__

    def to_base64(self, with_type=False):
        encoded = base64.b64encode(self).decode("ascii")
        return f"data:{self._mime_type};base64,{encoded}" if with_type else encoded


PFImage = Image
