"""Cron expressions for `deepline schedule` and the Airflow DAG, read by `croniter`.

`CronSchedule.parse("*/15 2-5 * * 1-5").next_after(moment)` is the next matching minute.
The library is croniter, the one Airflow itself reads schedules with, so an expression means the
same thing on `deepline schedule` and on a DAG written by `deepline compile --target airflow`:
five fields (minute hour day-of-month month day-of-week), `*`, numbers, names (`MON`, `JAN`),
ranges (`a-b`, and `22-2` wrapping around), lists, steps (`*/n`, `a-b/n`, `a/n`), day of week 0-7
(0 and 7 are Sunday), and the aliases `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`.
When both day fields are restricted, a day matches if either does, as in croniter (and so in
Airflow): `0 0 */2 * 1` runs on odd days and on Mondays, where Vixie cron would ask for both
because the day of month starts with `*`.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from croniter import CroniterBadDateError, CroniterError, croniter

_FIELDS = "minute hour day-of-month month day-of-week"
_EXAMPLE = "'0 2 * * 1-5' (02:00 on weekdays)"


@dataclasses.dataclass(frozen=True)
class CronSchedule:
    """A 5-field cron schedule, or a croniter alias such as `@daily`; see `parse`."""

    expression: str

    @classmethod
    def parse(cls, expression: str) -> CronSchedule:
        """Checks a cron expression such as "*/15 2-5 * * 1-5" and returns its schedule.

        Args:
          expression: five fields separated by whitespace, or an alias such as "@daily".

        Returns:
          The schedule.

        Raises:
          ValueError: not five fields (croniter would read a sixth as seconds: refused, since
            neither `deepline schedule` nor Airflow runs more than once a minute), a field
            croniter refuses (its reason is quoted), or a day that never comes (February 30).
        """
        expression = " ".join(expression.split())
        fields = expression.split(" ")
        if not expression.startswith("@") and len(fields) != 5:
            raise ValueError(
                f"cron expression {expression!r} has {len(fields)} fields; expected 5: "
                f"{_FIELDS} (e.g. {_EXAMPLE})"
            )
        try:
            # The first run after some moment: croniter checks the fields when it is built, and
            # searches (a few years at most) when a day never comes.
            croniter(expression, datetime(2000, 1, 1)).get_next(datetime)
        except CroniterBadDateError:
            raise ValueError(
                f"cron expression {expression!r} never runs: no month has the day it asks for"
            ) from None
        except CroniterError as error:  # also croniter's other ValueErrors
            raise ValueError(
                f"cron expression {expression!r} is not valid ({error}); give five fields: "
                f"{_FIELDS}, e.g. {_EXAMPLE}"
            ) from None
        return cls(expression)

    def next_after(self, moment: datetime) -> datetime:
        """The first matching minute strictly after `moment`.

        Args:
          moment: any time; its tzinfo is kept.

        Returns:
          The next due time, seconds and microseconds zero.
        """
        return croniter(self.expression, moment).get_next(datetime)
