"""Foundations every layer uses: money, dates, the clock, retries, pacing, settings, the vault, formatting, events."""
