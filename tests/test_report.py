"""The monthly leadership report: when it falls due, exactly once per recipient and month (the tick,
replays and `aiwins report --post`), its chart shown once, inside the report (by slack_file), also
when a post is retried or Slack is still processing the file, the text fallback when the upload
fails, catch-up after downtime. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select

from bot.jobs import report as report_job
from bot.models import Delivery, Manager, Member, Workspace
from bot.services.report import first_working_day, last_due, suggest
from tests.conftest import ALICE, BOB, DAVE, TEAM
from tests.helpers import all_text, wait_until
from tests.test_schedule import cli_env  # noqa: F401  (a fixture)
from tests.test_stats import seed_win

pytestmark = pytest.mark.dates  # .ci/run runs these again with the clock moved ahead

ADMIN = "U0ADMIN0001"
TOKYO, NY = "Asia/Tokyo", "America/New_York"


def test_first_working_day_and_the_due_instant_in_each_zone():
    assert first_working_day(2026, 12) == date(2026, 12, 1)  # a Tuesday
    assert first_working_day(2026, 8) == date(2026, 8, 3)  # the 1st is a Saturday
    # 09:00 on 1 December in Tokyo is midnight UTC; in New York 14:00 UTC (EST).
    assert last_due(datetime(2026, 12, 1, 0, 0, tzinfo=UTC), TOKYO) == (datetime(2026, 12, 1, 0, 0, tzinfo=UTC),
                                                                         "2026-11")
    assert last_due(datetime(2026, 12, 1, 13, 59, tzinfo=UTC), NY) == (datetime(2026, 11, 2, 14, 0, tzinfo=UTC),
                                                                       "2026-10")
    assert last_due(datetime(2026, 12, 1, 14, 0, tzinfo=UTC), NY)[1] == "2026-11"


@pytest.fixture(autouse=True)
def december_first():
    """Today is 1 December 2026, 05:00 UTC (the clock runs on from there): the November report is due
    in Tokyo."""
    with time_machine.travel(datetime(2026, 12, 1, 5, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def workspace(db, fake_slack):
    fake_slack.add_user(ADMIN, "ada", is_admin=True, tz=NY)
    with db.session(TEAM) as s:
        s.add(Workspace(team_id=TEAM, members_synced_at=datetime(2026, 11, 30, tzinfo=UTC),
                        created_at=datetime(2026, 11, 15, tzinfo=UTC)))  # after October's report was due
        for u, tz in ((ADMIN, NY), (DAVE, TOKYO), (BOB, NY), (ALICE, NY)):
            s.add(Member(team_id=TEAM, user_id=u, name=u.lower(), tz=tz, is_admin=(u == ADMIN),
                         fetched_at=datetime(2026, 11, 30, tzinfo=UTC)))
        s.add(Member(team_id=TEAM, user_id="U0BOT00001", name="bot", is_bot=True, is_admin=True,
                     fetched_at=datetime(2026, 11, 30, tzinfo=UTC)))
        s.add(Manager(team_id=TEAM, user_id=DAVE, added_by=ADMIN))
        for day in (3, 10, 17, 24):
            seed_win(s, owners=[BOB], created_at=datetime(2026, 11, day, 12, tzinfo=UTC), minutes=60,
                     reinvested="learning")
        seed_win(s, owners=[ALICE], author=BOB, created_at=datetime(2026, 11, 18, 12, tzinfo=UTC), minutes=30)


def deliveries(db):
    with db.read(TEAM) as s:
        return sorted((d.channel_id, d.period, d.status) for d in s.scalars(select(Delivery)))


@pytest.mark.usefixtures("cli_env")
def test_report_is_sent_once_per_recipient_with_its_chart(server, fake_slack, db, workspace, capsys):
    notify = server.runtime.worker.notify
    # 1 December 05:00 UTC: due in Tokyo (since 00:00 UTC), not yet in New York.
    assert len(report_job.run_tick(db, now=datetime(2026, 12, 1, 5, tzinfo=UTC), notify=notify)) == 1
    dm = fake_slack.dm_channel_id(DAVE)
    [post] = fake_slack.wait_for("chat.postMessage", channel=dm, timeout=60)
    [image] = [b for b in post.params["blocks"] if b["type"] == "image"]
    [upload] = fake_slack.uploads()
    assert upload["file_id"] == image["slack_file"]["id"] and upload["content"].startswith(b"\x89PNG")
    assert upload["channel_id"] is None  # kept private: shared into the DM, it would be a message of its own
    assert_one_message_shows_the_chart(fake_slack, DAVE)
    text = all_text(post.params["blocks"])
    assert "November 2026" in text and "Against October 2026" in text
    assert "Three things to do this month" in text and text.count("\n1. ") + text.count("*\n1. ") >= 1
    assert "Active members, last 12 weeks" in text  # the text trend stays as the chart's caption

    # The same tick again, later the same day, and New York's turn: one more, for the admin only.
    assert report_job.run_tick(db, now=datetime(2026, 12, 1, 6, tzinfo=UTC), notify=notify) == []
    assert len(report_job.run_tick(db, now=datetime(2026, 12, 1, 14, 1, tzinfo=UTC), notify=notify)) == 1
    fake_slack.wait_for("chat.postMessage", channel=fake_slack.dm_channel_id(ADMIN), timeout=60)
    wait_until(lambda: [d[2] for d in deliveries(db)] == ["posted", "posted"], timeout=30)
    assert deliveries(db) == sorted([(ADMIN, "2026-11", "posted"), (DAVE, "2026-11", "posted")])

    # An operator's --post for the same month sends nothing again.
    from bot.cli import main

    assert main(["report", "--team", TEAM, "--month", "2026-11", "--post"]) == 0
    out = capsys.readouterr().out
    assert "Monthly leadership report" in out and out.count("already sent") == 2
    assert len(fake_slack.calls("chat.postMessage")) == 2


def chart_appearances(message: dict) -> int:
    """How many times a message shows a file: as a file share, or as an image block naming one."""
    images = [b for b in message.get("blocks") or [] if b.get("type") == "image" and b.get("slack_file")]
    return len(message.get("files") or []) + len(images)


def assert_one_message_shows_the_chart(fake_slack, user: str) -> None:
    """The recipient's DM holds the report, once, and the chart in it, once."""
    messages = fake_slack.messages(user)
    assert len(messages) == 1, [m.get("text") for m in messages]
    assert chart_appearances(messages[0]) == 1
    assert "Three things to do this month" in all_text(messages[0]["blocks"])


