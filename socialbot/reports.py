"""The figures of ``socialbot report``: plain numbers over plain case facts, no database.

The store turns its rows into :class:`CaseFacts` (one per case) and :class:`ReportFacts` (one per
resident's report: the post that opened a case and every later post linked to it as a
duplicate); everything here is a pure function of those, a window and the clock, so every figure
can be checked by hand on a dozen cases (``tests/test_reports.py`` does).

Definitions, the same in every function:

- **The window** is ``[since, until)``: ``since`` included, ``until`` excluded, both UTC-aware.
  An ``until`` later than ``now`` is cut to ``now`` (nothing has happened after now).
- **Opened**: ``created_at`` in the window. **Reports**: the sum of ``reporter_count`` of those
  cases (the opening post and the duplicates linked to it, whenever they came).
- **Resolved**: ``resolved_at`` in the window; **closed**: ``closed_at`` in the window (closed
  without a resolution: a duplicate, referred, invalid). The store keeps these two as the case's
  *current* finish: both None while it is open, cleared when it is reopened.
- **Open** at a moment T: created before T, and not resolved or closed before T. A case resolved
  exactly at ``until`` is still open at ``until`` (and is resolved in the next window), so that
  ``open(until) = open(since) + opened - resolved - closed`` holds for every window. A case whose
  status is resolved or closed but has neither timestamp is taken as finished when it was created.
- **Time to resolve**: ``resolved_at - created_at`` of the cases resolved in the window; its
  **median** and **90th percentile** use the **nearest-rank** method: sort the n values and take
  the one at rank ceil(p/100 * n) (1-based). Every figure is therefore the time of a real case
  staff can look up (for 4 cases the median is the 2nd fastest, not an average of two).
- **Within SLA**: among the cases resolved in the window that have a ``due_at``, the share with
  ``resolved_at <= due_at``; None when there are none. **Overdue**: open at ``until`` and
  ``due_at`` before ``until``.
- **Backlog age**: ``until - created_at`` of the cases open at ``until``: median (nearest rank)
  and oldest.
- **Weeks** are ISO weeks (Monday to Sunday, keyed ``2026-W47``, ISO year) in the city's zone.
  Grouped by week, each row is the same report over that week's part of the window: opened and
  resolved in that week, open and backlog at the week's end.

Engagement (:func:`engagement`, over :class:`MessageFacts` and :class:`InboxFacts`), by channel:

- **Messages in**: mentions *received* in the window, whatever became of them, except
  ``ignored`` (our own posts, retweets and boosts, a blocked account's posts) and ``malformed``
  (a payload that could not be read): neither is a resident speaking to the city. Follow-ups in
  a case's thread, help replies, posts from outside the city and over the daily limit count.
- **Reports filed**: outcomes ``case_opened`` and ``needs_location`` (a case was opened);
  **reports linked**: ``duplicate`` (linked to an existing case, no new one);
  **answered automatically**: ``answered`` (an entry of answers.yaml).
- **Answered by staff**: inbox items *closed* in the window as ``replied``, ``answered`` or
  ``filed`` (whenever they came in); **closed without a reply**: closed as ``done``.
- **Time to a staff answer**: ``closed_at - created_at`` of the items answered by staff in the
  window; median and 90th percentile by nearest rank, as the time to resolve.
- **Unanswered now**: items ``open`` at ``now``, whatever the window (a queue is read today),
  and the oldest's age at ``now``.
"""

from __future__ import annotations

import enum
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from socialbot.domain import CaseStatus, GeoPoint, InboxReason, InboxState, MentionOutcome
from socialbot.geocell import cell_centre, cell_of
from socialbot.lifecycle import FINISHED

