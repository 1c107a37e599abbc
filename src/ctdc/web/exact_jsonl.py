"""JSON Lines serialization that keeps every microsecond, for backups.

Django's own encoder cuts datetimes and times to milliseconds. A backup restored from it differs from the
original, and a value between 1 and 999 microseconds comes back as a whole second, so a second backup is not
byte-for-byte the first. Reading is Django's: its parser already takes microseconds.
"""

from __future__ import annotations

import datetime

from django.core.serializers import jsonl
from django.core.serializers.json import DjangoJSONEncoder

Deserializer = jsonl.Deserializer


class ExactJSONEncoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, datetime.datetime):
            text = o.isoformat()
            return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
        if isinstance(o, datetime.time):
            if o.utcoffset() is not None:
                raise ValueError("JSON can't represent timezone-aware times.")
            return o.isoformat()
        return super().default(o)


class Serializer(jsonl.Serializer):
    def _init_options(self):
        super()._init_options()
        self.json_kwargs["cls"] = ExactJSONEncoder
