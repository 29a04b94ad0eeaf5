"""Imports every feature module once, so their subcommands, job handlers and periodic work
register themselves. The listener and worker setup import this; nothing else needs to."""

import bot.jobs.deliveries  # noqa: F401  digests and prompts: the tick, the post job
import bot.jobs.export  # noqa: F401  privacy: CSV exports by DM, the removed-win note
import bot.jobs.handlers  # noqa: F401  wins: celebration posts
import bot.jobs.home  # noqa: F401  App Home: publish on open and after changes
import bot.jobs.narratives  # noqa: F401  narratives: the "how I use AI" post
import bot.jobs.reinvest  # noqa: F401  "where did the saved time go?" DMs
import bot.jobs.report  # noqa: F401  the monthly leadership report: tick, DM job (issue 11)
import bot.jobs.teachbacks  # noqa: F401  teach-backs: reactions, invitations, notices
import bot.listeners.commands.adoption  # noqa: F401  /aiwin adoption (issue 11)
import bot.listeners.commands.leadership  # noqa: F401  /aiwin stats, policy, export, optout, optin, delete
import bot.listeners.commands.managers  # noqa: F401  /aiwin managers
import bot.listeners.commands.narratives  # noqa: F401  /aiwin narrate
import bot.listeners.commands.schedule  # noqa: F401  /aiwin digest, /aiwin prompts
import bot.listeners.commands.teachbacks  # noqa: F401  /aiwin teachbacks
