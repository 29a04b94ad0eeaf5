"""Exports: `/aiwin export` (admins) and `export mine` by DM through Slack's file upload, and
`aiwins export` on the shell. Each test that takes `db` runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import argparse
import csv
import io
import re
import tempfile
import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from bot.cli.export import cli_export
from bot.models import TB_ACCEPTED, Member, Narrative, TeachBack, Win, WinOwner, Workspace
from bot.services.export import WIN_COLUMNS, guard, unguard, write_export, write_wins
from bot.services.wintext import readable_text
from bot.settings import Settings
from tests.conftest import ALICE, BOB, CAROL, CHANNEL, DAVE, TEAM
from tests.helpers import all_text, wait_until, wins
from tests.test_stats import OTHER_TEAM, seed_win

pytestmark = pytest.mark.dates  # .ci/run runs these again with the clock moved ahead

ADMIN = "U0ADMIN0001"


@pytest.fixture
def admin(fake_slack):
    fake_slack.add_user(ADMIN, "ada", is_admin=True)
    return ADMIN


def read_csv(content: bytes | str) -> list[dict[str, str]]:
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    return list(csv.DictReader(io.StringIO(text)))


def expected_rows(db, team=TEAM, only=None):
    """What the wins CSV must say, from the database (the round trip's other side)."""
    rows = []
    for w in wins(db, team):
        if only and only not in (w.author_id, *w.owner_ids):
            continue
        rows.append({"id": str(w.id), "created_at": guard(w.created_at), "author_id": w.author_id,
                     "owner_ids": " ".join(w.owner_ids), "channel_id": w.channel_id or "",
                     "text": readable_text(w.text, w.text_format),
                     "tool": w.tool or "", "minutes_saved": str(w.minutes_saved or ""),
                     "reinvested_in": w.reinvested_in or "", "tags": w.tags,
                     "message_ts": w.message_ts or "",
                     "text_slack_format": w.text if w.text_format == "wire" else ""})
    return rows


def round_trip(rows):
    return [dict(r, text=unguard(r["text"]), tool=unguard(r["tool"]), text_slack_format=unguard(r["text_slack_format"]))
            for r in rows]


def seed_world(slack, db):
    slack.command("/aiwin", "<@U02ABCDEF|alice> &amp; <@U03GHIJKL|carol> built the deck with Claude, "
                            "saved 90m #sales", user_id=BOB)
    slack.command("/aiwin", '=HYPERLINK("http://evil.example","click") saved 1h with ChatGPT', user_id=DAVE)
    slack.command("/aiwin", "-2 bugs, \"quoted\", commas, and\nnew lines 😀 saved 20m", user_id=CAROL)
    # Recorded and celebrated before anything is exported: a win's message_ts is in the CSV, so an export
    # racing a post would read whichever came first.
    wait_until(lambda: len(wins(db, TEAM)) == 3 and all(w.message_ts for w in wins(db, TEAM)), timeout=15,
               message="the three wins recorded and celebrated")
    with db.session(TEAM) as s:
        s.add(Narrative(team_id=TEAM, author_id=CAROL, text="@step one, then two", is_leader=True,
                        tools="Claude", minutes_saved=30))
        s.add(Narrative(team_id=TEAM, author_id=BOB, text="bob's story"))
        win_id = s.scalars(select(Win.id).order_by(Win.id)).first()
        s.add(TeachBack(team_id=TEAM, win_id=win_id, owner_id=CAROL, status=TB_ACCEPTED,
                        first_manager_id=ADMIN))
    with db.session(OTHER_TEAM) as s:
        s.add(Workspace(team_id=OTHER_TEAM))
        seed_win(s, owners=[CAROL], team=OTHER_TEAM, created_at=datetime.now(UTC), minutes=5, text="secret")
        s.add(Narrative(team_id=OTHER_TEAM, author_id=CAROL, text="other workspace story"))


def exported(fake_slack, user, count=3):
    fake_slack.wait_for("files.completeUploadExternal", timeout=15)
    dm = fake_slack.dm_channel_id(user)
    uploads = wait_until(lambda: [u for u in fake_slack.uploads() if u["channel_id"] == dm])
    assert len(uploads) == count
    return {re.search(r"-(wins|narratives|teachbacks)-\d{4}-", u["filename"]).group(1): u for u in uploads}


def test_admin_export_round_trips(slack, fake_slack, db, admin):
    seed_world(slack, db)
    r = slack.command("/aiwin", "export", user_id=ADMIN, response_url=fake_slack.webhook_url("export"))
    assert r.status == 200 and not r.body.strip()  # the admin check happens after the ack
    files = exported(fake_slack, ADMIN)
    assert set(files) == {"wins", "narratives", "teachbacks"}
    assert "Here's the export" in files["wins"]["initial_comment"]

    rows = read_csv(files["wins"]["content"])
    assert list(rows[0]) == list(WIN_COLUMNS)
    assert round_trip(rows) == expected_rows(db)  # the other workspace's win is not there
    by_author = {r["author_id"]: r for r in rows}
    assert by_author[BOB]["owner_ids"] == f"{ALICE} {CAROL}" and by_author[BOB]["tags"] == "sales"
    assert by_author[BOB]["text"] == "'@alice & @carol built the deck with Claude, saved 90m #sales"
    assert by_author[BOB]["text_slack_format"].startswith("<@U02ABCDEF|alice> &amp; <@U03GHIJKL|carol>")
    assert by_author[DAVE]["text"].startswith("'=HYPERLINK")  # a formula would not run in a spreadsheet
    assert by_author[CAROL]["text"].startswith("'-2 bugs") and "\n" in by_author[CAROL]["text"]
    assert datetime.fromisoformat(rows[0]["created_at"].replace("Z", "+00:00")).tzinfo is not None

    narratives = read_csv(files["narratives"]["content"])
    assert sorted(n["text"] for n in narratives) == ["'@step one, then two", "bob's story"]
    [tb] = read_csv(files["teachbacks"]["content"])
    assert (tb["owner_id"], tb["status"]) == (CAROL, TB_ACCEPTED)


def test_non_admin_cannot_export_the_workspace(slack, fake_slack, db):
    seed_world(slack, db)
    slack.command("/aiwin", "export", user_id=BOB, response_url=fake_slack.webhook_url("export"))
    [reply] = wait_until(lambda: fake_slack.calls("response_url"))
    assert "Only workspace admins and owners can export" in all_text(reply.params)
    assert "/aiwin export mine" in all_text(reply.params)
    assert fake_slack.uploads() == [] and fake_slack.calls("files.getUploadURLExternal") == []


def test_anyone_exports_their_own_data(slack, fake_slack, db):
    seed_world(slack, db)
    r = slack.command("/aiwin", "export mine", user_id=CAROL)
    assert "Preparing CSV files of your own data" in all_text(r.json())
    files = exported(fake_slack, CAROL)
    rows = read_csv(files["wins"]["content"])
    assert round_trip(rows) == expected_rows(db, only=CAROL)  # her own win and bob's shout-out to her
    assert len(rows) == 2 and "secret" not in files["wins"]["content"].decode()
    assert [n["text"] for n in read_csv(files["narratives"]["content"])] == ["'@step one, then two"]
    assert len(read_csv(files["teachbacks"]["content"])) == 1


def test_a_rejected_upload_is_explained(slack, fake_slack, db, admin):
    seed_world(slack, db)
    fake_slack.fail("files.completeUploadExternal", error="file_upload_rejected", times=None)
    slack.command("/aiwin", "export", user_id=ADMIN, response_url=fake_slack.webhook_url("export"))
    [dm] = fake_slack.wait_for("chat.postMessage", channel=ADMIN, timeout=15)
    assert "Slack refused the file upload (`file_upload_rejected`)" in dm.params["text"]
    assert fake_slack.uploads() == []
    assert len(fake_slack.calls("files.completeUploadExternal")) == 1  # not retried: it would fail again
    assert len(wins(db, TEAM)) == 3


@pytest.mark.parametrize("text", ["export everything", "export all of it"])
def test_bad_export_arguments_get_an_example(slack, fake_slack, db, text):
    assert "/aiwin export mine" in all_text(slack.command("/aiwin", text, user_id=BOB).json())


# -- the shell ---------------------------------------------------------------------------------------------


def test_cli_export_streams_the_workspace(db, db_url, capsys):
    with db.session(TEAM) as s:
        s.add(Workspace(team_id=TEAM))
        old = seed_win(s, owners=[BOB], created_at=datetime(2026, 1, 10, 9, tzinfo=UTC), text="old one")
        new = seed_win(s, owners=[ALICE, BOB], author=CAROL, created_at=datetime(2026, 2, 1, 9, tzinfo=UTC),
                       minutes=45, tool="Claude", reinvested="learning", text="+new one")
    with db.session(OTHER_TEAM) as s:
        seed_win(s, owners=[BOB], team=OTHER_TEAM, created_at=datetime(2026, 2, 1, tzinfo=UTC))
    settings = Settings(database_url=db_url)

    assert cli_export(argparse.Namespace(team=TEAM, since=None), settings) == 0
    rows = read_csv(capsys.readouterr().out)
    assert [r["id"] for r in rows] == [str(old), str(new)]
    assert rows[1] == {"id": str(new), "created_at": "2026-02-01T09:00:00Z", "author_id": CAROL,
                       "owner_ids": f"{ALICE} {BOB}", "channel_id": CHANNEL, "text": "'+new one",
                       "tool": "Claude", "minutes_saved": "45", "reinvested_in": "learning", "tags": "",
                       "message_ts": "", "text_slack_format": "'+new one"}

    assert cli_export(argparse.Namespace(team=TEAM, since="2026-01-31"), settings) == 0
    assert [r["id"] for r in read_csv(capsys.readouterr().out)] == [str(new)]


def test_export_text_reads_like_the_app(db, db_url, capsys):
    """The `text` column is what a person wrote; Slack's wire form is only in `text_slack_format`."""
    wire = ("<@U02ABCDEF|alice> &amp; <@U03GHIJKL> cut &lt;draft&gt; time <!channel> "
            "<https://docs.example/x?a=1&amp;b=2|the doc> <https://plain.example> <@U0NOBODY01>")
    with db.session(TEAM) as s:
        s.add(Workspace(team_id=TEAM))
        s.add(Member(team_id=TEAM, user_id=CAROL, name="Carol D", fetched_at=datetime.now(UTC)))
        seed_win(s, owners=[ALICE, CAROL], created_at=datetime(2026, 2, 1, tzinfo=UTC), text=wire)
        s.add(Narrative(team_id=TEAM, author_id=BOB, text="with <@U03GHIJKL|carol> &amp; co"))
    assert cli_export(argparse.Namespace(team=TEAM, since=None), Settings(database_url=db_url)) == 0
    [row] = read_csv(capsys.readouterr().out)
    assert unguard(row["text"]) == ("@alice & @Carol D cut <draft> time @channel "
                                    "the doc (https://docs.example/x?a=1&b=2) https://plain.example @U0NOBODY01")
    assert row["text"].startswith("'@alice")  # the formula guard still applies to the readable text
    assert row["text_slack_format"] == wire
    with db.read(TEAM) as s, tempfile.TemporaryDirectory() as directory:
        files = {f.label: f for f in write_export(s, TEAM, directory)}
        with open(files["usage narratives"].path, encoding="utf-8") as f:
            [story] = read_csv(f.read())
    assert story["text"] == "with @Carol D & co"


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01", "31/01/2026"])
def test_cli_bad_since_is_one_clear_line(db_url, capsys, since):
    assert cli_export(argparse.Namespace(team=TEAM, since=since), Settings(database_url=db_url)) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err.count("\n") == 1 and "--since must be a date like 2026-01-31" in out.err


def test_cli_through_main(db_url, capsys, monkeypatch, tmp_path):
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["export", "--team", TEAM, "--since", "nope"]) == 2
    assert main(["export", "--team", "T0NOBODY001"]) == 0
    out = capsys.readouterr()
    assert out.out.strip() == ",".join(WIN_COLUMNS) and "no wins for team 'T0NOBODY001'" in out.err


def test_export_memory_stays_flat(db):
    """30,000 wins of ~500 characters (a 16 MB CSV) go through with a small, bounded peak."""
    n, text = 30_000, "x" * 500
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with db.session(TEAM) as s:
        s.add(Workspace(team_id=TEAM))
        s.flush()
        s.execute(insert(Win), [
            {"id": i, "team_id": TEAM, "author_id": BOB, "text": text, "text_format": "wire", "tags": "",
             "source": "command", "post_status": "none", "created_at": start + timedelta(minutes=i),
             "updated_at": start} for i in range(1, n + 1)])
        s.execute(insert(WinOwner), [
            {"win_id": i, "team_id": TEAM, "user_id": BOB, "position": 0,
             "created_at": start + timedelta(minutes=i)} for i in range(1, n + 1)])

    class Sink(io.TextIOBase):
        size = 0

        def write(self, chunk: str) -> int:
            self.size += len(chunk)
            return len(chunk)

    sink = Sink()
    tracemalloc.start()
    try:
        with db.read(TEAM) as s:
            assert write_wins(s, sink, TEAM) == n
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sink.size > 15_000_000
    assert peak < 6_000_000, f"peak {peak:,} bytes for a {sink.size:,}-byte export"
