"""Bring your own data: score and evaluate analysts' files, import Telegram exports, export, browse.

File formats in, file formats out; the model, the store and the metrics live in their own layers.
"""
