"""How well the shipped answers.yaml answers residents: precision and recall on the labelled set.

Precision is what matters: an automatic answer that is wrong is worse than none (a message not
answered goes to staff). The test prints both figures and every wrong answer, and fails under
95 % precision. Run with `-s` to see them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from socialbot.answers import Answers

LABELLED = Path(__file__).resolve().parent / "labelled.yaml"
MIN_PRECISION = 0.95


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    key: str | None  # None: must not be answered automatically


def labelled() -> list[Labelled]:
    data = yaml.safe_load(LABELLED.read_text(encoding="utf-8"))
    return [Labelled(item["text"], item["key"]) for item in data["messages"]]


def test_the_labelled_set_is_big_enough_and_names_real_entries(shipped: Answers) -> None:
    messages = labelled()
    assert len(messages) >= 200
    assert sum(m.key is None for m in messages) >= 70
    assert {m.key for m in messages if m.key is not None} <= {a.key for a in shipped.entries}
    assert len({m.text for m in messages}) == len(messages)


def test_precision_of_automatic_answers_is_at_least_95_percent(shipped: Answers) -> None:
    answered = correct = keyed = 0
    wrong: list[str] = []
    missed: list[str] = []
    for message in labelled():
        found = shipped.match(message.text)
        got = found.answer.key if found is not None else None
        keyed += message.key is not None
        if got is None:
            if message.key is not None:
                missed.append(f"  {message.key:<18} {message.text}")
            continue
        answered += 1
        if got == message.key:
            correct += 1
        else:
            assert found is not None
            wrong.append(f"  {got:<18} ({found.score:.0f}) for {message.key}: {message.text}")
    precision = correct / answered
    recall = correct / keyed
    print(
        f"\nprecision {correct}/{answered} = {precision:.1%}; "
        f"recall {correct}/{keyed} = {recall:.1%}"
    )
    print("wrong answers:", *wrong, sep="\n")
    print("not answered (to staff):", *missed, sep="\n")
    assert precision >= MIN_PRECISION, "\n".join(wrong)


def test_the_answer_comes_in_the_language_of_the_question(shipped: Answers) -> None:
    spanish = shipped.match("@City cuando pasa la basura en mi calle?")
    english = shipped.match("@City when is trash pickup in Dorchester?")
    assert spanish is not None and spanish.answer.key == "trash_day" and spanish.lang == "es"
    assert english is not None and english.answer.key == "trash_day" and english.lang == "en"
