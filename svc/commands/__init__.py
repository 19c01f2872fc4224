"""Thin click commands: parse, call the core, render."""
