"""Imports every feature module once, so their subcommands, job handlers and periodic work
register themselves. The listener and worker setup import this; nothing else needs to."""

import bot.jobs.handlers  # noqa: F401  wins: celebration posts
