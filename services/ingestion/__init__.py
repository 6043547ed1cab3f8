"""HTTP in, Kafka out: CRM adapters, signature checks, privacy, publishing."""
