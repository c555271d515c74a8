"""Questionnaire content: the data model and the validated loader for ``data/questionnaire/``.

Every file is checked against ``data/questionnaire/schema.json`` and cross-checked (question
ids, allowed values, services, reference keys, a published figure for every sourced weight)
by :func:`load_content`; a problem raises :class:`~gluteutils.errors.ContentError` naming
the file and the entry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from gluteutils._content import check_schema, read_yaml
from gluteutils._paths import data_path
from gluteutils.errors import ContentError

#: Label used in the content for a number or claim that is the author's own judgement.
EXPERT = "expert_judgement"
#: Triage levels, most severe first.
LEVELS: tuple[str, ...] = ("emergency", "urgent", "routine", "self_care")

Answer = bool | int | str | None

#: Youngest age the questionnaire supports (expert judgement): from about 12 the adolescent
#: causes it covers (growth-plate avulsions, slipped capital femoral epiphysis, sport
#: overload) present much as they do in adults and a young person can answer the questions;
#: in younger children hip and buttock pain (septic arthritis, transient synovitis, Perthes
#: disease, juvenile arthritis) needs a doctor's examination, so the result is "see a doctor".
YOUNGEST_SUPPORTED_AGE = 12

CONTENT_FILES: dict[str, str] = {
    "questions": "questions.yaml",
    "conditions": "conditions.yaml",
    "red_flags": "red_flags.yaml",
    "self_care": "self_care.yaml",
    "services": "services.yaml",
}


# --------------------------------------------------------------------------- content model
@dataclass(frozen=True)
class Question:
    """One question: its id, plain-language text, answer type and allowed values."""

    id: str
    text: str
    type: str
    group: str
    red_flag: bool
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[tuple[str, str], ...] = ()
    show_if: tuple[str, tuple[Any, ...]] | None = None
    source: str | None = None

    def expected(self) -> str:
        """Describe the allowed answers (used in error messages)."""
        if self.type == "boolean":
            return "true, false or null (unknown)"
        if self.type == "integer":
            return f"a whole number from {self.minimum} to {self.maximum}, or null (unknown)"
        return f"one of {[v for v, _ in self.choices]} or null (unknown)"

    def label(self, value: Answer) -> str:
        """Return the answer as plain text (``"yes"``, a choice label, a number)."""
        if value is None:
            return "not answered"
        if self.type == "boolean":
            return "yes" if value else "no"
        if self.type == "choice":
            return dict(self.choices).get(str(value), str(value))
        return str(value)

    def is_valid(self, value: Answer) -> bool:
        """Return whether ``value`` is an allowed answer (``None`` always is)."""
        if value is None:
            return True
        if self.type == "boolean":
            return isinstance(value, bool)
        if self.type == "integer":
            return (isinstance(value, int) and not isinstance(value, bool)
                    and self.minimum is not None and self.maximum is not None
                    and self.minimum <= value <= self.maximum)
        return isinstance(value, str) and value in dict(self.choices)


@dataclass(frozen=True)
class Group:
    """A wizard step: a titled group of questions."""

    id: str
    title: str
    intro: str
    red_flag: bool
    question_ids: tuple[str, ...]


@dataclass(frozen=True)
class Clause:
    """A test on one answer, e.g. ``location == side_of_hip`` or ``age >= 65``."""

    question: str
    op: str
    value: Any

    def holds(self, answers: Mapping[str, Answer]) -> bool | None:
        """Return whether the clause holds; ``None`` when the answer is unknown."""
        got = answers.get(self.question)
        if got is None:
            return None
        if self.op == "eq":
            return bool(got == self.value and type(got) is type(self.value))
        if self.op == "in":
            return got in self.value
        number = float(got)  # integer questions only (checked when content loads)
        limit = float(self.value)
        return {"ge": number >= limit, "gt": number > limit,
                "le": number <= limit, "lt": number < limit}[self.op]

    @property
    def questions(self) -> tuple[str, ...]:
        """The question ids this clause reads."""
        return (self.question,)

    def describe(self, questions: Mapping[str, Question]) -> str:
        """Plain-text description, e.g. ``"Where is the pain mostly? = On the outer side..."``."""
        q = questions[self.question]
        if self.op == "eq":
            return f"{q.text} -> {q.label(self.value)}"
        if self.op == "in":
            return f"{q.text} -> {' or '.join(q.label(v) for v in self.value)}"
        symbol = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}[self.op]
        return f"{q.text} {symbol} {self.value}"


@dataclass(frozen=True)
class CountClause:
    """A published k-of-n criterion: holds when at least ``at_least`` of ``clauses`` hold."""

    clauses: tuple[Clause, ...]
    at_least: int

    @property
    def question(self) -> str:
        """The first question read (used to label the contribution)."""
        return self.clauses[0].question

    @property
    def questions(self) -> tuple[str, ...]:
        """The question ids this clause reads (in order, without repeats)."""
        return tuple(dict.fromkeys(c.question for c in self.clauses))

    def holds(self, answers: Mapping[str, Answer]) -> bool | None:
        """True when enough items hold, False when too many fail, ``None`` if undecided."""
        states = [c.holds(answers) for c in self.clauses]
        if states.count(True) >= self.at_least:
            return True
        if states.count(True) + states.count(None) < self.at_least:
            return False
        return None

    def describe(self, questions: Mapping[str, Question]) -> str:
        """Plain text: ``"at least k of: a; b; c"``."""
        items = dict.fromkeys(c.describe(questions) for c in self.clauses)
        return f"at least {self.at_least} of {len(self.clauses)}: " + "; ".join(items)


@dataclass(frozen=True)
class Feature:
    """An answer pattern that multiplies a condition's odds by ``lr`` (``lr_else`` if not).

    ``weight`` is ``expert_judgement`` or a reference key; a sourced weight also stores the
    published ``figure`` (sensitivity/specificity or LR) it comes from. ``unless``: when this
    answer pattern holds the feature contributes nothing (it describes one form of the
    condition and is no evidence about another, e.g. the older smoker's walking claudication
    versus an endurance athlete's pain at maximal effort); unknown counts as not holding.
    """

    clause: Clause | CountClause
    lr: float
    lr_else: float | None
    basis: str
    weight: str
    figure: str = ""
    unless: Clause | None = None


@dataclass(frozen=True)
class Condition:
    """A cause of buttock pain (``serious`` for the red-flag causes) and its features."""

    id: str
    name: str
    summary: str
    sources: tuple[str, ...]
    prior: float
    prior_source: str
    self_care_ok: bool
    service: str
    athlete_service: str | None
    pelvic_service: str | None
    chronic_service: str | None
    features: tuple[Feature, ...]
    serious: bool = False
    prior_figure: str = ""
    urgent_if_top: bool = False


@dataclass(frozen=True)
class Rule:
    """A triage rule: a red flag (stops the wizard) or an escalation."""

    id: str
    serious_condition: str
    kind: str
    level: str
    when_all: tuple[Clause, ...]
    source: str
    condition: str | None = None
    #: The pattern is not one of the listed causes (e.g. a skin abscess): when the rule
    #: fires the result says it cannot tell the cause instead of ranking a listed one. Only
    #: such a rule may have level ``routine`` (a pattern for a doctor, not a warning sign).
    outside_list: bool = False


@dataclass(frozen=True)
class SelfCareItem:
    """One piece of self-care advice (``kind`` is ``do`` or ``avoid``)."""

    id: str
    kind: str
    text: str
    conditions: tuple[str, ...]
    stage: str
    source: str


@dataclass(frozen=True)
class Service:
    """A service the questionnaire can suggest."""

    id: str
    name: str
    description: str


@dataclass(frozen=True)
class Content:
    """Everything the questionnaire needs, loaded and validated."""

    groups: tuple[Group, ...]
    questions: Mapping[str, Question]
    conditions: tuple[Condition, ...]
    rules: tuple[Rule, ...]
    self_care: tuple[SelfCareItem, ...]
    services: Mapping[str, Service]

    @property
    def red_flag_questions(self) -> tuple[str, ...]:
        """Ids of the questions in the red-flag groups, in order."""
        return tuple(q for g in self.groups if g.red_flag for q in g.question_ids)

    def condition(self, condition_id: str) -> Condition:
        """Return the condition with this id."""
        for c in self.conditions:
            if c.id == condition_id:
                return c
        raise KeyError(condition_id)


# --------------------------------------------------------------------------- loading
def _schema_check(name: str, path: Path, doc: Any, schema: dict[str, Any]) -> None:
    sub = {"$schema": schema.get("$schema"), "$defs": schema["$defs"],
           "$ref": f"#/$defs/{name}"}
    check_schema(doc, sub, path)


def _clause(raw: Mapping[str, Any]) -> Clause:
    (op, value), = [(k, v) for k, v in raw.items() if k != "question"]
    return Clause(str(raw["question"]), str(op), tuple(value) if op == "in" else value)


def _check_source(path: Path, where: str, key: str, known: set[str]) -> None:
    if key != EXPERT and key not in known:
        raise ContentError(path, f"{where}: source {key!r} is neither {EXPERT!r} nor a key in "
                                 "data/references/*.yaml")


def _check_clause(path: Path, where: str, clause: Clause,
                  questions: Mapping[str, Question]) -> None:
    q = questions.get(clause.question)
    if q is None:
        raise ContentError(path, f"{where}: unknown question {clause.question!r}")
    if clause.op in ("ge", "gt", "le", "lt"):
        if q.type != "integer":
            raise ContentError(path, f"{where}: {clause.op} needs an integer question, "
                                     f"{q.id!r} is {q.type}")
        return
    values = clause.value if clause.op == "in" else (clause.value,)
    for v in values:
        if v is None or not q.is_valid(v):
            raise ContentError(path, f"{where}: {v!r} is not an allowed answer to {q.id!r} "
                                     f"(expected {q.expected()})")


def _question(raw: Mapping[str, Any], group: Mapping[str, Any],
              earlier: Mapping[str, Question], qpath: Path, known: set[str]) -> Question:
    qid = str(raw["id"])
    if qid in earlier:
        raise ContentError(qpath, f"question id {qid!r} is used twice")
    show_if = None
    if "show_if" in raw:
        dep = str(raw["show_if"]["question"])
        if dep not in earlier:
            raise ContentError(qpath, f"{qid}: show_if refers to {dep!r}, which must be "
                                      "an earlier question")
        show_if = (dep, tuple(raw["show_if"]["in"]))
    if raw.get("source"):
        _check_source(qpath, qid, str(raw["source"]), known)
    return Question(
        id=qid, text=str(raw["text"]), type=str(raw["type"]), group=str(group["id"]),
        red_flag=bool(group.get("red_flag", False)), minimum=raw.get("min"),
        maximum=raw.get("max"),
        choices=tuple((str(c["value"]), str(c["label"])) for c in raw.get("choices", [])),
        show_if=show_if, source=raw.get("source"))


def _questions(doc: Mapping[str, Any], qpath: Path, known: set[str]
               ) -> tuple[dict[str, Question], list[Group]]:
    questions: dict[str, Question] = {}
    groups: list[Group] = []
    for g in doc["groups"]:
        ids = []
        for raw in g["questions"]:
            q = _question(raw, g, questions, qpath, known)
            questions[q.id] = q
            ids.append(q.id)
        groups.append(Group(str(g["id"]), str(g["title"]), str(g.get("intro", "")),
                            bool(g.get("red_flag", False)), tuple(ids)))
    for q in questions.values():
        if q.show_if is not None:
            dep_q = questions[q.show_if[0]]
            for v in q.show_if[1]:
                if not dep_q.is_valid(v):
                    raise ContentError(qpath, f"{q.id}: show_if value {v!r} is not allowed "
                                              f"for {dep_q.id!r}")
    flag_groups = [g.red_flag for g in groups]
    if flag_groups != sorted(flag_groups, reverse=True):
        raise ContentError(qpath, "red-flag groups must come before all other groups")
    return questions, groups


def _feature(f: Mapping[str, Any], where: str, cpath: Path,
             questions: Mapping[str, Question], known: set[str]) -> Feature:
    clause: Clause | CountClause
    if "when_count" in f:
        items = tuple(_clause(c) for c in f["when_count"]["of"])
        for item in items:
            _check_clause(cpath, where, item, questions)
        clause = CountClause(items, int(f["when_count"]["at_least"]))
    elif "when" in f:
        clause = _clause(f["when"])
        _check_clause(cpath, where, clause, questions)
    else:
        raise ContentError(cpath, f"{where}: needs `when` or `when_count`")
    _check_source(cpath, where, str(f["basis"]), known)
    _check_source(cpath, where, str(f["weight"]), known)
    if f["weight"] != EXPERT and not f.get("figure"):
        raise ContentError(cpath, f"{where}: a sourced weight ({f['weight']}) must quote its "
                                  "published `figure`")
    unless = None
    if "unless" in f:
        unless = _clause(f["unless"])
        _check_clause(cpath, f"{where} unless", unless, questions)
    return Feature(clause, float(f["lr"]), float(f["lr_else"]) if "lr_else" in f else None,
                   str(f["basis"]), str(f["weight"]), str(f.get("figure", "")), unless)


def _conditions(doc: list[Mapping[str, Any]], cpath: Path, questions: Mapping[str, Question],
                services: Mapping[str, Service], known: set[str]) -> list[Condition]:
    conditions: list[Condition] = []
    for raw in doc:
        cid = str(raw["id"])
        for key in [*raw["sources"], raw["prior_source"]]:
            _check_source(cpath, cid, str(key), known)
        if raw["prior_source"] != EXPERT and not raw.get("prior_figure"):
            raise ContentError(cpath, f"{cid}: a sourced prior must quote its `prior_figure`")
        for role in ("service", "athlete_service", "pelvic_service", "chronic_service"):
            if raw.get(role) and raw[role] not in services:
                raise ContentError(cpath, f"{cid}: {role} {raw[role]!r} is not in services.yaml")
        features = tuple(_feature(f, f"{cid} feature {i}", cpath, questions, known)
                         for i, f in enumerate(raw["features"], start=1))
        conditions.append(Condition(
            id=cid, name=str(raw["name"]), summary=str(raw["summary"]),
            sources=tuple(str(s) for s in raw["sources"]), prior=float(raw["prior"]),
            prior_source=str(raw["prior_source"]), self_care_ok=bool(raw["self_care_ok"]),
            service=str(raw["service"]), athlete_service=raw.get("athlete_service"),
            pelvic_service=raw.get("pelvic_service"), chronic_service=raw.get("chronic_service"),
            features=features, serious=bool(raw.get("serious", False)),
            prior_figure=str(raw.get("prior_figure", "")),
            urgent_if_top=bool(raw.get("urgent_if_top", False))))
    if len({c.id for c in conditions}) != len(conditions):
        raise ContentError(cpath, "condition ids must be unique")
    return conditions


def _rules(doc: list[Mapping[str, Any]], rpath: Path, questions: Mapping[str, Question],
           groups: list[Group], known: set[str]) -> list[Rule]:
    rules: list[Rule] = []
    for raw in doc:
        clauses = tuple(_clause(c) for c in raw["when_all"])
        for clause in clauses:
            _check_clause(rpath, str(raw["id"]), clause, questions)
        _check_source(rpath, str(raw["id"]), str(raw["source"]), known)
        if raw["level"] == "routine" and not (raw["kind"] == "escalation"
                                              and raw.get("outside_list")):
            raise ContentError(rpath, f"{raw['id']}: level routine is only for an escalation "
                                      "rule with outside_list: true")
        rules.append(Rule(str(raw["id"]), str(raw["serious_condition"]), str(raw["kind"]),
                          str(raw["level"]), clauses, str(raw["source"]),
                          raw.get("condition"), bool(raw.get("outside_list", False))))
    for qid in (q for g in groups if g.red_flag for q in g.question_ids):
        if not any(len(r.when_all) == 1 and r.when_all[0].question == qid and r.kind == "red_flag"
                   for r in rules):
            raise ContentError(rpath, f"red-flag question {qid!r} has no rule of its own")
    return rules


def _self_care(doc: list[Mapping[str, Any]], spath: Path, condition_ids: set[str],
               known: set[str]) -> list[SelfCareItem]:
    items: list[SelfCareItem] = []
    for raw in doc:
        unknown = [c for c in raw["conditions"] if c != "all" and c not in condition_ids]
        if unknown:
            raise ContentError(spath, f"{raw['id']}: unknown condition(s) {unknown}")
        _check_source(spath, str(raw["id"]), str(raw["source"]), known)
        items.append(SelfCareItem(str(raw["id"]), str(raw["kind"]), str(raw["text"]),
                                  tuple(str(c) for c in raw["conditions"]), str(raw["stage"]),
                                  str(raw["source"])))
    return items


@lru_cache(maxsize=8)
def _load(folder: str) -> Content:
    from gluteutils.references import reference_table

    root = Path(folder)
    schema = json.loads((root / "schema.json").read_text(encoding="utf-8"))
    docs: dict[str, Any] = {}
    for name, filename in CONTENT_FILES.items():
        docs[name] = read_yaml(root / filename)
        _schema_check(name, root / filename, docs[name], schema)
    known = set(reference_table().index)
    questions, groups = _questions(docs["questions"], root / CONTENT_FILES["questions"], known)
    services = {str(s["id"]): Service(str(s["id"]), str(s["name"]), str(s["description"]))
                for s in docs["services"]}
    conditions = _conditions(docs["conditions"], root / CONTENT_FILES["conditions"],
                             questions, services, known)
    rules = _rules(docs["red_flags"], root / CONTENT_FILES["red_flags"], questions, groups,
                   known)
    ids = {c.id for c in conditions}
    for rule in rules:
        if rule.condition is not None and rule.condition not in ids:
            raise ContentError(root / CONTENT_FILES["red_flags"],
                               f"{rule.id}: condition {rule.condition!r} is not in "
                               "conditions.yaml")
    items = _self_care(docs["self_care"], root / CONTENT_FILES["self_care"],
                       {c.id for c in conditions}, known)
    return Content(tuple(groups), questions, tuple(conditions), tuple(rules), tuple(items),
                   services)


def load_content(folder: str | Path | None = None) -> Content:
    """Load and validate the questionnaire content (cached per folder).

    Raises :class:`~gluteutils.errors.ContentError` naming the file and the problem when a
    file breaks the schema or refers to an unknown question, value, service or reference.
    """
    return _load(str(Path(folder) if folder is not None else data_path("questionnaire")))
