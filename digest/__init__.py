"""Digest: turn stored items and scores for a window into plain data, then render it.

Composing reads the store; rendering (text, JSON, Telegram HTML, PNG) never touches it.
"""