_FINISHED = FINISHED


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the reports need to know about one case; times are UTC-aware."""

    id: int
    category: str
    department: str
    district: str | None
    status: CaseStatus
    created_at: datetime
    resolved_at: datetime | None
    due_at: datetime | None
    author_id: str
    author_username: str | None
    lat: float | None
    lon: float | None
    cell: str | None
    reporter_count: int = 1  # the opening report and every duplicate report linked to the case
    duplicate_of: int | None = None  # closed by staff as a duplicate of that case
    closed_at: datetime | None = None  # closed without a resolution
    network: str = ""  # where it came from: how its author is shown (`app.shown_id`)

    def __post_init__(self) -> None:
        if self.reporter_count < 1:
            raise ValueError(f"case {self.id}: reporter_count must be at least 1")

    @property
    def finished_at(self) -> datetime | None:
        """When the case stopped being open (resolved or closed); None while it is open."""
        ends = [t for t in (self.resolved_at, self.closed_at) if t is not None]
        if ends:
            return min(ends)
        return self.created_at if self.status in _FINISHED else None

    @property
    def point(self) -> GeoPoint | None:
        return (
            GeoPoint(self.lat, self.lon) if self.lat is not None and self.lon is not None else None
        )

    @property
    def grid_cell(self) -> str | None:
        """The stored cell, or the cell of the point for cases stored before cells existed."""
        if self.cell is not None:
            return self.cell
        point = self.point
        return cell_of(point) if point is not None else None

    def is_open_at(self, moment: datetime) -> bool:
        """Created before ``moment`` and not finished before it (see the module docstring)."""
        finished = self.finished_at
        return self.created_at < moment and (finished is None or finished >= moment)


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """One resident's report: the post that opened a case, or a duplicate linked to one."""

    case_id: int
    category: str
    author_id: str
    author_username: str | None
    created_at: datetime
    network: str = ""

    @classmethod
    def opening(cls, case: CaseFacts) -> ReportFacts:
        """The report that opened ``case`` (for stores that do not keep linked reports apart)."""
        return cls(
            case.id,
            case.category,
            case.author_id,
            case.author_username,
            case.created_at,
            case.network,
        )


# ---------------------------------------------------------------------------------------------
# Percentiles


def nearest_rank(values: Sequence[timedelta], percent: float) -> timedelta | None:
    """The ``percent``-th percentile by nearest rank: sorted(values)[ceil(p/100 * n) - 1].

    None for no values. Why nearest rank: the answer is always one of the values (a real case's
    time), it needs no interpolation between durations, and anyone can check it by counting.
    """
    if not 0 < percent <= 100:
        raise ValueError(f"percent must be in (0, 100], got {percent}")
    if not values:
        return None
    ordered = sorted(values)
    # percent * n first: for whole percents that product is exact, so no rounding lifts the rank.
    return ordered[math.ceil(percent * len(ordered) / 100) - 1]


# ---------------------------------------------------------------------------------------------
# summary: `socialbot report`


class GroupBy(enum.StrEnum):
    CATEGORY = "category"
    DISTRICT = "district"
    DEPARTMENT = "department"
    WEEK = "week"


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """The figures for one group (or for all cases: the total row). See the module docstring."""

    key: str | None  # category, district (None: no district), department, "2026-W47", "total"
    opened: int
    reports: int
    resolved: int
    closed: int
    open: int
    overdue: int
    median_to_resolve: timedelta | None
    p90_to_resolve: timedelta | None
    sla_met: int
    sla_counted: int
    backlog_median_age: timedelta | None
    backlog_oldest_age: timedelta | None

    @property
    def within_sla(self) -> float | None:
        """The share (0 to 1) of resolved cases with a target that met it; None if none had one."""
        return self.sla_met / self.sla_counted if self.sla_counted else None

    def to_record(self) -> dict[str, str | int | float | None]:
        """The row for CSV and JSON: durations in hours, the SLA share as a fraction."""
        return {
            "key": self.key,
            "opened": self.opened,
            "reports": self.reports,
            "resolved": self.resolved,
            "closed": self.closed,
            "open": self.open,
            "overdue": self.overdue,
            "median_hours_to_resolve": _hours(self.median_to_resolve),
            "p90_hours_to_resolve": _hours(self.p90_to_resolve),
            "within_sla": self.within_sla,
            "sla_met": self.sla_met,
            "sla_counted": self.sla_counted,
            "backlog_median_age_hours": _hours(self.backlog_median_age),
            "backlog_oldest_age_hours": _hours(self.backlog_oldest_age),
        }


