"""Policy engine (pure), state store (interface + backends), Kafka wiring, and the check API."""
