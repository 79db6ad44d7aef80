"""EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) plans as a small tree, the properties the stages check, and a compact
rendering for failure messages: node type, relation or index, actual rows, shared buffers touched.

Only numbers that do not change from run to run appear: actual rows, loops, buffers (hit + read, since which of
the two a page counts as depends on what happens to be cached), heap fetches. Never timings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from labkit.checks import fail

MAX_LINES = 14
MAX_CONDITION = 90
SORT_NODES = ("Sort", "Incremental Sort")
INDEX_NODES = ("Index Scan", "Index Only Scan", "Bitmap Index Scan")
CONDITION_KEYS = ("Index Cond", "Hash Cond", "Merge Cond", "Join Filter", "Filter")


@dataclass
class PlanNode:
    node_type: str
    relation: str | None
    index: str | None
    rows: float
    loops: float
    buffers: int
    heap_fetches: int | None
    relationship: str | None
    subplan_name: str | None
    condition: str | None
    sort_key: str | None
    executed: bool  # from EXPLAIN ANALYZE: actual rows and buffers, not the planner's estimates
    backward: bool = False  # an index read from its end, shown as psql shows it: "Index Scan Backward"
    index_definition: str | None = None  # "btree (customer_id, created_at)", filled in by whoever knows it
    children: list[PlanNode] = field(default_factory=list)

    def walk(self) -> Iterator[PlanNode]:
        yield self
        for child in self.children:
            yield from child.walk()

    def label(self) -> str:
        text = self.node_type + (" Backward" if self.backward else "")
        index = f"{self.index} {self.index_definition}" if self.index_definition else self.index
        if index and self.node_type == "Bitmap Index Scan":
            text += f" on {index}"
        elif index:
            text += f" using {index}"
        if self.relation:
            text += f" on {self.relation}"
        if self.subplan_name:
            text = f"{self.subplan_name}: {text}"
        if not self.executed:
            numbers = f"estimated rows={_number(self.rows)}"
        else:
            numbers = f"rows={_number(self.rows)}"
            if self.loops != 1:
                numbers += f" loops={_number(self.loops)}"
            numbers += f" buffers={self.buffers}"
        if self.heap_fetches is not None:
            numbers += f" heap_fetches={self.heap_fetches}"
        detail = ""
        if self.sort_key:
            detail = f"  sort key: {self.sort_key}"
        elif self.condition:
            detail = f"  {self.condition}"
        if len(detail) > MAX_CONDITION:
            detail = detail[: MAX_CONDITION - 1] + "…"
        return f"{text}  {numbers}{detail}"


def _number(value: float) -> str:
    """1000000 as 1000000 (not 1e+06), an average per loop like 10.79 as is."""
    return str(int(value)) if value.is_integer() else f"{value:.2f}".rstrip("0").rstrip(".")


def parse_plan(document: Any) -> PlanNode:
    """The root node of ``EXPLAIN (FORMAT JSON)`` output (a one-element list holding {"Plan": ...})."""
    return _node(document[0]["Plan"])


def _node(raw: dict[str, Any]) -> PlanNode:
    condition = None
    for key in CONDITION_KEYS:
        if raw.get(key):
            condition = f"{key.lower()}: {raw[key]}"
            break
    sort_key = ", ".join(raw["Sort Key"]) if raw.get("Sort Key") else None
    return PlanNode(
        node_type=raw["Node Type"],
        relation=raw.get("Relation Name"),
        index=raw.get("Index Name"),
        rows=float(raw.get("Actual Rows", raw.get("Plan Rows", 0))),
        loops=float(raw.get("Actual Loops", 1)),
        buffers=int(raw.get("Shared Hit Blocks", 0)) + int(raw.get("Shared Read Blocks", 0)),
        heap_fetches=raw.get("Heap Fetches"),
        relationship=raw.get("Parent Relationship"),
        subplan_name=raw.get("Subplan Name"),
        condition=condition,
        sort_key=sort_key,
        executed="Actual Rows" in raw,
        backward=raw.get("Scan Direction") == "Backward",
        children=[_node(child) for child in raw.get("Plans", [])],
    )


def render(root: PlanNode, marked: PlanNode | None = None) -> str:
    """The plan as an indented tree; ``marked`` gets a ``>`` so the learner sees which node broke the rule."""
    lines: list[str] = []
    total = 0

    def visit(node: PlanNode, depth: int) -> None:
        nonlocal total
        total += 1
        if len(lines) < MAX_LINES:
            pointer = ">" if node is marked else " "
            lines.append(f"  {pointer} {'  ' * depth}{node.label()}")
        for child in node.children:
            visit(child, depth + 1)

    visit(root, 0)
    if total > len(lines):
        lines.append(f"    … {total - len(lines)} more plan nodes")
    return "\n".join(lines)


@dataclass
class Plan:
    """One executed plan of one call of a learner query, with the checks the stages make on it."""

    call: str  # e.g. "orders_on_day($1 day = '2023-05-01')"
    root: PlanNode

    @property
    def buffers(self) -> int:
        return self.root.buffers

    def find(self, predicate: Callable[[PlanNode], bool]) -> PlanNode | None:
        return next((node for node in self.root.walk() if predicate(node)), None)

    def violation(self, what: str, node: PlanNode | None, hint: str) -> None:
        fail(f"the plan of {self.call} {what}:\n{render(self.root, node)}", hint=hint)

    def forbid_seq_scan(self, relation: str, hint: str) -> None:
        node = self.find(lambda n: n.node_type == "Seq Scan" and n.relation == relation)
        if node is not None:
            self.violation(f"reads all of {relation} with a Seq Scan", node, hint)

    def forbid_sort(self, hint: str) -> None:
        node = self.find(lambda n: n.node_type in SORT_NODES)
        if node is not None:
            self.violation(f"sorts rows ({node.node_type}) instead of reading them in order from an index", node, hint)

    def forbid_subplans(self, hint: str) -> None:
        node = self.find(lambda n: n.relationship == "SubPlan")
        if node is not None:
            self.violation(
                f"runs a correlated subquery ({node.subplan_name or 'SubPlan'}) {_number(node.loops)} times", node, hint
            )

    def require_index_only_scan(self, relation: str, hint: str) -> None:
        node = self.find(lambda n: n.relation == relation)
        scan = self.find(lambda n: n.node_type == "Index Only Scan" and n.relation == relation)
        if scan is None:
            self.violation(f"reads {relation} without an Index Only Scan", node, hint)
        elif scan.heap_fetches:
            self.violation(f"has an Index Only Scan that still visits the table {scan.heap_fetches} times", scan, hint)

    def expect_buffers_at_most(self, budget: int, hint: str) -> None:
        if self.buffers > budget:
            self.violation(f"touches {self.buffers} shared buffers; the budget is {budget}", self.root, hint)

    def indexes_on(self, relation: str, index_tables: dict[str, str]) -> list[PlanNode]:
        """Index scan nodes reading ``relation``'s indexes (a Bitmap Index Scan names only its index)."""
        return [
            n for n in self.root.walk() if n.node_type in INDEX_NODES and index_tables.get(n.index or "") == relation
        ]
