"""One today (issue 24, item 1): the sandbox's demo data is dated around its fixed day, and everything a person
reads — runs, the log, the start-date check, "Dagen te laat" — is on that same calendar, whatever the real date."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from console import runtime
from sync.cli import EXIT_OK, main
from sync.core.clock import ShiftedClock, moment, on_clock
from sync.core.dates import AMSTERDAM
from sync.sandbox.sandbox import calendar_clock
from sync.sandbox.world import World
from tests.clocks import HandClock
from tests.console_helpers import page

DAY = 86400.0


def test_the_sandbox_calendar_starts_on_its_own_today_and_moves_on_a_day_a_day_across_restarts(world, tmp_path):
    path = tmp_path / "sandbox-state.json"
    real = HandClock(datetime(2027, 3, 5, 9, 30, tzinfo=AMSTERDAM).timestamp())  # any real day, far from the demo's
    clock = calendar_clock(world, path, real)
    assert moment(clock) == datetime(2026, 11, 28, 12, 0, tzinfo=AMSTERDAM)  # noon on its own day
    real.now += DAY
    assert moment(clock) == datetime(2026, 11, 29, 12, 0, tzinfo=AMSTERDAM)

    # Opened again five real days after it was first opened: the calendar went on, it did not start over.
    reopened = World.load(path)
    real.now += 4 * DAY
    assert moment(calendar_clock(reopened, path, real)).date() == date(2026, 12, 3)
    assert reopened.today == date(2026, 11, 28)  # the demo data's own day is unchanged


def test_a_new_world_starts_its_calendar_again_on_its_today(world, tmp_path):
    real = HandClock(datetime(2027, 3, 5, 9, 30, tzinfo=AMSTERDAM).timestamp())
    calendar_clock(world, tmp_path / "state.json", real)
    fresh = World(today=world.today)  # reset-sandbox seeds a world that has not been opened yet
    real.now += 30 * DAY
    assert moment(calendar_clock(fresh, None, real)).date() == world.today


def test_a_run_is_stamped_on_the_day_the_commands_call_today(cli_env, capsys):
    """Before: a run was stamped with the real date while the checks and the comparison used the sandbox's."""
    assert main(["run", "--identity", "2"]) == EXIT_OK
    err = capsys.readouterr().err
    assert "hier is het 28-11-2026" in err  # the banner names the sandbox's day
    assert main(["status"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Laatste synchronisatie: 28-11-2026" in out
    assert main(["--lang", "en", "status"]) == EXIT_OK
    assert "its date is 28/11/2026" in capsys.readouterr().err


def test_the_consoles_sidebar_names_the_sandboxs_day_and_its_next_run_is_on_that_calendar(console):
    at = page("overzicht")
    sidebar = " ".join(str(m.value) for m in at.sidebar.markdown)
    assert "hier is het 28-11-2026" in sidebar
    assert console.today() == date(2026, 11, 28) == console.now().date()
    scheduler = runtime.scheduler()
    assert scheduler is not None
    next_run = scheduler.next_run(2)  # APScheduler plans on the real clock; the page says it on the sandbox's
    assert next_run is not None and timedelta(0) < next_run - console.now() <= timedelta(hours=1)


def test_a_moment_planned_on_the_system_clock_reads_on_a_shifted_clock_by_its_shift():
    planned = datetime(2027, 3, 5, 9, 30, tzinfo=AMSTERDAM)
    assert on_clock(ShiftedClock(-2 * DAY), planned) == planned - timedelta(days=2)
    assert on_clock(HandClock(), planned) == planned  # any other clock is the system's own calendar
