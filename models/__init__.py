"""Model catalog, downloads and synthetic test models."""
