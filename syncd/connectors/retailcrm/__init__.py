"""RetailCRM API v5: errors, transport, client, history source and sink.

See docs/retailcrm.md for the account set-up, the trigger webhook and the
sandbox CRM (``syncd_sandbox.crm_app``).
"""
