"""Enrichment: what a CRM's webhook leaves out, asked of the CRM's own REST API (docs/ingestion.md)."""
