"""The result of :func:`gluteutils.triage.assess` and its renderings (tables, text, HTML).

A person sees words (levels, "likely / possible / cannot tell", plain answers); the tables
(:meth:`TriageResult.contributions_table`, :meth:`TriageResult.ranking_table`) hold the
numbers for clinicians and students.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from gluteutils.triage.content import (
    EXPERT,
    YOUNGEST_SUPPORTED_AGE,
    Answer,
    Mapping,
    SelfCareItem,
    Service,
)

LEVEL_TEXT: dict[str, str] = {
    "emergency": "Emergency: call 000 now, or your local emergency number, or go to an "
    "emergency department today.",
    "urgent": "Urgent: see a doctor within the next day or two (sooner if it gets worse).",
    "routine": "Routine: book an appointment with the service suggested below.",
    "self_care": "Self-care: no warning signs in your answers, so the self-care plan below is a "
    "reasonable start; see the suggested service if it is not improving within 1-2 weeks, and "
    "seek care sooner if it gets worse or a warning sign appears.",
}
EMERGENCY_NOW = ("Call 000 now, or your local emergency number. Do not drive yourself. "
                 "Take this summary with you. Causes are not ranked: a doctor needs to see "
                 "you first.")
CAUSES_CAVEAT = ("These words compare only the {n} causes this tool covers; they are not a "
                 "diagnosis.")
CANNOT_TELL_TEXT = ("None of the causes this tool covers explains your answers well, so it "
                    "cannot tell what is causing the pain. Please see a doctor or "
                    "physiotherapist, who can examine you; no specific exercises are "
                    "suggested until then.")
BELOW_AGE_TEXT = ("This questionnaire is written for people aged {age} and over. Buttock and "
                  "hip pain in younger children has its own causes that need a doctor's "
                  "examination: please see a doctor.")
DISCLAIMER = ("Educational tool, not a diagnosis. Weights marked expert_judgement are the "
              "author's estimates, not published values.")


def effect_words(lr: float) -> str:
    """Plain words for a likelihood ratio: ``raises / lowers the chance`` or ``no change``."""
    if lr > 1:
        return "raises the chance"
    if lr < 1:
        return "lowers the chance"
    return "no change"


def likelihood_word(probability: float) -> str:
    """Words for a cause's share: ``likely`` (>= 60%), ``possible`` (>= 20%), ``less likely``."""
    if probability >= 0.6:
        return "likely"
    if probability >= 0.2:
        return "possible"
    return "less likely"


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
    #: True when the rule's pattern is outside the tool's list of causes.
    outside_list: bool = False


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
    #: True when no listed cause explains the answers well (see ``fit``).
    cannot_tell: bool = False
    #: Evidence for the top cause: sum of ln(LR) of its answers (prior excluded).
    fit: float = 0.0
    #: True when the person is younger than the youngest supported age.
    below_supported_age: bool = False

    @property
    def confidence_words(self) -> str:
        """Confidence for a person: ``likely``, ``possible`` or ``cannot tell``."""
        if self.cannot_tell or self.below_supported_age:
            return "cannot tell"
        return {"high": "likely", "moderate": "possible"}.get(self.confidence, "possible")

    # ---- convenience
    @property
    def red_flag(self) -> bool:
        """Whether any red-flag rule fired."""
        return any(r.kind == "red_flag" for r in self.fired)

    @property
    def top(self) -> str | None:
        """Id of the top-ranked cause, or ``None`` when the tool cannot tell."""
        if self.cannot_tell or self.below_supported_age:
            return None
        return self.causes[0].condition

    @property
    def ranked_top(self) -> str:
        """Id of the top-ranked cause even when the fit is poor (for clinicians and audits)."""
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
        warning = [r.id for r in self.fired if r.level != "routine"]
        outside = [r.id for r in self.fired if r.level == "routine"]
        flags = f"; red flags: {', '.join(warning)}" if warning else ""
        flags += f"; outside the list: {', '.join(outside)}" if outside else ""
        cause = "cannot tell" if self.top is None else f"top cause {top.condition}"
        return (f"{self.level}; {cause} ({top.probability:.0%}); "
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
            "confidence": self.confidence, "confidence_words": self.confidence_words,
            "cannot_tell": self.cannot_tell, "fit": round(self.fit, 4),
            "below_supported_age": self.below_supported_age,
            "answered": self.answered, "asked": self.asked,
            "unanswered_red_flags": list(self.unanswered_red_flags),
            "answers": dict(self.answers),
        }

    def sections(self, top_n: int = 3) -> tuple[Section, ...]:
        """The summary as an ordered list of sections, shared by every output.

        Markdown, HTML (saved summary), the wizard's summary page and the command line all
        render these, so a safety message shown by one is shown by all. Words only: no
        question ids or log-ratios. An emergency leads with what to do now and shows no
        ranking of causes; when the tool cannot tell, it says so and shows no cause.
        """
        out = [Section("level", LEVEL_TEXT[self.level], items=self.level_reasons)]
        if self.level == "emergency":
            out[0] = Section("level", LEVEL_TEXT["emergency"], EMERGENCY_NOW,
                             self.level_reasons)
        if self.unanswered_red_flags:
            out.append(Section(
                "unanswered", "Warning questions not answered",
                "Please answer them with a clinician; until they are answered, self-care "
                "alone is not advised.", self.unanswered_text or self.unanswered_red_flags))
        if self.level != "emergency":
            out.append(self._causes_section(top_n))
        out.append(Section("service", f"Service: {self.service.name}", self.service_reason))
        if self.plan:
            out.append(Section("plan", "Self-care plan", items=tuple(p.text for p in self.plan)))
        out.append(Section("note", "Note", DISCLAIMER))
        return tuple(out)

    def _causes_section(self, top_n: int) -> Section:
        if self.below_supported_age:
            return Section("causes", "Likely causes: not assessed",
                           BELOW_AGE_TEXT.format(age=YOUNGEST_SUPPORTED_AGE))
        if self.cannot_tell:
            return Section("causes", "Likely cause: cannot tell", CANNOT_TELL_TEXT)
        return Section(
            "causes", f"Likely causes (confidence: {self.confidence_words}; answered "
                      f"{self.answered} of {self.asked} questions)",
            CAUSES_CAVEAT.format(n=len(self.causes)),
            tuple(f"{c.name}: {likelihood_word(c.probability)}"
                  for c in self.causes[:top_n]))

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
            if sec.key == "causes" and sec.items:
                for i, c in enumerate(self.causes[:top_n], start=1):
                    lines.append(f"{i}. **{c.name}** - {c.probability:.0%}")
                    for k in sorted(c.contributions, key=lambda k: -abs(k.log_lr))[:6]:
                        lines.append(f"   - {k.answer}: {effect_words(k.lr)} ({k.weight})")
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
                parts.append(f"<div class='level'><b>{e(sec.title)}</b>{text}<ul>{items}</ul>"
                             "</div>")
            elif sec.key == "unanswered":
                parts.append(f"<div class='unanswered'><h2>{e(sec.title)}</h2>{text}"
                             f"<ul>{items}</ul></div>")
            elif sec.key == "causes":
                body = [f"<h2>{e(sec.title)}</h2>{text}"]
                if not details or not sec.items:
                    body.append(f"<ol>{items}</ol>" if items else "")
                for i, c in enumerate(self.causes[:top_n] if details and sec.items else (),
                                      start=1):
                    body.append(f"<h3>{i}. {e(c.name)} ({likelihood_word(c.probability)})"
                                "</h3><table><tr><th>Your answer</th><th>Effect</th>"
                                "<th>Source of the weight</th></tr>")
                    body += [f"<tr><td>{e(k.answer)}</td><td>"
                             f"{effect_words(k.lr)}</td>"
                             f"<td>{e(k.weight)}</td></tr>" for k in c.contributions]
                    body.append("</table>")
                parts.append("".join(body))
            elif sec.key == "note":
                parts.append(f"<p><i>{e(sec.text)}</i></p>")
            else:
                parts.append(f"<h2>{e(sec.title)}</h2>{text}" + (f"<ul>{items}</ul>"
                                                                 if items else ""))
        return parts

    def to_html(self, title: str = "Buttock pain questionnaire: summary", top_n: int = 3,
                *, dated: str = "") -> str:
        """A standalone, printable HTML page (no scripts, inline style); ``dated`` is shown
        under the title (e.g. ``"Saved 2026-12-02 05:10 UTC"``)."""
        e = html.escape
        head = (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{e(title)}"
                "</title><style>body{font-family:sans-serif;max-width:50em;margin:2em auto;}"
                ".level{padding:.6em;border:2px solid #333}"
                ".unanswered{padding:.2em .6em;border:2px solid #c66a00}"
                "td,th{border:1px solid #ccc;padding:.2em .5em}table{border-collapse:collapse}"
                f"</style></head><body><h1>{e(title)}</h1>"
                + (f"<p class='dated'>{e(dated)}</p>" if dated else ""))
        return head + "".join(self.sections_html(top_n)) + "</body></html>"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


