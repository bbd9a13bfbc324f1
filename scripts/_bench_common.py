"""What the benchmarks share: a synthetic storm in X API v2's wire shape, databases, output.

The storm is deterministic: mention `i` is always the same post, so a page can be rebuilt (or
served twice) without keeping anything from before. Nothing here reaches the network: the X
endpoints are served by `responses`, and PostgreSQL (optional) gets a schema of its own, dropped
afterwards.
"""

from __future__ import annotations

import json
import random
import resource
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import responses
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.sql.schema import ScalarElementColumnDefault
from sqlmodel import SQLModel

import socialbot.store.models  # noqa: F401  (the tables, for their defaults)
from socialbot.demo import DEMO_CITY_BOUNDS
from socialbot.domain import GeoPoint
from socialbot.geocell import cell_of
from socialbot.poller import reply_key
from socialbot.store.statistics import analyze

API = "https://api.twitter.com"
CITY_ID = "1583000000000000001"
CITY = "DemoCity311"
MENTIONS_URL = f"{API}/2/users/{CITY_ID}/mentions"
TWEETS_URL = f"{API}/2/tweets"
# west,south,east,north: Boston, as in the tests.
BOSTON = DEMO_CITY_BOUNDS
PAGE_SIZE = 100  # what the X adapter asks for (max_results)

# Post ids: the storm's are above STORM_BASE (larger = newer); the seeded history's below it.
STORM_BASE = 1_900_000_000_000_000_000
# Our reply to post p gets id p + REPLY_OFFSET from the mocked POST /2/tweets, so the storm can
# build a resident's answer to our reply without asking anyone what its id was.
REPLY_OFFSET = 50_000_000_000_000_000

JSONObject = dict[str, Any]


def post_id(i: int) -> str:
    return str(STORM_BASE + i + 1)


def reply_id(i: int) -> str:
    return str(STORM_BASE + i + 1 + REPLY_OFFSET)


# ---------------------------------------------------------------------------------------------
# The storm: mention i, by kind

# One cycle of 20 slots; the share of each kind in a storm is its count here.
CYCLE: tuple[str, ...] = (
    "photo_geo",
    "place_small",
    "map_link",
    "spanish",
    "no_location",
    "photo_geo",
    "follow_up_location",
    "unknown_hashtag",
    "photo_geo",
    "text_coords",
    "place_city",
    "follow_up_our_reply",
    "photo_geo",
    "map_link",
    "duplicate_report",
    "spanish",
    "outside_city",
    "photo_geo",
    "reserved",
    "no_location",
)
ENGLISH_TAGS = ("pothole", "Pothole", "streetlight", "graffiti", "downedtree", "missedtrash")
SPANISH_TAGS = ("bache", "Baché", "grafiti", "alumbrado", "basura")
UNKNOWN_TAGS = ("marathon", "snowday", "GoSox", "tormenta")
# Slots whose post opens a case (or asks for a location): what follow-ups and duplicates name.
_REPORT_SLOT = CYCLE.index("photo_geo")
_NO_LOCATION_SLOT = CYCLE.index("no_location")
LOOKBACK = 20 * 50  # follow-ups answer a post this many mentions back (an earlier poll)


