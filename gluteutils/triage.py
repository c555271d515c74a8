"""The symptom questionnaire: red flags first, then a transparent ranking of likely causes.

Content lives as data in ``data/questionnaire/`` (questions, conditions with their feature
weights, triage rules, self-care advice, services), validated against
``data/questionnaire/schema.json`` and cross-checked (question ids, allowed values, services,
reference keys) by :func:`load_content`.

:func:`assess` is pure and deterministic: a mapping of answers in, a :class:`TriageResult`
out with

1. a triage level (``emergency``, ``urgent``, ``routine``, ``self_care``) and the rules and
   answers that set it - any red flag forces ``emergency`` or ``urgent``, and an unanswered
   warning question (or a red-flag rule that could still fire on unknown answers) keeps the
   level at ``routine`` or above;
2. the likely causes ranked by a naive-Bayes score, ``ln(prior) + sum(ln(LR))``, with every
   answer's contribution (the weights are labelled expert judgement unless published);
3. a self-care plan matched to the top cause and stage (none when a rule fired), and the
   service that fits.

Unknown or skipped answers are allowed (leave the key out or pass ``None``); they lower the
confidence shown. An answer that is not allowed raises
:class:`~gluteutils.errors.InvalidAnswerError` naming the question.

This is an educational tool, not a diagnosis.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from gluteutils._content import check_schema, read_yaml
from gluteutils._paths import PROJECT_ROOT, data_path
from gluteutils.errors import ContentError, InvalidAnswerError

#: Label used in the content for a number or claim that is the author's own judgement.
EXPERT = "expert_judgement"
#: Triage levels, most severe first.
LEVELS: tuple[str, ...] = ("emergency", "urgent", "routine", "self_care")
LEVEL_TEXT: dict[str, str] = {
    "emergency": "Emergency: seek medical attention now (emergency department or ambulance).",
    "urgent": "Urgent: see a doctor within the next few days (sooner if it gets worse).",
    "routine": "Routine: book an appointment with the service suggested below.",
    "self_care": "Self-care: no warning signs in your answers, so the self-care plan below is a "
    "reasonable start; see the suggested service if it is not improving within 1-2 weeks, and "
    "seek care sooner if it gets worse or a warning sign appears.",
}
#: Shown with every ranking: the percentages only compare the causes this tool covers.
CAUSES_CAVEAT = ("Percentages compare only the {n} common causes this tool covers and assume "
                 "one of them is the cause; they are not a diagnosis.")
DISCLAIMER = ("Educational tool, not a diagnosis. Weights marked expert_judgement are the "
              "author's estimates, not published values.")
ACUTE_DURATIONS = frozenset({"under_3_days", "days_3_to_14"})
CHRONIC_DURATIONS = frozenset({"weeks_6_to_12", "over_3_months"})
SELF_CARE_MAX_NPRS = 6  # expert judgement: stronger pain is worth a clinician's look
SELF_CARE_MIN_PROBABILITY = 0.5  # expert judgement: only when the top cause is clear
#: Below this top-cause probability the answers do not point to one cause: the plan keeps to
#: general advice and the service is a general physiotherapy assessment (expert judgement).
UNCLEAR_BELOW = 0.35

Answer = bool | int | str | None

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
class Feature:
    """An answer pattern that multiplies a condition's odds by ``lr`` (``lr_else`` if not)."""

    clause: Clause
    lr: float
    lr_else: float | None
    basis: str
    weight: str


@dataclass(frozen=True)
class Condition:
    """A likely (non-serious) cause of buttock pain and its features."""

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


@dataclass(frozen=True)
class Rule:
    """A triage rule: a red flag (stops the wizard) or an escalation."""

    id: str
    serious_condition: str
    kind: str
    level: str
    when_all: tuple[Clause, ...]
    source: str


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


