"""The Telegram bot (python-telegram-bot): commands, subscriptions, scheduled digests, admin feeds.

Reads the store and the digest and talks to Telegram; never fetches feeds or classifies posts.
Entry points: ``bot.app.build_application`` and ``bot.run.run_bot`` / ``bot.run.serve_bot``.
"""
