"""Who is who: senders and contacts as integrators name them, and the pseudonyms that stand for them.

Shared by ingestion (webhooks) and scoring (the pre-send check), so that both identify a person the same way.
"""
