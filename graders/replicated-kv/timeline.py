"""A history as a self-contained HTML page: one row per client, one bar per operation, the culprits in red.

An operation's bar runs from its invocation to its completion; an indefinite one (outcome unknown) runs to the
end of the history, hatched; a failed one is grey. The page needs no script and no network: a learner opens the
file in any browser.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from html import escape

from history import Record

STYLE = """
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
.row { position: relative; height: 34px; border-bottom: 1px solid #eee; margin-left: 90px; }
.row .name { position: absolute; left: -90px; top: 8px; width: 84px; color: #555; }
.op { position: absolute; top: 4px; height: 24px; min-width: 6px; box-sizing: border-box; overflow: hidden;
      white-space: nowrap; font-size: 11px; line-height: 24px; padding: 0 3px; border-radius: 3px;
      background: #cfe3ff; border: 1px solid #6c9bd8; }
.op.info { background: repeating-linear-gradient(45deg, #fff3c4, #fff3c4 6px, #ffe38a 6px, #ffe38a 12px);
           border-color: #d1a300; }
.op.fail { background: #eee; border-color: #bbb; color: #777; }
.op.violation { background: #ffb3b3; border: 2px solid #c00; font-weight: bold; z-index: 2; }
.legend span { display: inline-block; margin-right: 1.5em; }
table { border-collapse: collapse; margin-top: 1em; }
td, th { border: 1px solid #ddd; padding: 2px 8px; text-align: left; }
tr.violation td { background: #ffe0e0; }
"""


def render(records: Sequence[Record], culprits: Collection[int], title: str) -> str:
    """The page for ``records``; ``culprits`` are the ids of the operations that cannot be linearized together."""
    end = max([r.completed or r.invoked for r in records] + [1e-9]) * 1.02
    clients = sorted({record.client for record in records})
    rows = []
    for client in clients:
        bars = "".join(_bar(r, r.id in culprits, end) for r in records if r.client == client)
        rows.append(f'<div class="row" data-client="{client}"><span class="name">client {client}</span>{bars}</div>')
    table = "".join(
        f'<tr class="{"violation" if r.id in culprits else ""}"><td>{r.id}</td><td>{r.invoked:.3f}</td>'
        f"<td>{'' if r.completed is None else f'{r.completed:.3f}'}</td><td>{escape(r.describe())}</td>"
        f"<td>{escape('; '.join(r.replies[-4:]))}</td></tr>"
        for r in records
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>"
        "<p class='legend'><span>time runs left to right, one row per client</span>"
        "<span style='color:#c00'>red: operations that cannot all be linearized</span>"
        "<span>hatched: outcome unknown</span><span>grey: failed, did not happen</span></p>"
        f"{''.join(rows)}<table><tr><th>op</th><th>invoked (s)</th><th>completed (s)</th><th>operation</th>"
        f"<th>replies</th></tr>{table}</table></body></html>"
    )


def _bar(record: Record, culprit: bool, end: float) -> str:
    finish = record.completed if record.outcome != "info" and record.completed is not None else end
    left = 100 * record.invoked / end
    width = max(0.3, 100 * (finish - record.invoked) / end)
    classes = " ".join(["op", record.outcome, "violation" if culprit else ""]).strip()
    label = escape(record.describe().split(": ", 1)[1])
    return (
        f'<div class="{classes}" data-op="{record.id}" title="{escape(record.describe())}" '
        f'style="left:{left:.3f}%;width:{width:.3f}%">{label}</div>'
    )