@lru_cache(maxsize=8)
def _load(folder: str) -> Content:
    from gluteutils.references import reference_table

    root = Path(folder)
    schema = json.loads((root / "schema.json").read_text(encoding="utf-8"))
    docs: dict[str, Any] = {}
    for name, filename in CONTENT_FILES.items():
        path = root / filename
        docs[name] = read_yaml(path)
        _schema_check(name, path, docs[name], schema)
    known = set(reference_table().index)

    # questions and groups
    qpath = root / CONTENT_FILES["questions"]
    questions: dict[str, Question] = {}
    groups: list[Group] = []
    for g in docs["questions"]["groups"]:
        ids: list[str] = []
        for raw in g["questions"]:
            qid = str(raw["id"])
            if qid in questions:
                raise ContentError(qpath, f"question id {qid!r} is used twice")
            show_if = None
            if "show_if" in raw:
                dep = str(raw["show_if"]["question"])
                if dep not in questions:
                    raise ContentError(qpath, f"{qid}: show_if refers to {dep!r}, which must be "
                                              "an earlier question")
                show_if = (dep, tuple(raw["show_if"]["in"]))
            if raw.get("source"):
                _check_source(qpath, qid, str(raw["source"]), known)
            questions[qid] = Question(
                id=qid, text=str(raw["text"]), type=str(raw["type"]), group=str(g["id"]),
                red_flag=bool(g.get("red_flag", False)), minimum=raw.get("min"),
                maximum=raw.get("max"),
                choices=tuple((str(c["value"]), str(c["label"])) for c in raw.get("choices", [])),
                show_if=show_if, source=raw.get("source"))
            ids.append(qid)
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

    services = {str(s["id"]): Service(str(s["id"]), str(s["name"]), str(s["description"]))
                for s in docs["services"]}

    cpath = root / CONTENT_FILES["conditions"]
    conditions: list[Condition] = []
    for raw in docs["conditions"]:
        cid = str(raw["id"])
        for key in raw["sources"]:
            _check_source(cpath, cid, str(key), known)
        _check_source(cpath, cid, str(raw["prior_source"]), known)
        for role in ("service", "athlete_service", "pelvic_service", "chronic_service"):
            if raw.get(role) and raw[role] not in services:
                raise ContentError(cpath, f"{cid}: {role} {raw[role]!r} is not in services.yaml")
        features = []
        for i, f in enumerate(raw["features"], start=1):
            clause = _clause(f["when"])
            _check_clause(cpath, f"{cid} feature {i}", clause, questions)
            _check_source(cpath, f"{cid} feature {i}", str(f["basis"]), known)
            _check_source(cpath, f"{cid} feature {i}", str(f["weight"]), known)
            features.append(Feature(clause, float(f["lr"]),
                                    float(f["lr_else"]) if "lr_else" in f else None,
                                    str(f["basis"]), str(f["weight"])))
        conditions.append(Condition(
            id=cid, name=str(raw["name"]), summary=str(raw["summary"]),
            sources=tuple(str(s) for s in raw["sources"]), prior=float(raw["prior"]),
            prior_source=str(raw["prior_source"]), self_care_ok=bool(raw["self_care_ok"]),
            service=str(raw["service"]), athlete_service=raw.get("athlete_service"),
            pelvic_service=raw.get("pelvic_service"), chronic_service=raw.get("chronic_service"),
            features=tuple(features)))
    if len({c.id for c in conditions}) != len(conditions):
        raise ContentError(cpath, "condition ids must be unique")

    rpath = root / CONTENT_FILES["red_flags"]
    rules: list[Rule] = []
    for raw in docs["red_flags"]:
        clauses = tuple(_clause(c) for c in raw["when_all"])
        for clause in clauses:
            _check_clause(rpath, str(raw["id"]), clause, questions)
        _check_source(rpath, str(raw["id"]), str(raw["source"]), known)
        rules.append(Rule(str(raw["id"]), str(raw["serious_condition"]), str(raw["kind"]),
                          str(raw["level"]), clauses, str(raw["source"])))
    for qid in (q for g in groups if g.red_flag for q in g.question_ids):
        if not any(len(r.when_all) == 1 and r.when_all[0].question == qid and r.kind == "red_flag"
                   for r in rules):
            raise ContentError(rpath, f"red-flag question {qid!r} has no rule of its own")

    spath = root / CONTENT_FILES["self_care"]
    condition_ids = {c.id for c in conditions}
    items: list[SelfCareItem] = []
    for raw in docs["self_care"]:
        unknown = [c for c in raw["conditions"] if c != "all" and c not in condition_ids]
        if unknown:
            raise ContentError(spath, f"{raw['id']}: unknown condition(s) {unknown}")
        _check_source(spath, str(raw["id"]), str(raw["source"]), known)
        items.append(SelfCareItem(str(raw["id"]), str(raw["kind"]), str(raw["text"]),
                                  tuple(str(c) for c in raw["conditions"]), str(raw["stage"]),
                                  str(raw["source"])))
    return Content(tuple(groups), questions, tuple(conditions), tuple(rules), tuple(items),
                   services)


