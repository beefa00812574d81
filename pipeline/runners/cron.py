"""5-field cron expressions (minute hour day-of-month month day-of-week), no dependency.

`CronSchedule.parse("*/15 2-5 * * 1-5").next_after(moment)` is the next matching
minute. Supports `*`, numbers, ranges `a-b`, lists `a,b`, steps `*/n`, `a-b/n`
and `a/n`; day of week 0-7 (0 and 7 are Sunday); when both day of month and day
of week are restricted, a day matches if either does (as Vixie cron and cronie).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

# (name, lowest, highest) of the five cron fields, in order.
_CRON_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)
# Month lengths in a leap year: a day of month beyond these never comes.
_LONGEST_MONTHS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclasses.dataclass(frozen=True)
class CronSchedule:
    """A 5-field cron schedule (minute hour day-of-month month day-of-week); see `parse`."""

    expression: str
    minutes: frozenset[int] = dataclasses.field(repr=False)
    hours: frozenset[int] = dataclasses.field(repr=False)
    days_of_month: frozenset[int] = dataclasses.field(repr=False)
    months: frozenset[int] = dataclasses.field(repr=False)
    days_of_week: frozenset[int] = dataclasses.field(repr=False)  # 0-6, 0 is Sunday
    # True when both day fields are restricted: a day then matches if either field does.
    either_day_field: bool = dataclasses.field(repr=False)

    @classmethod
    def parse(cls, expression: str) -> CronSchedule:
        """Parses a cron expression such as "*/15 2-5 * * 1-5".

        A field is `*`, a number, a range `a-b`, a step `*/n` or `a-b/n` (`a/n` runs from a to
        the end of the field), or a comma-separated list of these. In the day-of-week field
        both 0 and 7 are Sunday. When neither day field starts with `*`, a day matches if its
        day of month OR its day of week does; otherwise both must match. This is what Vixie
        cron and cronie do, so `0 0 */2 * 1` means odd-numbered Mondays.

        Args:
          expression: five fields separated by whitespace.

        Returns:
          The schedule.

        Raises:
          ValueError: there are not five fields, a field is malformed or out of its range
            (the message names the field and the allowed values), or the expression asks for
            a day that never comes, such as February 30.
        """
        fields = expression.split()
        if len(fields) != 5:
            raise ValueError(
                f"cron expression {expression!r} has {len(fields)} fields; expected 5: "
                "minute hour day-of-month month day-of-week (e.g. '0 2 * * 1-5')"
            )
        minutes, hours, days, months, weekdays = (
            _parse_field(text, position, *spec)
            for position, (text, spec) in enumerate(zip(fields, _CRON_FIELDS, strict=True), start=1)
        )
        any_day_of_month, any_day_of_week = fields[2].startswith("*"), fields[4].startswith("*")
        # Unless the day of week widens it (OR), the day of month must exist in some month.
        if any_day_of_week and not any(min(days) <= _LONGEST_MONTHS[m - 1] for m in months):
            raise ValueError(
                f"cron expression {expression!r} never runs: no month in {fields[3]!r} has a "
                f"day {min(days)}"
            )
        return cls(
            expression=expression,
            minutes=minutes,
            hours=hours,
            days_of_month=days,
            months=months,
            days_of_week=frozenset(day % 7 for day in weekdays),
            either_day_field=not any_day_of_month and not any_day_of_week,
        )

    def next_after(self, moment: datetime) -> datetime:
        """The first matching minute strictly after `moment`.

        Args:
          moment: any time; its tzinfo is kept.

        Returns:
          The next due time, seconds and microseconds zero.
        """
        # Skip whole months, days and hours that cannot match, then walk minutes. `parse`
        # rejects expressions that never match, so this ends within a few years of `moment`.
        t = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        while True:
            if t.month not in self.months:
                year, month = t.year + t.month // 12, t.month % 12 + 1
                t = t.replace(year=year, month=month, day=1, hour=0, minute=0)
            elif not self._day_matches(t):
                t = (t + timedelta(days=1)).replace(hour=0, minute=0)
            elif t.hour not in self.hours:
                t = (t + timedelta(hours=1)).replace(minute=0)
            elif t.minute not in self.minutes:
                t += timedelta(minutes=1)
            else:
                return t

    def _day_matches(self, day: datetime) -> bool:
        in_month = day.day in self.days_of_month
        in_week = day.isoweekday() % 7 in self.days_of_week  # isoweekday's Sunday is 7
        return (in_month or in_week) if self.either_day_field else (in_month and in_week)


def _parse_field(text: str, position: int, name: str, low: int, high: int) -> frozenset[int]:
    """The values one cron field allows; errors name the field and its allowed range."""

    def invalid(problem: str) -> ValueError:
        return ValueError(f"cron field {position} ({name}) {text!r}: {problem}")

    values: set[int] = set()
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        step = _whole_number(step_text) if slash else 1
        if not step:
            raise invalid("a step must be a positive whole number, as in */15")
        if base == "*":
            start, end = low, high
        else:
            first, dash, last = base.partition("-")
            start = _whole_number(first)
            end = _whole_number(last) if dash else (high if slash else start)
            if start is None or end is None:
                raise invalid(
                    "expected a number, '*', a range 'a-b', a step '/n' or a list 'a,b' "
                    "(names such as MON or JAN are not supported)"
                )
            if not (low <= start <= high and low <= end <= high):
                raise invalid(f"values must be in {low}-{high}")
            if start > end:
                raise invalid(f"a range goes from low to high: {end}-{start}, not {start}-{end}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _whole_number(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() else None
