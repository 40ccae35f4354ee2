"""Figures (matplotlib, Agg backend, imported on first use). One module per figure."""