def load_content(folder: str | Path | None = None) -> Content:
    """Load and validate the questionnaire content (cached per folder).

    Raises :class:`~gluteutils.errors.ContentError` naming the file and the problem when a
    file breaks the schema or refers to an unknown question, value, service or reference.
    """
    return _load(str(Path(folder) if folder is not None else data_path("questionnaire")))


# --------------------------------------------------------------------------- answers
def asked(question: Question, answers: Mapping[str, Answer]) -> bool:
    """Return whether ``question`` is asked, given the other answers (skip logic)."""
    if question.show_if is None:
        return True
    dep, values = question.show_if
    return answers.get(dep) in values


def validate_answers(answers: Mapping[str, Any], content: Content | None = None
                     ) -> dict[str, Answer]:
    """Check every answer and return the known answers of asked questions, in content order.

    ``None`` means unknown. Answers to questions that skip logic did not ask are dropped.
    Raises :class:`~gluteutils.errors.InvalidAnswerError` naming the first bad question.
    """
    content = content or load_content()
    for qid in sorted(answers):
        value = answers[qid]
        question = content.questions.get(qid)
        if question is None:
            raise InvalidAnswerError(qid, value, "a question id from data/questionnaire/"
                                                 "questions.yaml")
        if not question.is_valid(value):
            raise InvalidAnswerError(qid, value, question.expected())
    clean: dict[str, Answer] = {}
    for qid, question in content.questions.items():
        value = answers.get(qid)
        if value is not None and asked(question, clean):
            clean[qid] = value
    return clean


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Contribution:
    """How one answer (or the prior) moved one condition's score."""

    condition: str
    question: str  # "prior" for the starting point
    answer: str
    lr: float
    basis: str
    weight: str

    @property
    def log_lr(self) -> float:
        """Natural log of the likelihood ratio (positive raises, negative lowers)."""
        return math.log(self.lr)


@dataclass(frozen=True)
class CauseScore:
    """One ranked cause with its score, probability and contributions."""

    condition: str
    name: str
    score: float
    probability: float
    contributions: tuple[Contribution, ...]


