"""Pure fill-in-the-middle logic: prompts, context selection, post-processing. No LSP, no model."""
