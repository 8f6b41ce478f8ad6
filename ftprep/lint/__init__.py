"""Findings, rules and the rule registry."""