@dataclass(frozen=True)
class FiredRule:
    """A triage rule that fired, with the answers that made it fire."""

    id: str
    serious_condition: str
    kind: str
    level: str
    source: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class Section:
    """One part of the printable summary, rendered the same way by every output.

    ``key`` is one of ``level``, ``unanswered``, ``causes``, ``service``, ``plan``, ``note``;
    ``text`` is a paragraph (may be empty) and ``items`` a bullet list (may be empty).
    """

    key: str
    title: str
    text: str = ""
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class TriageResult:
    """Everything :func:`assess` concludes; renders as DataFrames, Markdown and HTML."""

    level: str
    level_reasons: tuple[str, ...]
    fired: tuple[FiredRule, ...]
    causes: tuple[CauseScore, ...]
    stage: str
    plan: tuple[SelfCareItem, ...]
    service: Service
    service_reason: str
    answered: int
    asked: int
    unanswered_red_flags: tuple[str, ...]
    confidence: str
    answers: Mapping[str, Answer] = field(default_factory=dict)
    #: Plain-language text of each entry of ``unanswered_red_flags`` (same order).
    unanswered_text: tuple[str, ...] = ()

    # ---- convenience
    @property
    def red_flag(self) -> bool:
        """Whether any red-flag rule fired."""
        return any(r.kind == "red_flag" for r in self.fired)

    @property
    def top(self) -> str:
        """Id of the top-ranked cause."""
        return self.causes[0].condition

    def rank_of(self, condition_id: str) -> int:
        """1-based rank of ``condition_id``."""
        return [c.condition for c in self.causes].index(condition_id) + 1

    # ---- tidy tables
    def ranking_table(self) -> pd.DataFrame:
        """One row per cause: rank, id, name, score (log-odds) and probability."""
        return pd.DataFrame(
            [{"rank": i, "condition": c.condition, "name": c.name,
              "score": round(c.score, 3), "probability": round(c.probability, 3)}
             for i, c in enumerate(self.causes, start=1)]).set_index("rank")

    def contributions_table(self, top_n: int | None = None) -> pd.DataFrame:
        """Tidy contributions: one row per (cause, answer) with LR, ln(LR) and sources."""
        rows = [{"rank": i, "condition": c.condition, "name": c.name, "question": k.question,
                 "answer": k.answer, "lr": k.lr, "log_lr": round(k.log_lr, 3),
                 "basis": k.basis, "weight": k.weight}
                for i, c in enumerate(self.causes[:top_n], start=1) for k in c.contributions]
        return pd.DataFrame(rows, columns=["rank", "condition", "name", "question", "answer",
                                           "lr", "log_lr", "basis", "weight"])

    def triage_table(self) -> pd.DataFrame:
        """The rules that fired (empty when none did)."""
        return pd.DataFrame([r.__dict__ for r in self.fired],
                            columns=["id", "serious_condition", "kind", "level", "source",
                                     "answers"])

    def plan_table(self) -> pd.DataFrame:
        """The self-care plan: kind (do/avoid), advice text and source."""
        return pd.DataFrame([{"kind": p.kind, "advice": p.text, "source": p.source}
                             for p in self.plan], columns=["kind", "advice", "source"])

    def reference_keys(self) -> list[str]:
        """Reference keys behind everything shown (expert judgement excluded)."""
        keys = [r.source for r in self.fired] + [p.source for p in self.plan]
        for c in self.causes[:3]:
            keys += [k.basis for k in c.contributions]
        return [k for k in dict.fromkeys(keys) if k != EXPERT]

    # ---- text
    def summary(self) -> str:
        """One stable line, e.g. ``"routine; top cause gluteal_tendinopathy (71%)"``."""
        top = self.causes[0]
        flags = f"; red flags: {', '.join(r.id for r in self.fired)}" if self.fired else ""
        return (f"{self.level}; top cause {top.condition} ({top.probability:.0%}); "
                f"service {self.service.id}; confidence {self.confidence}{flags}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary of the whole result."""
        return {
            "level": self.level, "level_text": LEVEL_TEXT[self.level],
            "level_reasons": list(self.level_reasons),
            "fired_rules": [dict(r.__dict__, answers=list(r.answers)) for r in self.fired],
            "causes": [{"condition": c.condition, "name": c.name, "score": round(c.score, 4),
                        "probability": round(c.probability, 4),
                        "contributions": [{"question": k.question, "answer": k.answer,
                                           "lr": k.lr, "log_lr": round(k.log_lr, 4),
                                           "basis": k.basis, "weight": k.weight}
                                          for k in c.contributions]}
                       for c in self.causes],
            "stage": self.stage,
            "self_care": [{"kind": p.kind, "advice": p.text, "source": p.source}
                          for p in self.plan],
            "service": {"id": self.service.id, "name": self.service.name,
                        "reason": self.service_reason},
            "confidence": self.confidence, "answered": self.answered, "asked": self.asked,
            "unanswered_red_flags": list(self.unanswered_red_flags),
            "answers": dict(self.answers),
        }

    def sections(self, top_n: int = 3) -> tuple[Section, ...]:
        """The summary as an ordered list of sections, shared by every output.

        Markdown, HTML (saved summary), the wizard's summary page and the command line all
        render these, so a safety message shown by one is shown by all.
        """
        out = [Section("level", LEVEL_TEXT[self.level], items=self.level_reasons)]
        if self.unanswered_red_flags:
            texts = self.unanswered_text or self.unanswered_red_flags
            out.append(Section(
                "unanswered", "Warning questions not answered",
                "Please answer them with a clinician; until they are answered, self-care "
                "alone is not advised.",
                tuple(f"{t} ({q})" if t != q else q
                      for q, t in zip(self.unanswered_red_flags, texts, strict=True))))
        out.append(Section(
            "causes", f"Likely causes (confidence: {self.confidence}; answered "
                      f"{self.answered} of {self.asked} questions)",
            CAUSES_CAVEAT.format(n=len(self.causes)),
            tuple(f"{c.name}: {c.probability:.0%}" for c in self.causes[:top_n])))
        out.append(Section("service", f"Service: {self.service.name}", self.service_reason))
        if self.plan:
            out.append(Section("plan", "Self-care plan", items=tuple(p.text for p in self.plan)))
        out.append(Section("note", "Note", DISCLAIMER))
        return tuple(out)

    def to_text(self, top_n: int = 3) -> str:
        """A plain-text summary (the command line's output)."""
        lines: list[str] = []
        for sec in self.sections(top_n):
            lines.append(sec.title + (":" if sec.key not in ("level", "service") else ""))
            if sec.text:
                lines.append(f"  {sec.text}")
            lines += [f"  - {i}" for i in sec.items]
        return "\n".join(lines)

    def to_markdown(self, top_n: int = 3) -> str:
        """A printable Markdown summary."""
        lines = ["# Buttock pain questionnaire: summary", ""]
        for sec in self.sections(top_n):
            if sec.key == "level":
                lines += [f"**{sec.title}**", ""]
            elif sec.key == "note":
                lines += [f"_{sec.text}_"]
                continue
            else:
                lines += [f"## {sec.title}", ""]
            if sec.text:
                lines += [sec.text, ""]
            if sec.key == "causes":
                for i, c in enumerate(self.causes[:top_n], start=1):
                    lines.append(f"{i}. **{c.name}** - {c.probability:.0%}")
                    for k in sorted(c.contributions, key=lambda k: -abs(k.log_lr))[:6]:
                        sign = "raised" if k.lr > 1 else "lowered"
                        lines.append(f"   - {k.answer}: {sign} (x{k.lr:g}; {k.weight})")
            else:
                lines += [f"- {i}" for i in sec.items]
            if sec.items or sec.key == "causes":
                lines.append("")
        return "\n".join(lines)

    def sections_html(self, top_n: int = 3, *, details: bool = True) -> list[str]:
        """HTML fragments, one per section (``details``: per-cause contribution tables)."""
        e = html.escape
        parts: list[str] = []
        for sec in self.sections(top_n):
            items = "".join(f"<li>{e(i)}</li>" for i in sec.items)
            text = f"<p>{e(sec.text)}</p>" if sec.text else ""
            if sec.key == "level":
                parts.append(f"<div class='level'><b>{e(sec.title)}</b><ul>{items}</ul></div>")
            elif sec.key == "unanswered":
                parts.append(f"<div class='unanswered'><h2>{e(sec.title)}</h2>{text}"
                             f"<ul>{items}</ul></div>")
            elif sec.key == "causes":
                body = [f"<h2>{e(sec.title)}</h2>{text}"]
                if not details:
                    body.append(f"<ol>{items}</ol>")
                for i, c in enumerate(self.causes[:top_n] if details else (), start=1):
                    body.append(f"<h3>{i}. {e(c.name)} ({c.probability:.0%})</h3><table><tr>"
                                "<th>Answer</th><th>Effect (x LR)</th><th>Weight source</th>"
                                "</tr>")
                    body += [f"<tr><td>{e(k.answer)}</td><td>x{k.lr:g}</td><td>{e(k.weight)}"
                             "</td></tr>" for k in c.contributions]
                    body.append("</table>")
                parts.append("".join(body))
            elif sec.key == "note":
                parts.append(f"<p><i>{e(sec.text)}</i></p>")
            else:
                parts.append(f"<h2>{e(sec.title)}</h2>{text}" + (f"<ul>{items}</ul>"
                                                                 if items else ""))
        return parts

    def to_html(self, title: str = "Buttock pain questionnaire: summary", top_n: int = 3) -> str:
        """A standalone, printable HTML page (no scripts, inline style)."""
        e = html.escape
        head = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{e(title)}"
                "</title><style>body{font-family:sans-serif;max-width:50em;margin:2em auto;}"
                ".level{padding:.6em;border:2px solid #333}"
                ".unanswered{padding:.2em .6em;border:2px solid #c66a00}"
                "td,th{border:1px solid #ccc;padding:.2em .5em}table{border-collapse:collapse}"
                f"</style></head><body><h1>{e(title)}</h1>")
        return head + "".join(self.sections_html(top_n)) + "</body></html>"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


