"""Alerts out to people: routing, channels, delivery with retries and receipts."""
