"""Preparation: leak-free split, format conversion, and a safe fixer (streaming, atomic, line-conserving)."""