# --------------------------------------------------------------------------- the engine
def fired_rules(answers: Mapping[str, Answer], content: Content | None = None
                ) -> tuple[FiredRule, ...]:
    """Return the triage rules that fire for (validated) ``answers``, most severe first."""
    content = content or load_content()
    out = []
    for rule in content.rules:
        if all(c.holds(answers) for c in rule.when_all):
            shown = tuple(f"{content.questions[c.question].text} -> "
                          f"{content.questions[c.question].label(answers.get(c.question))}"
                          for c in rule.when_all)
            out.append(FiredRule(rule.id, rule.serious_condition, rule.kind, rule.level,
                                 rule.source, shown))
    return tuple(sorted(out, key=lambda r: LEVELS.index(r.level)))


def unanswered_warning_questions(answers: Mapping[str, Answer], content: Content | None = None
                                 ) -> tuple[str, ...]:
    """Ids of the questions that could still set a red flag, in content order.

    These are the warning (red-flag group) questions left unanswered, plus the unanswered
    questions of any red-flag rule that has not fired but could: at least one of its clauses
    holds and none is known to fail (e.g. a fall with age and thin bones unknown). A rule none
    of whose questions is answered is not counted on its own.
    """
    content = content or load_content()
    missing = {q for q in content.red_flag_questions if answers.get(q) is None}
    for rule in content.rules:
        if rule.kind != "red_flag":
            continue
        states = [c.holds(answers) for c in rule.when_all]
        if False in states or None not in states or True not in states:
            continue
        missing |= {c.question for c, ok in zip(rule.when_all, states, strict=True)
                    if ok is None and asked(content.questions[c.question], answers)}
    return tuple(q for q in content.questions if q in missing)