@dataclass(frozen=True, slots=True)
class Summary:
    by: GroupBy | None
    since: datetime
    until: datetime  # cut to `now` if it was later
    rows: tuple[SummaryRow, ...]
    total: SummaryRow


TOTAL_KEY = "total"


def summary(
    cases: Iterable[CaseFacts],
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    by: GroupBy | None = None,
    zone: tzinfo = UTC,
) -> Summary:
    """Counts, times to resolve, SLA share and backlog, per group and in total.

    Rows are sorted by key (districts: the no-district row last; weeks: in time order). A group
    appears when anything happened in it: a case opened, resolved or closed in the window, or
    open at its end. Grouped by week, every week of the window has a row, even a quiet one, so
    that a chart has no gaps. ``zone`` only matters for weeks.
    """
    until = _window(since, until, now)
    relevant = [c for c in cases if _touches(c, since, until)]
    total = _row(TOTAL_KEY, relevant, since, until)
    if by is None:
        return Summary(by, since, until, (), total)
    if by is GroupBy.WEEK:
        rows = tuple(
            _row(key, relevant, start, end) for key, start, end in _weeks(since, until, zone)
        )
        return Summary(by, since, until, rows, total)
    key_of: Callable[[CaseFacts], str | None] = {
        GroupBy.CATEGORY: lambda c: c.category,
        GroupBy.DISTRICT: lambda c: c.district,
        GroupBy.DEPARTMENT: lambda c: c.department,
    }[by]
    groups: dict[str | None, list[CaseFacts]] = defaultdict(list)
    for case in relevant:
        groups[key_of(case)].append(case)
    ordered = sorted(groups, key=lambda k: (k is None, k or ""))
    rows = tuple(_row(key, groups[key], since, until) for key in ordered)
    return Summary(by, since, until, tuple(r for r in rows if _active(r)), total)


def week_key(moment: datetime, zone: tzinfo = UTC) -> str:
    """The ISO week of a moment in ``zone``: ``2026-W47`` (ISO year: 2027-01-01 is 2026-W53)."""
    year, week, _ = moment.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def _window(since: datetime, until: datetime, now: datetime) -> datetime:
    for name, moment in (("since", since), ("until", until), ("now", now)):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware, got {moment.isoformat()}")
    until = min(until, now)
    if since >= until:
        raise ValueError(
            f"the window is empty: since {since.isoformat()} is not before "
            f"until {until.isoformat()}"
        )
    return until


def _touches(case: CaseFacts, since: datetime, until: datetime) -> bool:
    """Whether the case can count in any part of the window (a cheap filter, done once)."""
    finished = case.finished_at
    return case.created_at < until and (finished is None or finished >= since)


def _in(moment: datetime | None, since: datetime, until: datetime) -> bool:
    return moment is not None and since <= moment < until


def _row(
    key: str | None, cases: Sequence[CaseFacts], since: datetime, until: datetime
) -> SummaryRow:
    opened = [c for c in cases if _in(c.created_at, since, until)]
    # (created, resolved, due) of each case resolved in the window
    resolved = [
        (c.created_at, c.resolved_at, c.due_at)
        for c in cases
        if c.resolved_at is not None and since <= c.resolved_at < until
    ]
    closed = [c for c in cases if c.resolved_at is None and _in(c.closed_at, since, until)]
    still_open = [c for c in cases if c.is_open_at(until)]
    to_resolve = [done - created for created, done, _ in resolved]
    targets = [(done, due) for _, done, due in resolved if due is not None]
    ages = [until - c.created_at for c in still_open]
    return SummaryRow(
        key=key,
        opened=len(opened),
        reports=sum(c.reporter_count for c in opened),
        resolved=len(resolved),
        closed=len(closed),
        open=len(still_open),
        overdue=sum(1 for c in still_open if c.due_at is not None and c.due_at < until),
        median_to_resolve=nearest_rank(to_resolve, 50),
        p90_to_resolve=nearest_rank(to_resolve, 90),
        sla_met=sum(1 for done, due in targets if done <= due),
        sla_counted=len(targets),
        backlog_median_age=nearest_rank(ages, 50),
        backlog_oldest_age=max(ages, default=None),
    )


