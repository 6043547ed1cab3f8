"""Wiring that all three services share: settings base, broker factory, HTTP probes, logging."""