def score_conditions(answers: Mapping[str, Answer], content: Content | None = None
                     ) -> tuple[CauseScore, ...]:
    """Rank the conditions: score = ln(prior) + sum ln(LR); ties broken by content order."""
    content = content or load_content()
    scored = []
    for order, cond in enumerate(content.conditions):
        contribs = [Contribution(cond.id, "prior", "starting point (prior)", cond.prior,
                                 cond.prior_source, cond.prior_source)]
        for f in cond.features:
            holds = f.clause.holds(answers)
            if holds is None:
                continue
            lr = f.lr if holds else f.lr_else
            if lr is None:
                continue
            q = content.questions[f.clause.question]
            contribs.append(Contribution(cond.id, q.id, f"{q.text} {q.label(answers[q.id])}",
                                         lr, f.basis, f.weight))
        score = sum(k.log_lr for k in contribs)
        scored.append((score, order, cond, tuple(contribs)))
    top = max(s for s, *_ in scored)
    total = sum(math.exp(s - top) for s, *_ in scored)
    ranked = sorted(scored, key=lambda t: (-round(t[0], 9), t[1]))
    return tuple(CauseScore(c.id, c.name, s, math.exp(s - top) / total, k)
                 for s, _, c, k in ranked)


def _stage(answers: Mapping[str, Answer]) -> str:
    duration = answers.get("duration")
    if duration in ACUTE_DURATIONS:
        return "acute"
    if duration in CHRONIC_DURATIONS:
        return "chronic"
    if duration is None and answers.get("onset") in (
            "sudden_during_activity", "fall_or_blow", "day_after_exercise"):
        return "acute"
    return "subacute"


