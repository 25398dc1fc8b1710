"""RetailCRM API v5: the client (transport, errors, pacing, endpoints).

The history source, the sink and the sandbox CRM build on this client
(see docs/retailcrm.md once they land).
"""