def test_a_retried_post_shows_the_same_chart_once(server, fake_slack, db, workspace):
    # Slack answers the first chat.postMessage with an error the worker retries (with backoff).
    fake_slack.fail("chat.postMessage", error="internal_error")
    report_job.run_tick(db, now=datetime(2026, 12, 1, 5, tzinfo=UTC), notify=server.runtime.worker.notify)
    wait_until(lambda: [d[2] for d in deliveries(db)] == ["posted"], timeout=60)
    posts = fake_slack.calls("chat.postMessage")
    assert [p.ok for p in posts] == [False, True]
    assert len(fake_slack.uploads()) == 1  # the retry reused the upload
    assert_one_message_shows_the_chart(fake_slack, DAVE)


def test_the_chart_is_shown_once_slack_has_processed_it(server, fake_slack, db, workspace):
    # Slack takes a moment to process an upload; an image block naming it is refused until then.
    fake_slack.file_processing(1.5)
    report_job.run_tick(db, now=datetime(2026, 12, 1, 5, tzinfo=UTC), notify=server.runtime.worker.notify)
    wait_until(lambda: [d[2] for d in deliveries(db)] == ["posted"], timeout=60)
    refused, *_, posted = fake_slack.calls("chat.postMessage")
    assert "invalid slack file" in str(refused.response.get("errors")) and posted.ok
    assert len(fake_slack.uploads()) == 1
    assert_one_message_shows_the_chart(fake_slack, DAVE)


def test_text_trend_when_the_upload_fails(server, fake_slack, db, workspace):
    fake_slack.fail("files.getUploadURLExternal", error="internal_error", times=None)
    report_job.run_tick(db, now=datetime(2026, 12, 1, 5, tzinfo=UTC), notify=server.runtime.worker.notify)
    [post] = fake_slack.wait_for("chat.postMessage", channel=fake_slack.dm_channel_id(DAVE), timeout=60)
    assert not [b for b in post.params["blocks"] if b["type"] == "image"]
    assert "Active members, last 12 weeks" in all_text(post.params["blocks"])


def test_missed_past_the_grace_window_is_skipped_once(db, workspace):
    # 3 December 12:00 UTC: 60 h after Tokyo's due time and 46 h after New York's.
    assert report_job.run_tick(db, now=datetime(2026, 12, 3, 12, tzinfo=UTC)) == []
    assert deliveries(db) == sorted([(ADMIN, "2026-11", "skipped"), (DAVE, "2026-11", "skipped")])
    # Within the grace window (2 December 10:00 UTC) both would have been claimed.
    with db.session(TEAM) as s:
        s.execute(Delivery.__table__.delete())
    assert len(report_job.run_tick(db, now=datetime(2026, 12, 2, 10, tzinfo=UTC))) == 2