def _plan(cond: Condition, stage: str, content: Content, *, general_only: bool = False
          ) -> tuple[SelfCareItem, ...]:
    items = [i for i in content.self_care
             if ((cond.id in i.conditions and not general_only) or "all" in i.conditions)
             and (i.stage == "any" or i.stage == stage)]
    return tuple(sorted(items, key=lambda i: i.kind != "do"))


def _service(level: str, cond: Condition, answers: Mapping[str, Answer], content: Content
             ) -> tuple[Service, str]:
    if level == "emergency":
        return content.services["emergency_department"], "A warning sign needs care now."
    if level == "urgent":
        return content.services["doctor"], "A warning sign needs a doctor's check within days."
    sid, why = cond.service, f"Usual first service for {cond.name.lower()}."
    if cond.pelvic_service and (answers.get("pelvic_symptoms") or
                                answers.get("pregnancy_postpartum")):
        sid, why = cond.pelvic_service, "Pelvic symptoms or pregnancy/after birth."
    elif cond.athlete_service and answers.get("regular_sport"):
        sid, why = cond.athlete_service, "You train or play sport regularly."
    elif cond.chronic_service and answers.get("duration") == "over_3_months":
        sid, why = cond.chronic_service, "Long-standing pain: a progressive exercise plan."
    if level == "self_care":
        why = "Only if it is not improving within 1-2 weeks. " + why
    return content.services[sid], why


def assess(answers: Mapping[str, Any], content: Content | None = None) -> TriageResult:
    """Assess one person's answers (question id -> answer; missing or ``None`` = unknown).

    Pure and deterministic: the same answers (in any order) give the same result.
    """
    content = content or load_content()
    clean = validate_answers(answers, content)
    fired = fired_rules(clean, content)
    causes = score_conditions(clean, content)
    top = content.condition(causes[0].condition)
    missing_flags = unanswered_warning_questions(clean, content)
    reasons: list[str]
    if fired:
        level = fired[0].level
        reasons = [f"{r.serious_condition} ({r.level}): " + "; ".join(r.answers)
                   for r in fired]
    else:
        nprs = clean.get("nprs")
        blockers = []
        if not top.self_care_ok:
            blockers.append(f"the top cause ({top.name}) is best checked by a clinician")
        if causes[0].probability < SELF_CARE_MIN_PROBABILITY:
            blockers.append(f"the top cause is not clear ({causes[0].probability:.0%})")
        if isinstance(nprs, int) and nprs > SELF_CARE_MAX_NPRS:
            blockers.append(f"pain is {nprs}/10 (above {SELF_CARE_MAX_NPRS})")
        if clean.get("duration") in CHRONIC_DURATIONS:
            blockers.append("the pain has lasted 6 weeks or more")
        if clean.get("leg_weakness"):
            blockers.append("a leg or foot is weak")
        fit = (f"your answers fit {top.name} best of the {len(causes)} common causes this tool "
               f"compares ({causes[0].probability:.0%})")
        if missing_flags:
            # Never "no warning signs" when a warning question is unanswered or a red-flag
            # rule could still fire on the unknown answers: at least a routine check.
            level = "routine"
            reasons = ["Warning questions not answered: " + ", ".join(missing_flags)
                       + "; self-care alone is not advised until a clinician has asked them",
                       *[b[0].upper() + b[1:] for b in blockers]]
        elif blockers:
            level = "routine"
            reasons = ["No warning signs; " + r for r in blockers]
        else:
            level = "self_care"
            reasons = [f"No warning signs; {fit}"
                       + (f"; pain {nprs}/10" if nprs is not None else "")]
    stage = _stage(clean)
    clear = causes[0].probability >= UNCLEAR_BELOW
    # Any rule that fired (red flag or escalation): no cause-specific self-care plan; the
    # level text says to seek care sooner if it gets worse.
    plan = () if fired else _plan(top, stage, content, general_only=not clear)
    service, why = _service(level, top, clean, content)
    if not clear and level in ("routine", "self_care"):
        service = content.services["physiotherapy"]
        why = ("The answers do not point clearly to one cause; a physiotherapist can assess "
               "you and refer on if needed.")
    non_flag = [q for q in content.questions.values()
                if not q.red_flag and asked(q, clean)]
    answered = sum(1 for q in non_flag if q.id in clean)
    fraction = answered / len(non_flag) if non_flag else 0.0
    p1 = causes[0].probability
    if missing_flags or fraction < 0.5 or p1 < UNCLEAR_BELOW:
        confidence = "low"
    elif fraction >= 0.8 and p1 >= 0.6:
        confidence = "high"
    else:
        confidence = "moderate"
    return TriageResult(level=level, level_reasons=tuple(reasons), fired=fired, causes=causes,
                        stage=stage, plan=plan, service=service, service_reason=why,
                        answered=answered, asked=len(non_flag),
                        unanswered_red_flags=missing_flags, confidence=confidence,
                        answers=clean,
                        unanswered_text=tuple(content.questions[q].text
                                              for q in missing_flags))