def _slot_before(i: int, slot: int, cycles_back: int) -> int:
    """The index of `slot` in the cycle `cycles_back` cycles before mention i's."""
    return (i // len(CYCLE) - cycles_back) * len(CYCLE) + slot


@dataclass(frozen=True, slots=True)
class Storm:
    """N mentions of a storm, built on demand: `tweet(i)` and the includes it needs."""

    started: datetime
    authors: int  # distinct residents posting
    history: int = 0  # past cases in the database (`seed_history`), which residents answer

    @classmethod
    def for_size(cls, n: int, history: int = 0, started: datetime | None = None) -> Storm:
        """A storm of about `n` mentions, posted from `started` on (an hour ago)."""
        # Three reports a resident on average: under the daily limit (10), as most are.
        return cls(
            started=started or datetime.now(UTC) - timedelta(hours=1),
            authors=max(50, max(n, history) // 3),
            history=history,
        )

    def author(self, i: int) -> str:
        return str(4_000_000 + (i * 2_654_435_761) % self.authors)

    def past_post(self, k: int) -> str:
        """The post that opened past case k + 1 (see `seed_history`)."""
        return str(STORM_BASE - 10 * (self.history - k))

    def kind(self, i: int) -> str:
        kind = CYCLE[i % len(CYCLE)]
        if kind == "follow_up_our_reply" and i < LOOKBACK and self.history:
            return "follow_up_past_case"
        if kind in ("follow_up_our_reply", "duplicate_report", "reserved") and i < LOOKBACK:
            return "photo_geo"  # nothing that far back yet
        if kind == "follow_up_location" and i < len(CYCLE):
            return "no_location"
        return kind

    def point(self, i: int) -> tuple[float, float]:
        rng = random.Random(i)
        return round(rng.uniform(42.25, 42.38), 5), round(rng.uniform(-71.15, -71.0), 5)

    def tweet(self, i: int) -> tuple[JSONObject, list[JSONObject], list[JSONObject]]:
        """Mention i as X serves it, with the media and places it needs in `includes`."""
        kind = self.kind(i)
        if kind == "reserved":  # X serving a post again: the unique index makes it a no-op
            return self.tweet(_slot_before(i, _REPORT_SLOT, LOOKBACK // len(CYCLE)))
        lat, lon = self.point(i)
        author = self.author(i)
        tag = ENGLISH_TAGS[i % len(ENGLISH_TAGS)]
        media: list[JSONObject] = []
        places: list[JSONObject] = []
        extra: JSONObject = {}
        urls: list[tuple[str, str]] = []
        lang = "en"
        if kind == "photo_geo":
            text_ = f"@{CITY} #{tag} on Boylston St by the library, two cars already hit it"
            extra["geo"] = {"coordinates": {"type": "Point", "coordinates": [lon, lat]}}
            key = f"3_{post_id(i)}"
            extra["attachments"] = {"media_keys": [key]}
            media.append(
                {"media_key": key, "type": "photo", "url": f"https://pbs.twimg.com/media/{key}.jpg"}
            )
        elif kind == "place_small":
            text_ = f"@{CITY} #{tag} right outside the cafe"
            place = f"p{i % 97:02d}a1b2c3d4e5f6"
            extra["geo"] = {"place_id": place}
            places.append(_place(place, f"Cafe {i % 97}, Boston", lat, lon, 0.001, "poi"))
        elif kind == "place_city":
            text_ = f"@{CITY} #{tag} somewhere downtown, can't miss it"
            extra["geo"] = {"place_id": "67b98f17fdcf20be"}
            places.append(_place("67b98f17fdcf20be", "Boston, MA", 42.31, -71.09, 0.1, "city"))
        elif kind == "map_link":
            short = f"https://t.co/m{i % 10_000_000:07d}"
            links = (
                f"https://www.google.com/maps/search/?api=1&query={lat},{lon}",
                f"https://maps.apple.com/?ll={lat},{lon}&q=Pin",
                f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}",
            )
            urls.append((short, links[i % len(links)]))
            text_ = f"@{CITY} #{tag} here {short}"
        elif kind == "text_coords":
            text_ = f"@{CITY} #{tag} at {lat:.5f}, {lon:.5f} near the bus stop"
        elif kind == "spanish":
            es_tag = SPANISH_TAGS[i % len(SPANISH_TAGS)]
            text_ = f"@{CITY} Hay un #{es_tag} enorme en la calle Centre, cuidado"
            lang = "es"
            extra["geo"] = {"coordinates": {"type": "Point", "coordinates": [lon, lat]}}
        elif kind == "no_location":
            text_ = f"@{CITY} #{tag} on our street for a week now"
        elif kind == "unknown_hashtag":
            text_ = f"@{CITY} loved the #{UNKNOWN_TAGS[i % len(UNKNOWN_TAGS)]} this year"
        elif kind == "outside_city":
            text_ = f"@{CITY} #{tag} in Providence"
            extra["geo"] = {"coordinates": {"type": "Point", "coordinates": [-71.41283, 41.82399]}}
        elif kind == "follow_up_location":
            # The reporter of a case waiting for a location answers under their own post: one in
            # five straight away (on the same page), the others after a while (an earlier poll).
            soon = (i // len(CYCLE)) % 5 == 0 or i < LOOKBACK
            j = _slot_before(i, _NO_LOCATION_SLOT, 0 if soon else LOOKBACK // len(CYCLE))
            author = self.author(j)
            short = f"https://t.co/f{i % 10_000_000:07d}"
            urls.append((short, f"https://maps.google.com/?q={lat},{lon}"))
            text_ = f"@{CITY} it's here {short}"
            extra["conversation_id"] = post_id(j)
            extra["in_reply_to_user_id"] = author
            extra["referenced_tweets"] = [{"type": "replied_to", "id": post_id(j)}]
        elif kind == "follow_up_our_reply":
            # A resident answers our reply to their report of an earlier poll.
            j = _slot_before(i, _REPORT_SLOT, LOOKBACK // len(CYCLE))
            author = self.author(j)
            text_ = (f"@{CITY} thank you!", f"@{CITY} any news? status", f"@{CITY} gracias")[i % 3]
            extra["conversation_id"] = post_id(j)
            extra["in_reply_to_user_id"] = CITY_ID
            extra["referenced_tweets"] = [{"type": "replied_to", "id": reply_id(j)}]
        elif kind == "follow_up_past_case":
            # A resident answers our reply to a report of theirs from the past.
            k = (i * 7_919) % self.history
            author, post = self.author(k), self.past_post(k)
            text_ = (f"@{CITY} it's back again", f"@{CITY} status?", f"@{CITY} gracias")[i % 3]
            extra["conversation_id"] = post
            extra["in_reply_to_user_id"] = CITY_ID
            extra["referenced_tweets"] = [
                {"type": "replied_to", "id": str(int(post) + REPLY_OFFSET)}
            ]
        elif kind == "duplicate_report":
            # The same resident reports the same thing again, in a new post.
            j = _slot_before(i, _REPORT_SLOT, LOOKBACK // len(CYCLE))
            author = self.author(j)
            lat, lon = self.point(j)
            tag = ENGLISH_TAGS[j % len(ENGLISH_TAGS)]
            text_ = f"@{CITY} #{tag} still there!! reported it already"
            extra["geo"] = {"coordinates": {"type": "Point", "coordinates": [lon, lat]}}
        else:  # pragma: no cover - every kind of CYCLE is handled above
            raise AssertionError(kind)
        tweet: JSONObject = {
            "id": post_id(i),
            "text": text_,
            "author_id": author,
            "created_at": (self.started + timedelta(milliseconds=10 * i)).strftime(
                "%Y-%m-%dT%H:%M:%S.%f"
            )[:-3]
            + "Z",
            "lang": lang,
            "conversation_id": post_id(i),
            "edit_history_tweet_ids": [post_id(i)],
            "entities": _entities(text_, urls),
        }
        tweet.update(extra)
        return tweet, media, places

    def page(self, indexes: Sequence[int], next_token: str | None) -> JSONObject:
        """A mentions-timeline page of the given mentions, newest first, as X builds it."""
        tweets: list[JSONObject] = []
        media: dict[str, JSONObject] = {}
        places: dict[str, JSONObject] = {}
        for i in indexes:
            tweet, its_media, its_places = self.tweet(i)
            tweets.append(tweet)
            media.update((m["media_key"], m) for m in its_media)
            places.update((p["id"], p) for p in its_places)
        tweets.sort(key=lambda t: int(t["id"]), reverse=True)
        authors = sorted({t["author_id"] for t in tweets})
        users = [{"id": a, "name": f"Resident {a}", "username": f"resident{a}"} for a in authors]
        includes: JSONObject = {"users": users}
        if media:
            includes["media"] = list(media.values())
        if places:
            includes["places"] = list(places.values())
        meta: JSONObject = {"result_count": len(tweets)}
        if tweets:
            meta |= {"newest_id": tweets[0]["id"], "oldest_id": tweets[-1]["id"]}
        if next_token is not None:
            meta["next_token"] = next_token
        body: JSONObject = {"meta": meta}
        if tweets:
            body |= {"data": tweets, "includes": includes}
        return body


def _place(place_id: str, name: str, lat: float, lon: float, half: float, kind: str) -> JSONObject:
    return {
        "id": place_id,
        "full_name": name,
        "place_type": kind,
        "geo": {"type": "Feature", "bbox": [lon - half, lat - half, lon + half, lat + half]},
    }


def _entities(text_: str, urls: list[tuple[str, str]]) -> JSONObject:
    entities: JSONObject = {}
    handle = f"@{CITY}"
    if handle in text_:
        start = text_.index(handle)
        entities["mentions"] = [
            {"start": start, "end": start + len(handle), "username": CITY, "id": CITY_ID}
        ]
    tags = [
        {"start": start, "end": start + len(word), "tag": word[1:]}
        for start, word in _words(text_)
        if word.startswith("#") and len(word) > 1
    ]
    if tags:
        entities["hashtags"] = tags
    if urls:
        entities["urls"] = [
            {
                "start": text_.index(short),
                "end": text_.index(short) + len(short),
                "url": short,
                "expanded_url": expanded,
                "display_url": expanded.split("//", 1)[-1][:25] + "…",
            }
            for short, expanded in urls
        ]
    return entities


def _words(text_: str) -> Iterator[tuple[int, str]]:
    start = 0
    for word in text_.split(" "):
        yield start, word.rstrip("!,.")
        start += len(word) + 1


# ---------------------------------------------------------------------------------------------
# Serving the storm to the real X adapter


class MentionsServer:
    """GET /2/users/:id/mentions as X serves it: what arrived since `since_id`, newest page first,
    following `pagination_token`. The storm arrives in bursts (`arrive`), one burst a poll."""

    def __init__(self, storm: Storm) -> None:
        self.storm = storm
        self.pages: dict[str, str] = {}  # pagination token ("" for the first) → JSON body
        self.expected_since: str | None = None
        self.served = 0

    def arrive(self, start: int, stop: int) -> list[str]:
        """Mentions start..stop-1 are now on X; returns their pages as served, newest first."""
        newest_first = list(range(stop - 1, start - 1, -1))
        chunks = [newest_first[k : k + PAGE_SIZE] for k in range(0, len(newest_first), PAGE_SIZE)]
        bodies: list[str] = []
        for number, chunk in enumerate(chunks):
            token = f"b{start}p{number + 1}" if number + 1 < len(chunks) else None
            bodies.append(json.dumps(self.storm.page(chunk, token), ensure_ascii=False))
        self.pages = {("" if n == 0 else f"b{start}p{n}"): body for n, body in enumerate(bodies)}
        return bodies

    def moved_past(self, newest: str) -> None:
        self.expected_since = newest

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        from urllib.parse import parse_qs, urlsplit

        query = parse_qs(urlsplit(request.url).query)
        since = query.get("since_id", [None])[0]
        if since != self.expected_since:
            return 400, {}, json.dumps({"title": f"since_id {since} != {self.expected_since}"})
        token = query.get("pagination_token", [""])[0]
        body = self.pages.get(token)
        if body is None:
            return 400, {}, json.dumps({"title": f"unknown pagination_token {token}"})
        self.served += 1
        return 200, {"content-type": "application/json"}, body


def forget_calls(mock: responses.RequestsMock) -> None:
    """`responses` keeps every request and response, in the mock and in each registered
    response: forgotten after each poll, or they would be the memory that grows."""
    mock.calls.reset()
    for registered in mock.registered():
        registered.calls.reset()


# ---------------------------------------------------------------------------------------------
# Databases


@contextmanager
def sqlite_url(keep: Path | None = None) -> Iterator[str]:
    """A fresh SQLite file, removed afterwards (unless `keep` names a directory to use)."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{keep / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        return
    with tempfile.TemporaryDirectory(prefix="socialbot-bench-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


@contextmanager
def postgres_url(url: str) -> Iterator[str]:
    """A schema of its own in the PostgreSQL database at `url`, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


PAST_CATEGORIES = ("pothole", "streetlight", "graffiti", "downed_tree", "missed_trash")


def seed_history(
    engine: Engine, storm: Storm, batch: int = 50_000, *, statistics: bool = True
) -> None:
    """The storm's past cases (`storm.history`) as a busy city's database holds them, inserted
    in bulk (not through the pipeline): each with the mention that opened it, its intake event
    and its sent reply. Their reporters are the storm's residents, so the daily-limit and thread
    look-ups search among them. Post ids are below the storm's; dates spread over two years.

    With `statistics`, then the statistics production has after that history: on SQLite what
    the hourly `db:optimize` job of `socialbot run` leaves (the function it calls), on
    PostgreSQL what autovacuum's analyze does after a bulk load. Without, none: the worst hour
    (a database that never ran the job), what nothing here does on its own."""
    cases = storm.history
    now = datetime.now(UTC)
    dialect = engine.dialect.name

    def when(k: int) -> datetime:
        # Oldest first, all older than a day: none counts against today's limit.
        return now - timedelta(days=2, seconds=(cases - k) * 60)

    for start in range(0, cases, batch):
        stop = min(cases, start + batch)
        case_rows: list[tuple[Any, ...]] = []
        mention_rows: list[tuple[Any, ...]] = []
        event_rows: list[tuple[Any, ...]] = []
        outbox_rows: list[tuple[Any, ...]] = []
        for k in range(start, stop):
            cid = k + 1
            post = storm.past_post(k)
            author = storm.author(k)
            at = when(k)
            stored = at.replace(tzinfo=None) if dialect == "sqlite" else at
            status = ("resolved", "closed", "new", "in_progress")[k % 4]
            # Spread over the storm's part of the city, a metre apart at most.
            lat = 42.25 + (k * 7_919 % 13_000) / 100_000
            lon = -71.15 + (k * 104_729 % 15_000) / 100_000
            case_rows.append(
                (
                    cid,
                    PAST_CATEGORIES[k % len(PAST_CATEGORIES)],
                    "Public Works",
                    "normal",
                    status,
                    lat,
                    lon,
                    "exact",
                    None,
                    '["https://pbs.twimg.com/media/seed.jpg"]',
                    "en",
                    "x",
                    post,
                    author,
                    f"resident{author}",
                    "@DemoCity311 #pothole on Boylston St",
                    stored,
                    stored,
                    cell_of(GeoPoint(lat, lon)),  # the grid cell the duplicate look-up reads
                )
            )
            mention_rows.append(
                (
                    cid,
                    "x",
                    "intake",
                    post,
                    author,
                    f"resident{author}",
                    "@DemoCity311 #pothole on Boylston St",
                    "en",
                    post,
                    stored,
                    stored,
                    "case_opened",
                    "#pothole",
                    cid,
                    '{"data": {"id": "' + post + '"}}',
                )
            )
            event_rows.append((cid, cid, stored, "socialbot", None, "new", "#pothole"))
            outbox_rows.append(
                (
                    cid,
                    "x",
                    "intake",
                    reply_key("x", post),
                    post,
                    cid,
                    cid,
                    "filed",
                    "en",
                    f"Thanks! Your report is filed as case #{cid} (Pothole).",
                    "sent",
                    1,
                    stored,
                    stored,
                    str(int(post) + REPLY_OFFSET),
                    stored,
                    stored,
                )
            )
        bulk_insert(
            engine,
            "cases",
            "id, category, department, priority, status, lat, lon, location_source, place_name, "
            "photo_urls, lang, platform, mention_post_id, author_id, author_username, "
            "description, created_at, updated_at, cell",
            case_rows,
        )
        bulk_insert(
            engine,
            "mentions",
            "id, platform, account, post_id, author_id, author_username, text, lang, "
            "conversation_id, created_at, received_at, outcome, detail, case_id, raw",
            mention_rows,
        )
        bulk_insert(
            engine,
            "case_events",
            "id, case_id, at, actor, from_status, to_status, note",
            event_rows,
        )
        bulk_insert(
            engine,
            "outbox",
            "id, platform, account, dedupe_key, in_reply_to_post_id, mention_id, case_id, "
            "template, lang, text, state, attempts, next_attempt_at, claimed_at, posted_id, "
            "created_at, sent_at",
            outbox_rows,
        )
    if dialect == "postgresql":
        with engine.begin() as conn:
            for table in ("cases", "mentions", "case_events", "outbox"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    if statistics:
        analyze(engine)


def bulk_insert(engine: Engine, table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
    """One bulk insert: COPY on PostgreSQL, executemany on SQLite. A required column not named
    in `columns` (one added since this was written) gets its model's default."""
    named = [c.strip() for c in columns.split(",")]
    extra = [
        (column.name, column.default.arg)
        for column in SQLModel.metadata.tables[table].columns
        if column.name not in named
        and not column.nullable
        and isinstance(column.default, ScalarElementColumnDefault)
    ]
    if extra:
        columns += "".join(f", {name}" for name, _ in extra)
        defaults = tuple(value for _, value in extra)
        rows = [row + defaults for row in rows]
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns.split(","))
            cursor.execute("BEGIN")
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
            cursor.execute("COMMIT")
        raw.commit()
    finally:
        raw.close()


# ---------------------------------------------------------------------------------------------
# Measuring and reporting


def peak_rss_mb() -> float:
    """This process's peak resident set, in MB.

    On Linux from /proc (VmHWM): `ru_maxrss` survives exec, so a child started by a big parent
    would report the parent's peak. Elsewhere `ru_maxrss` (macOS counts bytes, others KiB)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class Stopwatch:
    """Accumulates the time spent inside `with stopwatch:` blocks."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.seconds += time.perf_counter() - self._start


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a benchmark's table: what was measured, its value, the target, the verdict."""

    key: str
    label: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None


def print_table(title: str, rows: Sequence[Row], notes: Sequence[str] = ()) -> None:
    def fmt(value: float) -> str:
        whole = abs(value) >= 100 or float(value).is_integer()
        return f"{value:,.0f}" if whole else f"{value:,.2f}"

    header = ("measure", "value", "target", "")
    lines = [
        (
            row.label,
            f"{fmt(row.value)} {row.unit}".strip(),
            row.target,
            "" if row.met is None else ("met" if row.met else "MISSED"),
        )
        for row in rows
    ]
    widths = [max(len(str(line[c])) for line in [header, *lines]) for c in range(4)]
    print(title)
    for line in [header, tuple("-" * w for w in widths), *lines]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    for note in notes:
        print(textwrap.fill(note, 80))


def as_json(rows: Sequence[Row], **context: Any) -> str:
    return json.dumps(
        {
            **context,
            "results": {
                row.key: {
                    "label": row.label,
                    "value": round(row.value, 4),
                    "unit": row.unit,
                    "target": row.target or None,
                    "met": row.met,
                }
                for row in rows
            },
        },
        indent=2,
        ensure_ascii=False,
    )


def progress(enabled: bool) -> Callable[[str], None]:
    """A one-line progress logger on stderr (kept out of the table and the JSON on stdout)."""

    def say(message: str) -> None:
        if enabled:
            print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    return say
