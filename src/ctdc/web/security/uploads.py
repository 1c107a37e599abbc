"""Upload size limits on the web: a request too large is refused from its Content-Length before any of its body is
read, and an upload is cut off as soon as it passes the limit while it streams in (a client may send more than it
announced in a multipart part). The core checks the same limits again on the stored file (`ctdc.ingest.limits`),
so the page, the API and `ctdc ingest` refuse alike.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpResponse, JsonResponse

from ctdc.errors import UploadTooLarge
from ctdc.ingest.limits import MIB, UploadLimits, describe_bytes

# Room for the form's other fields and the multipart boundaries on top of the file itself.
FORM_OVERHEAD = MIB
REFUSED_ATTRIBUTE = "ctdc_upload_refused"


def upload_limits() -> UploadLimits:
    return settings.CTDC_UPLOAD_LIMITS


def upload_refusal(request) -> UploadTooLarge | None:
    """The refusal `CappedUploadHandler` recorded on this request, if an upload was cut off."""
    return getattr(request, REFUSED_ATTRIBUTE, None)


class CappedUploadHandler(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS: counts each file's bytes as they arrive and drops the file (SkipFile: the
    handlers after it discard what they held) as soon as it passes `CTDC_UPLOAD_MAX_MB`. The view finds the
    refusal with `upload_refusal(request)`."""

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        limit = upload_limits().max_bytes
        if self.received > limit:
            name = self.file_name or "The file"
            setattr(self.request, REFUSED_ATTRIBUTE, UploadTooLarge(
                f"{name} is larger than the {describe_bytes(limit)} a file may be; it was not kept. Split it "
                "into several files (by year, say) and submit each.",
                {"file": name, "reason": "file-too-large", "limit": limit}))
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler builds the file


class RequestSizeMiddleware:
    """Answer 413 to a request whose announced body is larger than an upload may be, before reading any of it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = upload_limits().max_bytes
        if length > limit + FORM_OVERHEAD:
            message = (f"The request is {describe_bytes(length)}, more than the {describe_bytes(limit)} a file may "
                       "be; nothing was read or kept. Split the file into several files (by year, say) and submit "
                       "each.")
            if request.path.startswith("/api/"):
                return JsonResponse({"code": UploadTooLarge.code, "message": message,
                                     "extra": {"reason": "file-too-large", "size": length, "limit": limit}},
                                    status=413)
            return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
