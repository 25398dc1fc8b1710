"""1C:Enterprise (УТ 11 / ERP 2 / Розница 2) over the standard OData interface.

So far: values and literals, error mapping, the ``$metadata`` parser and the
paced OData client.  Names of objects and fields always come from
``$metadata``, never from code.
"""