def test_sandbox_shares_files_and_refuses_a_slack_file_as_slack_does(fake_slack):
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(token=fake_slack.token, base_url=fake_slack.api_url)
    dm = client.conversations_open(users=BOB)["channel"]["id"]

    def image(ref):
        return [{"type": "image", "slack_file": ref, "alt_text": "chart"}]

    def refusal(blocks):
        with pytest.raises(SlackApiError) as e:
            client.chat_postMessage(channel=dm, text="x", blocks=blocks)
        return str(e.value.response["errors"])

    # With a channel, completeUploadExternal posts the file into it as a message of its own.
    shared = client.files_upload_v2(content=b"\x89PNG", filename="a.png", channel=dm, initial_comment="here")
    [share] = fake_slack.messages(BOB)
    assert share["files"][0]["id"] == shared["files"][0]["id"] and share["text"] == "here"

    # Without one, the file stays private: no message, but the app that uploaded it may show it.
    fake_slack.file_processing(30)
    private = client.files_upload_v2(content=b"\x89PNG", filename="b.png")["files"][0]
    assert len(fake_slack.messages(BOB)) == 1
    assert "invalid slack file" in refusal(image({"id": private["id"]}))  # Slack is still processing it
    fake_slack.file_processing(0)
    ready = client.files_upload_v2(content=b"\x89PNG", filename="c.png")["files"][0]
    client.chat_postMessage(channel=dm, text="chart", blocks=image({"id": ready["id"]}))
    client.chat_postMessage(channel=dm, text="chart", blocks=image({"url": ready["url_private"]}))

    # Refused: an unknown file, id and url together, a file that is not an image, another app's file.
    assert "invalid slack file" in refusal(image({"id": "F0NOSUCHFILE"}))
    assert "invalid slack file" in refusal(image({"id": ready["id"], "url": ready["url_private"]}))
    text = client.files_upload_v2(content=b"a,b", filename="d.csv")["files"][0]
    assert "invalid slack file" in refusal(image({"id": text["id"]}))
    fake_slack.add_token("xoxb-other-app", TEAM, bot_user_id="U0OTHERBOT", bot_id="B0OTHERBOT")
    other = WebClient(token="xoxb-other-app", base_url=fake_slack.api_url)
    theirs = other.files_upload_v2(content=b"\x89PNG", filename="e.png")["files"][0]
    assert "invalid slack file" in refusal(image({"id": theirs["id"]}))


@pytest.mark.usefixtures("cli_env")
def test_print_without_post_sends_nothing(fake_slack, db, workspace, capsys):
    from bot.cli import main

    assert main(["report", "--team", TEAM, "--month", "2026-11"]) == 0
    out = capsys.readouterr().out
    assert "November 2026" in out and "recipients: 2 managers and admins" in out
    assert main(["report", "--team", TEAM, "--month", "11/2026"]) == 2
    assert fake_slack.calls("chat.postMessage") == []


def test_three_actions_follow_from_the_figures(db, workspace):
    from bot.services.report import build_report

    with db.read(TEAM) as s:
        r = build_report(s, TEAM, "2026-11", now=datetime(2026, 12, 1, tzinfo=UTC))
    assert len(r.actions) == 3
    assert r.figures.leaders.of == 2 and r.figures.leaders.count == 0
    assert "managers shared a narrative" in r.actions[0]  # nobody modeled it: the first thing to fix
    assert suggest(r.figures, r.previous, ()) == r.actions


def test_someone_taken_out_of_the_managers_group_is_not_sent_the_report(server, fake_slack, db, workspace):
    """The tick picks recipients from copies (the group's members may be 5 minutes old); the post asks
    Slack afresh, so a person removed from the managers group in between gets no manager-only figures."""
    lead = "U0LEAD00001"
    fake_slack.add_user(lead, "lena", tz=TOKYO)
    fake_slack.add_usergroup("S0LEADS001", [])  # lena was in @team-leads; an admin just took her out
    with db.session(TEAM) as s:
        s.get(Workspace, TEAM).managers_usergroup_id = "S0LEADS001"
        s.add(Member(team_id=TEAM, user_id=lead, name="lena", tz=TOKYO, fetched_at=datetime(2026, 11, 30, tzinfo=UTC)))
    claimed = report_job.run_tick(db, now=datetime(2026, 12, 1, 5, tzinfo=UTC), notify=server.runtime.worker.notify,
                                  group_members=lambda team, enterprise: frozenset({lead}))  # the stale copy
    assert len(claimed) == 2  # dave (listed) and lena, both due in Tokyo
    wait_until(lambda: sorted(d[2] for d in deliveries(db)) == ["posted", "skipped"], timeout=60)
    assert deliveries(db) == sorted([(DAVE, "2026-11", "posted"), (lead, "2026-11", "skipped")])
    assert fake_slack.calls("chat.postMessage", channel=fake_slack.dm_channel_id(lead)) == []
    assert fake_slack.calls("usergroups.users.list", usergroup="S0LEADS001")  # asked, not taken from the tick
