"""Terminal output of ``custseg segment --previous``: what stayed, what changed."""

from __future__ import annotations

from typing import Any

from custseg.cli._common import console

__all__ = ["print_continuity"]


def _say(text: str) -> None:
    # soft_wrap: long paths must not break a line in the middle of a phrase.
    console.print(text, soft_wrap=True)


def print_continuity(block: dict[str, Any] | None) -> None:
    """Matched, new, vanished and renamed segments, and who changed segment."""
    if not block:
        return
    warm = block["warm_start"]
    start = (
        "warm start from the previous centres"
        if warm["used"]
        else "cold fit (the warm start was worse)"
        if warm["possible"]
        else "cold fit (K changed)"
    )
    _say(
        f"Continuity with {block['previous']['source']} ({start}): "
        f"{len(block['matches'])} segment(s) kept their id, {len(block['new'])} new, "
        f"{len(block['vanished'])} vanished, {len(block['renamed'])} renamed."
    )
    for seg in block["new"]:
        _say(
            f"  new       {seg['id']}  {seg['name']} ({seg['size']} customers; nearest "
            f"previous segment {seg['nearest_previous']} at distance {seg['distance']:.2f})"
        )
    for seg in block["vanished"]:
        _say(f"  vanished  {seg['id']}  {seg['name']}")
    for seg in block["renamed"]:
        _say(f"  renamed   {seg['id']}  '{seg['from']}' -> '{seg['to']}'")
    moves = block["transitions"]
    if moves and moves.get("available"):
        share = moves["changed_share"]
        _say(
            f"Customers in both runs: {moves['customers_in_both']}; changed segment: "
            f"{moves['changed']}"
            + (f" ({share:.1%})" if share is not None else "")
            + f"; only in the previous run: {moves['only_previous']}; new: {moves['only_new']}."
        )
