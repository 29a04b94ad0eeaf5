"""Who answers what, in one table each: `/aiwin` subcommands, job kinds, periodic tasks.

Feature modules only define functions; nothing registers itself on import. The app takes
SUBCOMMANDS (bot/app.py), the job worker takes JOB_HANDLERS and the scheduler takes PERIODIC
(bot/server.py, bot/cli/). Only those top-level assemblers import this module, so no import
circle can form through it."""

from __future__ import annotations

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.jobs import coach as coach_jobs
from bot.jobs import deliveries, export, home, members, narratives, reinvest, report, steps, teachbacks
from bot.jobs import tries as tries_jobs
from bot.jobs import wins as win_jobs
from bot.jobs.worker import Handler
from bot.listeners.commands import adoption, aiwin, coach, data_control, managers, policy, schedule, search, stats
from bot.listeners.commands import export as export_command
from bot.listeners.commands import narratives as narrate
from bot.listeners.commands import teachbacks as teachbacks_command
from bot.listeners.commands.router import Subcommand
from bot.models import KIND_DIGEST, KIND_PROMPTS
from bot.scheduler import Periodic, purge_jobs
from bot.services import teachbacks as tb
from bot.services.data_control import WIN_REMOVED
from bot.services.export import EXPORT
from bot.services.home import HOME_REFRESH
from bot.services.inbox import RECORD_COMMAND
from bot.services.members import COPY_MEMBERS
from bot.services.narratives import POST_NARRATIVE
from bot.services.owners import CHECK_OWNERS
from bot.services.reinvest import REINVEST_ASK
from bot.services.tries import TRIED_NOTICE, TRIED_UPDATE
from bot.services.wins import POST_WIN


def _aliases(table: dict[tuple[str, ...], Subcommand]) -> dict[str, Subcommand]:
    return {name: spec for names, spec in table.items() for name in names}


# The first word of `/aiwin …` (lower-cased) → its ack part and/or lazy part (bot/listeners/commands/router.py).
SUBCOMMANDS: dict[str, Subcommand] = _aliases({
    ("help", "?"): Subcommand(ack=aiwin.ack_help),
    ("narrate", "story"): Subcommand(ack=narrate.ack_narrate, lazy=narrate.lazy_narrate),
    ("teachbacks", "teachback"): Subcommand(ack=teachbacks_command.ack_teachbacks,
                                            lazy=teachbacks_command.lazy_teachbacks),
    ("managers", "manager"): Subcommand(ack=managers.ack_managers, lazy=managers.lazy_managers),
    (KIND_DIGEST,): schedule.subcommand_for(KIND_DIGEST),
    (KIND_PROMPTS,): schedule.subcommand_for(KIND_PROMPTS),
    ("stats",): Subcommand(ack=stats.stats_ack, lazy=stats.stats_lazy),
    ("policy",): Subcommand(ack=policy.policy_ack, lazy=policy.policy_lazy),
    ("export",): Subcommand(ack=export_command.export_ack, lazy=export_command.export_lazy),
    ("optout", "opt-out"): Subcommand(ack=data_control.optout_ack),
    ("optin", "opt-in"): Subcommand(ack=data_control.optin_ack),
    ("delete",): Subcommand(ack=data_control.delete_ack, lazy=data_control.delete_lazy),
    ("search",): Subcommand(ack=search.ack_search, lazy=search.lazy_search),
    ("adoption",): Subcommand(ack=adoption.ack_adoption, lazy=adoption.lazy_adoption),
    ("coach",): Subcommand(ack=coach.ack_coach, lazy=coach.lazy_coach),
})

# Job kind → handler (bot/jobs/worker.py). "<kind>:failed" runs once when a job of that kind gives up.
JOB_HANDLERS: dict[str, Handler] = {
    RECORD_COMMAND: win_jobs.record_command,
    f"{RECORD_COMMAND}:failed": win_jobs.record_command_gave_up,
    POST_WIN: win_jobs.post_win,
    f"{POST_WIN}:failed": win_jobs.post_win_gave_up,
    "update_win_message": win_jobs.update_win_message,
    CHECK_OWNERS: win_jobs.check_owners,
    POST_NARRATIVE: narratives.post_narrative,
    f"{POST_NARRATIVE}:failed": narratives.post_narrative_gave_up,
    "reaction_added": teachbacks.on_reaction_added,
    "reaction_removed": teachbacks.on_reaction_removed,
    tb.INVITE: teachbacks.send_invitation,
    tb.THREAD_NOTE: teachbacks.post_thread_note,
    tb.MANAGER_NOTE: teachbacks.notify_manager,
    "app_home_opened": home.home_opened,
    HOME_REFRESH: home.home_refresh,
    COPY_MEMBERS: members.copy_members,
    EXPORT: export.send_export,
    f"{EXPORT}:failed": export.export_gave_up,
    WIN_REMOVED: export.show_win_removed,
    REINVEST_ASK: reinvest.send_reinvest_ask,
    TRIED_UPDATE: tries_jobs.tried_update,
    TRIED_NOTICE: tries_jobs.tried_notice,
    **coach_jobs.HANDLERS,
    **deliveries.HANDLERS,
    **report.HANDLERS,
    **steps.HANDLERS,
}

# Periodic work, run by the one scheduler of a deployment (`aiwins serve` or `aiwins scheduler`).
PERIODIC: list[Periodic] = [
    (purge_jobs, IntervalTrigger(hours=1), "purge_jobs"),
    (deliveries.deliveries_tick, CronTrigger(second=0), "deliveries_tick"),
    (reinvest.reinvest_asks, IntervalTrigger(minutes=15), "reinvest_asks"),
    (report.reports_tick, CronTrigger(second=30), "reports_tick"),
]
