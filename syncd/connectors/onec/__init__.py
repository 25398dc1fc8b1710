"""1C:Enterprise (УТ 11 / ERP 2 / Розница 2): OData V3 values and errors so far.

The client, the sources, the sink and the sandbox 1C build on these
(see issue 4); names of objects and fields always come from ``$metadata``.
"""
