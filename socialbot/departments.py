"""The departments a case can be handed to: those the catalog names (each category's), and those
the districts file names for its overrides. `cases assign --to` takes one of them, however it is
typed: case, accents, dashes and spaces are folded as the catalog folds a hashtag, so
"public works highway" is the catalog's "Public Works – Highway". A name that is none of them is
refused with the nearest few (a typo must not open a department nobody reads); `--force` assigns
to a new one on purpose.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable

from socialbot.catalog import Catalog
from socialbot.districts import Districts
from socialbot.errors import UnknownDepartment

# How many near names the refusal offers, and how alike a name must be to be offered.
SUGGESTIONS = 3
ALIKE = 0.6


def known_departments(catalog: Catalog, districts: Districts | None = None) -> tuple[str, ...]:
    """Every department named by the catalog's categories and the districts' overrides, sorted,
    each once (as first spelt)."""
    names = [category.department for category in catalog.categories]
    if districts is not None:
        names += [n for d in districts.districts for n in d.department_overrides.values()]
    found: dict[str, str] = {}
    for name in names:
        found.setdefault(fold(name), name)
    return tuple(sorted(found.values(), key=fold))


def fold(name: str) -> str:
    """The key a department is matched by: no accents, case-folded, as the catalog folds a
    hashtag (`normalize_tag`); no dashes (typed as `-`, `–` or left out); every run of spaces
    one space."""
    plain = _no_marks(_no_marks(name).casefold())
    return " ".join("".join(" " if unicodedata.category(c) == "Pd" else c for c in plain).split())


def _no_marks(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def department_named(text: str, known: Iterable[str]) -> str:
    """The department of `known` that `text` names, as the catalog spells it; UnknownDepartment,
    with the nearest names, when it names none."""
    # Spaces do not count either: "Non-Emergency" typed "NonEmergency" or "non emergency".
    exact = {fold(name).replace(" ", ""): name for name in known}
    key = fold(text)
    if key.replace(" ", "") in exact:
        return exact[key.replace(" ", "")]
    near = nearest(key, {fold(name): name for name in known})
    hint = (
        "did you mean " + ", ".join(repr(name) for name in near) + "?"
        if near
        else "the catalog's `department:` fields (SOCIALBOT_HASHTAGS) list them"
    )
    raise UnknownDepartment(
        f"--to {text!r}: no department of the catalog or districts is called that; {hint} "
        "(--force assigns to a new department)",
        near,
    )


def nearest(key: str, by_key: dict[str, str]) -> tuple[str, ...]:
    """The names most like `key` (folded): those holding every word of it first, then the most
    alike by spelling."""
    words = key.split()

    def score(candidate: str) -> tuple[bool, float]:
        held = bool(words) and all(
            any(part.startswith(w) for part in candidate.split()) for w in words
        )
        return held, difflib.SequenceMatcher(None, key, candidate).ratio()

    ranked = sorted(by_key, key=lambda candidate: score(candidate), reverse=True)
    chosen = [c for c in ranked if score(c)[0] or score(c)[1] >= ALIKE][:SUGGESTIONS]
    return tuple(by_key[c] for c in chosen)
