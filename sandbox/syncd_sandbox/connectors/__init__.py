"""The demo connector: a JSON-lines feed file in, one JSON file per object out.

It needs no outside system, so ``make run`` and the engine's durability tests
exercise the whole pipeline — source → inbox → flow → outbox → sink — with
real files.  The sandbox 1C and RetailCRM connectors take its place in the
demo configuration when they arrive.
"""

from syncd_sandbox.connectors.directory_sink import DirectorySink
from syncd_sandbox.connectors.feed_source import FeedFileSource

__all__ = ["DirectorySink", "FeedFileSource"]
