"""How a resident is shown to staff: the one display function of a person, for every command,
export and report.

On some networks a person's id is personal data in itself (SMS: the id is their phone number);
those networks say so (`app.NetworkKind.personal_ids`) and their ids are shown masked, all but
the last two characters hidden (`sms.phone.mask`). Every other id is shown as it is, except
that a phone number written in E.164 in it is masked all the same (`sms.phone.masked_in`): a
network not yet in the table, or one whose ids nobody thought personal, still never shows a
number in full. Records keep the id whole (a reply is sent to it, reports group by it); only
what is shown is masked. Pure.
"""

from __future__ import annotations

from socialbot.sms.phone import mask, masked_in


def shown_id(author_id: str, *, personal: bool) -> str:
    """`author_id` as staff see it: masked on a network whose ids are personal, else as it is
    but for any phone number in it."""
    return mask(author_id) if personal else masked_in(author_id)


def shown_person(author_id: str, handle: str | None, *, personal: bool) -> str:
    """`@maria` where the network gave a handle, else the id as `shown_id` shows it."""
    if handle:
        return "@" + masked_in(handle.removeprefix("@"))
    return shown_id(author_id, personal=personal)


def shown_handle(handle: str | None) -> str | None:
    """A handle as `--json` and exports write it (no '@'), any phone number in it masked."""
    return masked_in(handle) if handle is not None else None
