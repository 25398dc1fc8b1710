"""Who is who: every purchase tied to one customer across 1C, the CRM and the stores.

``keys`` normalises what identifies a person (phone, e-mail, loyalty card) and
names; ``match`` decides, purely, which known customer a record belongs to;
``index`` keeps customers, their keys (each with its source: together the
golden record) and the records bound to them in the store (indexed blocking
keys); ``resolver`` matches batches incrementally.

    from syncd.identity import Record, Resolver
    (found,) = Resolver().resolve(conn, [Record("pos:msk", "r-1", "Анна", phones=["+7912…"])])
"""

from syncd.identity.keys import Record, keys_of
from syncd.identity.match import Decision, decide
from syncd.identity.resolver import Assignment, Resolver

__all__ = ["Assignment", "Decision", "Record", "Resolver", "decide", "keys_of"]