def question_table(content: Content | None = None) -> pd.DataFrame:
    """Every question as a tidy table: group, id, type, allowed answers, source."""
    content = content or load_content()
    return pd.DataFrame([{"group": q.group, "red_flag": q.red_flag, "question": q.id,
                          "type": q.type, "allowed": q.expected().replace(" or null (unknown)",
                                                                          ""),
                          "source": q.source or ""} for q in content.questions.values()])


def weights_table(content: Content | None = None) -> pd.DataFrame:
    """Every condition feature as a tidy table: condition, feature, LR, LR-else, sources."""
    content = content or load_content()
    rows = []
    for c in content.conditions:
        rows.append({"condition": c.id, "feature": "prior", "lr": c.prior, "lr_else": None,
                     "basis": c.prior_source, "weight": c.prior_source})
        for f in c.features:
            rows.append({"condition": c.id, "feature": f.clause.describe(content.questions),
                         "lr": f.lr, "lr_else": f.lr_else, "basis": f.basis,
                         "weight": f.weight})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- vignettes
def vignette_dir() -> Path:
    """The project's vignette set (``tests/vignettes/``)."""
    return PROJECT_ROOT / "tests" / "vignettes"


def load_vignettes(folder: str | Path | None = None) -> list[dict[str, Any]]:
    """Load every vignette (``*.yaml``); unlisted warning questions are answered "no"."""
    root = Path(folder) if folder is not None else vignette_dir()
    content = load_content()
    out: list[dict[str, Any]] = []
    for path in sorted(root.glob("*.yaml")):
        for v in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            answers = {q: False for q in content.red_flag_questions}
            answers.update(v["answers"])
            out.append({**v, "answers": answers})
    return out


def evaluate_vignettes(vignettes: Iterable[Mapping[str, Any]] | None = None) -> pd.DataFrame:
    """Assess each vignette; one row each with expected vs obtained triage and cause rank."""
    rows = []
    for v in (load_vignettes() if vignettes is None else vignettes):
        result = assess(v["answers"])
        expected_top = v.get("expected_top")
        rows.append({
            "id": v["id"], "ambiguous": bool(v.get("ambiguous", False)),
            "red_flag_expected": v.get("red_flag") is not None,
            "red_flag_fired": result.red_flag,
            "expected_triage": v["expected_triage"], "triage": result.level,
            "expected_top": expected_top, "top": result.top,
            "rank_of_expected": result.rank_of(expected_top) if expected_top else None,
        })
    return pd.DataFrame(rows)


def accuracy_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Top-1, top-3, triage agreement and red-flag sensitivity from :func:`evaluate_vignettes`."""
    ranked = table[table["expected_top"].notna()]
    flagged = table[table["red_flag_expected"]]
    urgent = flagged["triage"].isin(["emergency", "urgent"])
    metrics = [
        ("top-1 accuracy", (ranked["rank_of_expected"] == 1).mean(), len(ranked)),
        ("top-3 accuracy", (ranked["rank_of_expected"] <= 3).mean(), len(ranked)),
        ("triage agreement", (table["triage"] == table["expected_triage"]).mean(), len(table)),
        ("red-flag sensitivity (emergency or urgent)", urgent.mean(), len(flagged)),
    ]
    return pd.DataFrame([{"metric": m, "value": round(float(v), 3), "n": n}
                         for m, v, n in metrics]).set_index("metric")
