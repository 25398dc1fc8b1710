"""How the bindings' facts are stored: JSON, deflated against a preset dictionary.

A flow's facts are small JSON documents that repeat the same keys in every row
(an order's: ``base``, ``fields_delta``, ``history_id``, ``state_event`` and
the like, ~750 bytes).  Kept as they are, they were most of what a retained
order costs the store.  Deflated with a fixed dictionary of those keys they
take about a quarter of that: ``z1:`` and the deflated bytes in base64 (the
column stays text, so the store, ``syncd db copy`` and both databases need no
change).  A document that would not come out shorter is stored as JSON.

    stored = pack('{"base": ...}')     # 'z1:q1ZKSs...' (or the JSON itself)
    unpack(stored) == '{"base": ...}'  # either form reads back

The dictionary is part of the stored format: it never changes.  Another one
would be ``z2:``, with ``z1:`` still read.  ``syncd bindings show`` prints an
object's facts as JSON (a bare ``SELECT`` shows the packed text).
"""

from __future__ import annotations

import base64
import zlib

from syncd.errors import SyncdError

PREFIX = "z1:"
# Raw deflate, 2 KB window (the documents are under it), default level.
_WBITS, _LEVEL = -11, 6

# Frequent substrings of the flows' facts, the most frequent last (deflate
# reaches back 2 KB, and nearer matches cost fewer bits).  Frozen: see above.
DICTIONARY = (
    '{"offline":{},"online":{},"settled":{"below":"2026-01-01","dates":{"2026-01-01":1},'
    '"done":1,"done_cents":1,"lost":1,"offline_cents":1,"online":1,"receipts":1,"sales":1}},'
    '"status":"send-to-delivery","status":"complete","status":"cancel-other",'
    '"stage":"new","stage":"cancelled","stage":"shipped",'
    '"state":"ГотовКЗакрытию","state":"КОтгрузке","status":"НеСогласован",'
    '"figures":{"at":"2026-01-01","customer":1,"stage":"agreed","total":1.0}}'
    '{"base":{"fields":{"createdAt":"2026-01-01 00:00:00","delivery.address.text":"",'
    '"delivery.code":"self-delivery","managerComment":"","number":"ЗК-0000"},'
    '"stage":"agreed"},"created":true,"crm":{"event":1,"fields_delta":{},'
    '"history_id":1,"id":1,"stage":"agreed","status":"client-confirmed"},'
    '"erp":{"agreed":true,"all_cancelled":false,'
    '"customer":"00000000-0000-0000-0000-000000000000","date":"2026-01-01T00:00:00",'
    '"event":1,"fields_delta":{},"posted":true,"stage":"agreed",'
    '"state":"ГотовКОбеспечению","state_event":1,"status":"КОбеспечению","total":1.0,'
    '"version":"AAAAAAAAAAQ="},'
).encode()


class BadFacts(SyncdError, ValueError):
    """Stored facts that cannot be read back (cut short, or not this format)."""


def pack(text: str) -> str:
    """The stored form of a JSON document: packed when that is shorter."""
    deflate = zlib.compressobj(
        _LEVEL, zlib.DEFLATED, _WBITS, 8, zlib.Z_DEFAULT_STRATEGY, DICTIONARY
    )
    body = deflate.compress(text.encode("utf-8")) + deflate.flush()
    packed = PREFIX + base64.b64encode(body).decode("ascii")
    return packed if len(packed) < len(text) else text


def unpack(stored: str) -> str:
    """The JSON document of a stored value (JSON as stored passes through)."""
    if not stored.startswith(PREFIX):
        return stored
    try:
        inflate = zlib.decompressobj(_WBITS, DICTIONARY)
        text = (
            inflate.decompress(base64.b64decode(stored[len(PREFIX) :], validate=True))
            + inflate.flush()
        )
        if not inflate.eof:
            raise ValueError("the deflated data is cut short")
        return text.decode("utf-8")
    except (ValueError, zlib.error) as e:
        raise BadFacts(f"stored facts ({stored[:20]}...) cannot be unpacked: {e}") from None