def _active(row: SummaryRow) -> bool:
    return bool(row.opened or row.resolved or row.closed or row.open)


def _weeks(
    since: datetime, until: datetime, zone: tzinfo
) -> Iterable[tuple[str, datetime, datetime]]:
    """Each ISO week (in ``zone``) overlapping the window, cut to the window."""
    monday = _monday_of(since.astimezone(zone).date())
    while True:
        start = _local_midnight(monday, zone)
        end = _local_midnight(monday + timedelta(days=7), zone)
        if start >= until:
            return
        yield week_key(start, zone), max(start, since), min(end, until)
        monday += timedelta(days=7)


def _monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _hours(span: timedelta | None) -> float | None:
    return span.total_seconds() / 3600 if span is not None else None


# ---------------------------------------------------------------------------------------------
# hotspots: `socialbot report hotspots`


class HotspotBy(enum.StrEnum):
    CELL = "cell"
    DISTRICT = "district"


@dataclass(frozen=True, slots=True)
class CategoryCount:
    category: str
    reports: int


@dataclass(frozen=True, slots=True)
class Hotspot:
    """A cell or district with many reports in the window, and what they were about."""

    key: str  # the geohash-7 cell, or the district's name
    reports: int  # residents' reports: reporter_count summed, duplicates included
    cases: int  # distinct problems: cases not closed as a duplicate of another
    top_categories: tuple[CategoryCount, ...]  # at most 3, most reports first
    centre: GeoPoint | None  # a cell's centre, for a map; None for a district

    def to_record(self) -> dict[str, str | int | float | None]:
        return {
            "key": self.key,
            "reports": self.reports,
            "cases": self.cases,
            "top_categories": ", ".join(f"{c.category} ({c.reports})" for c in self.top_categories),
            "lat": self.centre.lat if self.centre is not None else None,
            "lon": self.centre.lon if self.centre is not None else None,
        }


@dataclass(frozen=True, slots=True)
class Hotspots:
    by: HotspotBy
    rows: tuple[Hotspot, ...]
    unlocated_reports: int  # reports in the window with no cell (no location) or no district


def hotspots(
    cases: Iterable[CaseFacts],
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    by: HotspotBy = HotspotBy.CELL,
    top: int = 10,
) -> Hotspots:
    """The ``top`` cells or districts by reports among cases opened in the window.

    Counted in *reports* (each case weighs its ``reporter_count``) because ten residents
    reporting one pothole is a hotter spot than one resident reporting it; *cases* is shown
    beside it, without those closed as a duplicate of another, so staff see both how loud and
    how many distinct problems. Ties: more cases first, then the key.
    """
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    until = _window(since, until, now)
    reports: Counter[str] = Counter()
    distinct: Counter[str] = Counter()
    by_category: dict[str, Counter[str]] = defaultdict(Counter)
    unlocated = 0
    for case in cases:
        if not _in(case.created_at, since, until):
            continue
        key = case.grid_cell if by is HotspotBy.CELL else case.district
        if key is None:
            unlocated += case.reporter_count
            continue
        reports[key] += case.reporter_count
        distinct[key] += case.duplicate_of is None
        by_category[key][case.category] += case.reporter_count
    ranked = sorted(reports, key=lambda k: (-reports[k], -distinct[k], k))[:top]
    rows = tuple(
        Hotspot(
            key=key,
            reports=reports[key],
            cases=distinct[key],
            top_categories=_top_categories(by_category[key], 3),
            centre=cell_centre(key) if by is HotspotBy.CELL else None,
        )
        for key in ranked
    )
    return Hotspots(by, rows, unlocated)


