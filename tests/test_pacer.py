"""ChannelPacer: posting slots per channel, about one message a second each. Pure bookkeeping on the
clock it is given, so the tests hand it the times."""

from __future__ import annotations

import threading

from bot.jobs.worker import ChannelPacer


def test_first_post_to_a_channel_goes_now_and_the_next_waits_its_slot():
    pacer = ChannelPacer(interval=1.0)
    assert pacer.reserve("T1:C1", job_id=1, now=100.0) == 0.0
    assert pacer.reserve("T1:C1", job_id=2, now=100.0) == 1.0
    assert pacer.reserve("T1:C1", job_id=3, now=100.25) == 1.75  # slot 102.0, booked behind job 2


def test_channels_are_paced_apart():
    pacer = ChannelPacer(interval=1.0)
    assert pacer.reserve("T1:C1", job_id=1, now=10.0) == 0.0
    assert pacer.reserve("T1:C2", job_id=2, now=10.0) == 0.0
    assert pacer.reserve("T2:C1", job_id=3, now=10.0) == 0.0  # same channel id, another workspace
    assert pacer.reserve("T1:C1", job_id=4, now=10.0) == 1.0


def test_a_job_coming_back_at_its_booked_slot_goes_straight_through_without_booking_again():
    pacer = ChannelPacer(interval=1.0)
    pacer.reserve("T1:C1", job_id=1, now=0.0)
    assert pacer.reserve("T1:C1", job_id=2, now=0.0) == 1.0
    assert pacer.reserve("T1:C1", job_id=2, now=1.0) == 0.0  # back on time: its slot is kept
    assert pacer.reserve("T1:C1", job_id=3, now=1.0) == 1.0  # the next slot is 2.0, not 3.0


def test_a_job_coming_back_early_waits_for_a_new_slot():
    pacer = ChannelPacer(interval=1.0)
    pacer.reserve("T1:C1", job_id=1, now=0.0)
    assert pacer.reserve("T1:C1", job_id=2, now=0.0) == 1.0
    # Back long before its slot (the worker restarted its delay): it books again, behind the slots taken.
    assert pacer.reserve("T1:C1", job_id=2, now=0.5) == 1.5


def test_an_idle_channel_posts_at_once_again():
    pacer = ChannelPacer(interval=1.0)
    for job in range(5):
        pacer.reserve("T1:C1", job_id=job, now=0.0)  # slots 0..4
    assert pacer.reserve("T1:C1", job_id=9, now=60.0) == 0.0


def test_the_interval_is_the_pace():
    pacer = ChannelPacer(interval=0.25)
    waits = [pacer.reserve("T1:C1", job_id=j, now=0.0) for j in range(4)]
    assert waits == [0.0, 0.25, 0.5, 0.75]


def test_many_idle_channels_are_forgotten_and_busy_ones_kept():
    pacer = ChannelPacer(interval=1.0)
    for i in range(50_001):
        pacer.reserve(f"T1:C{i}", job_id=i, now=0.0)
    # The next booking prunes every channel whose slot has passed; a channel still busy keeps its pace.
    assert pacer.reserve("T1:BUSY", job_id=100_000, now=5.0) == 0.0
    assert pacer.reserve("T1:BUSY", job_id=100_001, now=5.0) == 1.0
    assert pacer.reserve("T1:BUSY", job_id=100_002, now=5.0) == 2.0
    assert len(pacer._next) < 10


def test_threads_booking_one_channel_get_distinct_slots():
    pacer = ChannelPacer(interval=1.0)
    waits: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def book(first: int) -> None:
        start.wait()
        for j in range(first, first + 25):
            w = pacer.reserve("T1:C1", job_id=j, now=0.0)
            with lock:
                waits.append(w)

    threads = [threading.Thread(target=book, args=(i * 100,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(waits) == [float(i) for i in range(200)]
