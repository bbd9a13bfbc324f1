"""Reply texts during a storm: µs a reply, each one rendered (before) and each distinct text
rendered once with the numbers put in (after, `socialbot.render_once`), same replies, same run.

    .venv/bin/python scripts/bench_replies.py [--replies N] [--repeat 3] [--case-url URL]
        [--storm] [--json]

N replies (20,000) as intake makes them (`Replies.render_or_fallback`) from the shipped
templates: mostly filed, some already reported and needing a location, 80 % English, the
shipped catalog's categories in turn, case numbers counting up from 1,000,000, measured by X's
rules, and with `--storm` the storm line on emergency categories. Both ways must give the same
texts (checked, every reply); the best of `--repeat` runs is shown. The template step alone
(`templating.render` against `RenderOnce.render`, no addressing or measuring by X's rules) is
shown beside it.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

from _bench_common import Row, as_json, print_table

from socialbot import templating
from socialbot.catalog import Category, load_catalog
from socialbot.config import SHIPPED_HASHTAGS, SHIPPED_TEMPLATES
from socialbot.domain import CaseStatus, Reply, StormMode
from socialbot.networks.x.rules import X_TEXT
from socialbot.render_once import RenderOnce
from socialbot.replies import NUMBERED, VARIABLES, Replies, ReplyContext


@dataclass(frozen=True, slots=True)
class Job:
    """One reply to make."""

    message: Reply
    lang: str
    category: Category
    context: ReplyContext
    status: CaseStatus


def jobs(n: int, case_url: str | None) -> list[Job]:
    catalog = load_catalog(SHIPPED_HASHTAGS)
    categories = catalog.categories
    made = []
    for i in range(n):
        message = (Reply.FILED, Reply.FILED, Reply.FILED, Reply.ALREADY_REPORTED)[i % 4]
        if i % 10 == 9:
            message = Reply.NEEDS_LOCATION
        lang = "es" if i % 5 == 4 else "en"
        category = categories[(i // 3) % len(categories)]
        case = 1_000_000 + i
        made.append(
            Job(
                message,
                lang,
                category,
                ReplyContext(
                    case=case,
                    category=category.name(lang),
                    case_url=case_url.replace("{case}", str(case)) if case_url else None,
                ),
                CaseStatus.NEEDS_LOCATION if message is Reply.NEEDS_LOCATION else CaseStatus.NEW,
            )
        )
    return made


def run(replies: Replies, work: list[Job], storm: StormMode | None) -> tuple[float, list[str]]:
    """Seconds for all of `work`, and the texts."""
    texts = []
    started = time.perf_counter()
    for job in work:
        texts.append(
            replies.render_or_fallback(
                job.message,
                job.lang,
                job.context,
                X_TEXT,
                category_key=job.category.key,
                case_status=job.status,
                storm=storm
                if replies.gets_storm_line(job.message, job.category.priority)
                else None,
            ).text
        )
    return time.perf_counter() - started, texts


def run_templates(replies: Replies, work: list[Job], once: RenderOnce | None) -> float:
    """Seconds for the template step alone of all of `work` (no addressing, no measuring):
    `templating.render`, or `once` where given."""
    env = replies._env
    steps = []
    for job in work:
        name = replies._chosen(job.message, job.lang, job.category.key)
        values = {
            "case": job.context.case,
            "category": job.context.category,
            "hashtags": list(job.context.hashtags),
            "case_url": job.context.case_url,
            "duplicate_of": job.context.duplicate_of,
            "status": job.context.status,
        }
        steps.append((templating.load(env, [name]), values))
    started = time.perf_counter()
    if once is None:
        for template, values in steps:
            templating.render(env, template, values, VARIABLES)
    else:
        for template, values in steps:
            once.render(env, template, values, substituted=NUMBERED, hint=VARIABLES)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replies", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--case-url", default=None, help="e.g. https://311.example.gov/r/{case}")
    parser.add_argument("--storm", action="store_true", help="storm mode: the storm line too")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)

    work = jobs(args.replies, args.case_url)
    storm = StormMode(name="Ida", hashtag="IdaHelp") if args.storm else None
    before = after = template_before = template_after = float("inf")
    renders = 0
    for _ in range(args.repeat):
        shipped = Replies([SHIPPED_TEMPLATES])
        template_before = min(template_before, run_templates(shipped, work, None))
        template_after = min(template_after, run_templates(shipped, work, RenderOnce()))
        # A new Replies each run: the cached one starts empty, as after a restart.
        seconds, plain = run(Replies([SHIPPED_TEMPLATES], cache_size=0), work, storm)
        before = min(before, seconds)
        cached = Replies([SHIPPED_TEMPLATES])
        seconds, texts = run(cached, work, storm)
        after = min(after, seconds)
        renders = cached.once.renders
        if texts != plain:
            print("the cached texts differ from the rendered ones", file=sys.stderr)
            return 1

    per = 1e6 / len(work)
    rows = [
        Row("before_us", "each reply rendered", before * per, "µs a reply"),
        Row("after_us", "each distinct text rendered once", after * per, "µs a reply"),
        Row("speedup", "faster", before / after, "times"),
        Row("template_before_us", "the template alone, rendered", template_before * per, "µs"),
        Row("template_after_us", "the template alone, once", template_after * per, "µs"),
        Row(
            "template_speedup",
            "the template alone, faster",
            template_before / template_after,
            "times",
        ),
        Row("renders", "renders for all replies, after", renders, ""),
    ]
    if args.json:
        print(as_json(rows, replies=len(work), case_url=args.case_url, storm=args.storm))
    else:
        print_table(
            f"Reply texts: {len(work):,} replies, shipped templates, X's rules",
            rows,
            ["identical texts both ways (checked, every reply); best of "
             f"{args.repeat} runs"],
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