def _top_categories(counts: Counter[str], limit: int | None) -> tuple[CategoryCount, ...]:
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(CategoryCount(category, n) for category, n in ordered[:limit])


# ---------------------------------------------------------------------------------------------
# reporters: `socialbot report reporters`


@dataclass(frozen=True, slots=True)
class Reporter:
    """One resident who reported often: "two people, 20 times each" is worth knowing."""

    author_id: str
    author_username: str | None  # as of their latest report in the window (handles change)
    reports: int
    cases: int  # distinct cases their reports opened or were linked to
    categories: tuple[CategoryCount, ...]  # all of them, most reports first
    first_at: datetime
    last_at: datetime
    network: str = ""  # of their latest report: how they are shown (`app.shown_id`)

    def to_record(self) -> dict[str, str | int | float | None]:
        return {
            "author_id": self.author_id,
            "author_username": self.author_username,
            "reports": self.reports,
            "cases": self.cases,
            "categories": ", ".join(f"{c.category} ({c.reports})" for c in self.categories),
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
        }


def reporters(
    reports: Iterable[ReportFacts],
    *,
    since: datetime,
    until: datetime,
    now: datetime,
    min_reports: int = 2,
) -> tuple[Reporter, ...]:
    """Residents with at least ``min_reports`` reports in the window, most reports first.

    Reports, not cases, because a resident who reports the same pothole daily is what staff want
    to see, and "cases" beside it says whether it is one problem or many. Ties: more cases
    first, then the author id.
    """
    if min_reports < 1:
        raise ValueError(f"min_reports must be at least 1, got {min_reports}")
    until = _window(since, until, now)
    mine: dict[str, list[ReportFacts]] = defaultdict(list)
    for report in reports:
        if _in(report.created_at, since, until):
            mine[report.author_id].append(report)
    found = [
        _reporter(author, sorted(items, key=lambda r: r.created_at))
        for author, items in mine.items()
        if len(items) >= min_reports
    ]
    return tuple(sorted(found, key=lambda r: (-r.reports, -r.cases, r.author_id)))


def _reporter(author_id: str, items: Sequence[ReportFacts]) -> Reporter:
    return Reporter(
        author_id=author_id,
        author_username=items[-1].author_username,
        reports=len(items),
        cases=len({r.case_id for r in items}),
        categories=_top_categories(Counter(r.category for r in items), None),
        first_at=items[0].created_at,
        last_at=items[-1].created_at,
        network=items[-1].network,
    )


# ---------------------------------------------------------------------------------------------
# engagement: the residents' messages in `socialbot report`

# Not a resident speaking to the city: our own posts, retweets, a blocked account; unreadable.
NOT_ENGAGEMENT = frozenset({MentionOutcome.IGNORED, MentionOutcome.MALFORMED})
FILED_OUTCOMES = frozenset({MentionOutcome.CASE_OPENED, MentionOutcome.NEEDS_LOCATION})
STAFF_ANSWERS = frozenset({InboxState.REPLIED, InboxState.ANSWERED, InboxState.FILED})


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """One mention as the engagement figures read it; `received_at` UTC-aware."""

    network: str
    outcome: MentionOutcome
    received_at: datetime


@dataclass(frozen=True, slots=True)
class InboxFacts:
    """One inbox item as the engagement figures read it; times UTC-aware."""

    network: str
    reason: InboxReason
    state: InboxState
    created_at: datetime
    closed_at: datetime | None  # None while it is open
    priority: bool = False


