"""Packaged data: the model table (models.toml) and its loader."""
