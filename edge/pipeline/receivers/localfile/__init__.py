"""Localfile receiver: reads data files from a directory on this machine."""
