"""deepfim language server: LSP, model runtime and CLI."""

__version__ = "0.1.0"