@dataclass(frozen=True, slots=True)
class EngagementRow:
    """The residents' messages on one channel (or on all: the total row). See the module
    docstring for each figure's definition."""

    key: str  # the network, or "total"
    messages_in: int
    reports_filed: int
    reports_linked: int
    answered_automatically: int
    answered_by_staff: int
    closed_without_reply: int
    median_to_staff_answer: timedelta | None
    p90_to_staff_answer: timedelta | None
    unanswered: int
    oldest_unanswered_age: timedelta | None

    def to_record(self) -> dict[str, str | int | float | None]:
        """The row for CSV and JSON: durations in hours, as the summary's."""
        return {
            "key": self.key,
            "messages_in": self.messages_in,
            "reports_filed": self.reports_filed,
            "reports_linked": self.reports_linked,
            "answered_automatically": self.answered_automatically,
            "answered_by_staff": self.answered_by_staff,
            "closed_without_reply": self.closed_without_reply,
            "median_hours_to_staff_answer": _hours(self.median_to_staff_answer),
            "p90_hours_to_staff_answer": _hours(self.p90_to_staff_answer),
            "unanswered_now": self.unanswered,
            "oldest_unanswered_age_hours": _hours(self.oldest_unanswered_age),
        }


@dataclass(frozen=True, slots=True)
class Engagement:
    since: datetime
    until: datetime  # cut to `now` if it was later
    rows: tuple[EngagementRow, ...]  # a row per network that had anything, by name
    total: EngagementRow


def engagement(
    messages: Iterable[MessageFacts],
    inbox: Iterable[InboxFacts],
    *,
    since: datetime,
    until: datetime,
    now: datetime,
) -> Engagement:
    """Messages in, reports filed and linked, questions answered automatically, staff's answers
    and their times, and what waits now: a row per network and the total."""
    until = _window(since, until, now)
    mine = [m for m in messages if _in(m.received_at, since, until)]
    items = list(inbox)
    networks = sorted({m.network for m in mine} | {i.network for i in items})
    rows = (
        _engagement_row(
            network,
            [m for m in mine if m.network == network],
            [i for i in items if i.network == network],
            since,
            until,
            now,
        )
        for network in networks
    )
    total = _engagement_row(TOTAL_KEY, mine, items, since, until, now)
    return Engagement(since, until, tuple(r for r in rows if _engaged(r)), total)


def _engagement_row(
    key: str,
    messages: Sequence[MessageFacts],
    items: Sequence[InboxFacts],
    since: datetime,
    until: datetime,
    now: datetime,
) -> EngagementRow:
    outcomes = Counter(m.outcome for m in messages)
    closed = [i for i in items if i.state is not InboxState.OPEN and _in(i.closed_at, since, until)]
    answered = [i for i in closed if i.state in STAFF_ANSWERS]
    to_answer = [i.closed_at - i.created_at for i in answered if i.closed_at is not None]
    waiting = [i for i in items if i.state is InboxState.OPEN]
    return EngagementRow(
        key=key,
        messages_in=sum(n for outcome, n in outcomes.items() if outcome not in NOT_ENGAGEMENT),
        # A message of the window that staff filed from the inbox (`inbox file`) is a report
        # filed too (its mention stays unclassified: that is how it came in).
        reports_filed=sum(outcomes[o] for o in FILED_OUTCOMES)
        + sum(1 for i in closed if i.state is InboxState.FILED and _in(i.created_at, since, until)),
        reports_linked=outcomes[MentionOutcome.DUPLICATE],
        answered_automatically=outcomes[MentionOutcome.ANSWERED],
        answered_by_staff=len(answered),
        closed_without_reply=sum(1 for i in closed if i.state is InboxState.DONE),
        median_to_staff_answer=nearest_rank(to_answer, 50),
        p90_to_staff_answer=nearest_rank(to_answer, 90),
        unanswered=len(waiting),
        # A clock a little behind a message's own time must not show a negative age.
        oldest_unanswered_age=max(
            (max(now - i.created_at, timedelta(0)) for i in waiting), default=None
        ),
    )


def _engaged(row: EngagementRow) -> bool:
    return bool(
        row.messages_in or row.answered_by_staff or row.closed_without_reply or row.unanswered
    )


def span_text(span: timedelta) -> str:
    """A time span as people say it, in its two largest units: "< 1 min", "45 min",
    "3 h 20 min", "26 h", "2 d 4 h" (hours up to two days, as the summary's durations; whole
    units, rounded down: never more than it was)."""
    minutes = max(int(span.total_seconds() // 60), 0)
    if minutes < 1:
        return "< 1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
