"""How long a post may be on a network, and how that network measures it.

Each network declares its `TextRules` (X: 280 weighted characters; Mastodon: the instance's limit,
every link counting 23, a mention counted without its domain); replies, threads, broadcasts,
`doctor` and the broadcast preview take them from the network they post to, never a constant.
Pure: the rules of each network are built in its own package (`socialbot.networks.<name>`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# The longest handle a length check assumes on a network whose replies name the resident:
# Mastodon's 30-character usernames (its `Account::USERNAME_LENGTH_LIMIT`). The domain is left
# out: Mastodon counts a mention without it. Reply templates and answers.yaml are both measured
# with it; a longer one at run time gets the fallback reply.
LONGEST_HANDLE = "w" * 30


@dataclass(frozen=True, slots=True)
class TextRules:
    """A network's post length: `limit` as `measure` counts it.

    `mention_author`: a reply notifies its resident only if it names them (`@user@instance` on
    Mastodon); on X the thread itself does. `unit` is how the limit reads in a message to staff
    ("weighted characters", "characters").

    `by_words`: a text measures about what its words and gaps measure one by one, which
    `threads.split_thread` fills its posts by. True of every network's characters; not of SMS's
    segments (one "á" turns a whole text UCS-2, and a word is "1 segment" by itself), so a thread
    is never split by those rules: `split_thread` refuses them.
    """

    network: str  # the network's display name, for messages: "X", "Mastodon"
    limit: int
    measure: Callable[[str], int]
    unit: str = "characters"
    mention_author: bool = False
    by_words: bool = True

    def length(self, text: str) -> int:
        return self.measure(text)

    def fits(self, text: str) -> bool:
        return self.measure(text) <= self.limit

    def addressed(self, text: str, handle: str | None) -> str:
        """`text` as a reply to `handle` posts it: led by `@handle` where the network needs the
        name to notify, unless the text already starts with it."""
        if not self.mention_author or not handle:
            return text
        mention = "@" + handle.lstrip("@")
        # Networks match names without case: "@Li" already names li, as "@li" would.
        if [word.casefold() for word in text.split(maxsplit=1)[:1]] == [mention.casefold()]:
            return text
        return f"{mention} {text}"

    def describe(self) -> str:
        """ "X: 280 weighted characters", as `doctor` and the preview say it."""
        return f"{self.network}: {self.limit} {self.unit}"
