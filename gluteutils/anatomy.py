"""Gluteal anatomy: muscle fact cards, sciatic nerve variants, quiz questions, 3D scene data.

Facts live in ``data/anatomy/muscles.yaml`` (validated against ``muscles.schema.json``; every
fact carries source keys that must resolve in the reference list). The 3D scene data (bones
and muscle paths at a hip pose) come from :mod:`gluteutils.mechanics` (MyoLeg model in
MuJoCo) and are joined here with the cards' names and layers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from gluteutils._content import check_schema, read_yaml
from gluteutils._paths import data_path
from gluteutils.errors import ContentError, InvalidAnswerError
from gluteutils.references import check_keys
from gluteutils.straight_line_arms import moment_arm_note

#: Card fields that hold one sourced fact, in display order.
FACT_FIELDS: tuple[str, ...] = ("origin", "insertion", "actions", "nerve", "blood_supply")
FIELD_LABELS: dict[str, str] = {"origin": "Origin", "insertion": "Insertion",
                                "actions": "Actions", "nerve": "Nerve",
                                "blood_supply": "Blood supply"}
LAYERS: tuple[str, ...] = ("superficial", "middle", "deep")
#: Condition ids used across the collection, with display names.
CONDITIONS: dict[str, str] = {
    "doms": "DOMS (delayed onset muscle soreness)",
    "piriformis_syndrome": "piriformis syndrome / deep gluteal syndrome",
    "sciatica_disc": "sciatica (disc herniation)",
    "sciatica_stenosis": "sciatica (spinal stenosis)",
    "gluteal_tendinopathy": "gluteal tendinopathy",
}


def validate_cards(content: Any, file: str = "muscles.yaml") -> list[dict[str, Any]]:
    """Validate muscle-card content against its JSON Schema and the reference list.

    Returns the list of muscle cards; raises :class:`ContentError` naming the first problem
    (schema violation, duplicate id, or a source key that does not resolve).
    """
    schema = json.loads(data_path("anatomy", "muscles.schema.json").read_text("utf-8"))
    check_schema(content, schema, file)
    cards: list[dict[str, Any]] = content["muscles"]
    ids = [c["id"] for c in cards]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ContentError(file, f"duplicate muscle id(s) {dupes}")
    keys = [k for c in cards for k in _all_sources(c)]
    missing = check_keys(keys)
    if missing:
        raise ContentError(file, f"source key(s) {missing} not in data/references/*.yaml")
    return cards


def _all_sources(card: dict[str, Any]) -> list[str]:
    keys = [k for f in FACT_FIELDS for k in card[f]["sources"]]
    keys += [k for cond in card["conditions"] for k in cond["sources"]]
    return keys


@lru_cache(maxsize=4)
def _cards_cached(path: str) -> tuple[dict[str, Any], ...]:
    from pathlib import Path

    p = Path(path)
    return tuple(validate_cards(read_yaml(p), file=p.name))


def muscle_cards() -> list[dict[str, Any]]:
    """Return the validated muscle cards (list of dicts, file order)."""
    return [dict(c) for c in _cards_cached(str(data_path("anatomy", "muscles.yaml")))]


def card(muscle_id: str) -> dict[str, Any]:
    """Return one muscle card by id (e.g. ``"piriformis"``)."""
    for c in muscle_cards():
        if c["id"] == muscle_id:
            return c
    raise KeyError(f"no muscle card {muscle_id!r}; have {[c['id'] for c in muscle_cards()]}")


def _fact_text(card_: dict[str, Any], field: str) -> str:
    value = card_[field]
    if field == "nerve":
        return f"{value['name']} ({', '.join(value['roots'])})"
    return str(value["text"])


def facts_table() -> pd.DataFrame:
    """Return every fact as a tidy table: muscle_id, muscle, layer, field, text, sources."""
    rows = []
    for c in muscle_cards():
        for f in FACT_FIELDS:
            rows.append({"muscle_id": c["id"], "muscle": c["name"], "layer": c["layer"],
                         "field": f, "text": _fact_text(c, f),
                         "sources": ", ".join(c[f]["sources"])})
        for cond in c["conditions"]:
            rows.append({"muscle_id": c["id"], "muscle": c["name"], "layer": c["layer"],
                         "field": f"condition:{cond['id']}", "text": cond["text"],
                         "sources": ", ".join(cond["sources"])})
    return pd.DataFrame(rows)


def muscles_table() -> pd.DataFrame:
    """One row per muscle: id, name, layer, nerve, roots, modelled (bool), conditions."""
    rows = [{"muscle_id": c["id"], "muscle": c["name"], "layer": c["layer"],
             "nerve": c["nerve"]["name"], "roots": "-".join(c["nerve"]["roots"]),
             "modelled": bool(c["model_muscles"]),
             "model_muscles": ", ".join(c["model_muscles"]) or "not modelled",
             "conditions": ", ".join(x["id"] for x in c["conditions"])}
            for c in muscle_cards()]
    return pd.DataFrame(rows)


def condition_links() -> pd.DataFrame:
    """Tidy muscle -> condition links: muscle_id, muscle, condition_id, condition, text, sources."""
    rows = [{"muscle_id": c["id"], "muscle": c["name"], "condition_id": x["id"],
             "condition": CONDITIONS[x["id"]], "text": x["text"],
             "sources": ", ".join(x["sources"])}
            for c in muscle_cards() for x in c["conditions"]]
    return pd.DataFrame(rows)


def card_sources(muscle_ids: Iterable[str] | None = None) -> list[str]:
    """Return the source keys used by the given cards (all when None), first-use order."""
    chosen = set(muscle_ids) if muscle_ids is not None else None
    keys = [k for c in muscle_cards() if chosen is None or c["id"] in chosen
            for k in _all_sources(c)]
    return list(dict.fromkeys(keys))


def _model_note(c: dict[str, Any]) -> str:
    """Empty for a MyoLeg muscle; else where (if anywhere) its moment arm comes from."""
    if c["model_muscles"]:
        return ""
    return f"; not in the MyoLeg model, drawn as a shape; {moment_arm_note(c['id'])}"


def card_html(muscle_id: str) -> str:
    """Return a muscle card as a small HTML block, each fact followed by its source keys."""
    c = card(muscle_id)
    lines = [f"<b>{c['name']}</b> <i>({c['layer']} layer{_model_note(c)})</i>"]
    for f in FACT_FIELDS:
        lines.append(f"<b>{FIELD_LABELS[f]}:</b> {_fact_text(c, f)} "
                     f"<small>[{', '.join(c[f]['sources'])}]</small>")
    for x in c["conditions"]:
        lines.append(f"<b>Linked condition - {CONDITIONS[x['id']]}:</b> {x['text']} "
                     f"<small>[{', '.join(x['sources'])}]</small>")
    return "<br>".join(lines)


def card_hover(muscle_id: str, width: int = 60) -> str:
    """Return a compact card for a plotly hover label (``<br>``-separated, wrapped)."""
    import textwrap

    c = card(muscle_id)
    lines = [f"<b>{c['name']}</b>"]
    for f in FACT_FIELDS:
        text = f"{FIELD_LABELS[f]}: {_fact_text(c, f)} [{', '.join(c[f]['sources'])}]"
        lines.extend(textwrap.wrap(text, width))
    return "<br>".join(lines)


def sciatic_variants() -> pd.DataFrame:
    """Return the Beaton and Anson types of sciatic nerve course relative to piriformis."""
    return pd.read_csv(data_path("anatomy", "sciatic_variants.csv"), dtype=str)


def sciatic_prevalence() -> pd.DataFrame:
    """Return published prevalence figures for sciatic-piriformis variants (with sources)."""
    return pd.read_csv(data_path("anatomy", "sciatic_prevalence.csv"))


# --------------------------------------------------------------------------- quiz


@dataclass(frozen=True)
class Question:
    """One quiz question. ``kind`` is ``"choice"`` (pick text) or ``"click"`` (pick a muscle).

    For ``"click"`` questions ``choices`` and ``answer`` are muscle ids of modelled muscles.
    """

    qid: str
    kind: str
    prompt: str
    choices: tuple[str, ...]
    answer: str
    explanation: str
    sources: tuple[str, ...]


_PROMPTS: dict[str, str] = {
    "origin": "Where does {name} arise (origin)?",
    "insertion": "Where does {name} insert?",
    "actions": "What are the main actions of {name}?",
    "nerve": "Which nerve (with root levels) supplies {name}?",
    "blood_supply": "What is the blood supply of {name}?",
}

_CLICK_CLUES: dict[str, str] = {
    "nerve": "supplied by the {value}",
    "insertion": "inserting into: {value}",
    "origin": "arising from: {value}",
}


def make_quiz(n: int = 6, seed: int = 0, *, n_choices: int = 4,  # superseded: gluteutils.quiz
              click_fraction: float = 0.34) -> list[Question]:
    """Generate ``n`` quiz questions from the muscle cards; same seed -> same questions.

    About ``click_fraction`` of them are "click the muscle" questions about modelled muscles
    (answer by clicking its path in the 3D view); the rest are multiple choice with
    ``n_choices`` distinct options, one correct.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    rng = np.random.default_rng(seed)
    cards = muscle_cards()
    modelled = [c for c in cards if c["model_muscles"]]
    n_click = int(round(n * click_fraction)) if n > 1 else 0
    kinds = ["click"] * n_click + ["choice"] * (n - n_click)
    rng.shuffle(kinds)
    out: list[Question] = []
    used: set[tuple[str, str, str]] = set()
    for i, kind in enumerate(kinds):
        for _attempt in range(50):
            if kind == "click":
                c = modelled[int(rng.integers(len(modelled)))]
                field = list(_CLICK_CLUES)[int(rng.integers(len(_CLICK_CLUES)))]
                value = _fact_text(c, field)
                # the clue must single out this muscle among the modelled ones
                if sum(_fact_text(o, field) == value for o in modelled) != 1:
                    continue
                if (kind, c["id"], field) in used:
                    continue
                used.add((kind, c["id"], field))
                prompt = ("Click the muscle in the 3D view " +
                          _CLICK_CLUES[field].format(value=value[0].lower() + value[1:]))
                out.append(Question(f"q{i + 1}", "click", prompt,
                                    tuple(o["id"] for o in modelled), c["id"],
                                    f"It is {c['name']}.", tuple(c[field]["sources"])))
                break
            c = cards[int(rng.integers(len(cards)))]
            field = FACT_FIELDS[int(rng.integers(len(FACT_FIELDS)))]
            correct = _fact_text(c, field)
            others = sorted({_fact_text(o, field) for o in cards} - {correct})
            if len(others) < n_choices - 1 or (kind, c["id"], field) in used:
                continue
            used.add((kind, c["id"], field))
            picks = [others[j] for j in rng.choice(len(others), n_choices - 1, replace=False)]
            choices = [correct, *picks]
            order = rng.permutation(len(choices))
            out.append(Question(f"q{i + 1}", "choice", _PROMPTS[field].format(name=c["name"]),
                                tuple(choices[j] for j in order), correct,
                                f"{c['name']} - {FIELD_LABELS[field].lower()}: {correct}.",
                                tuple(c[field]["sources"])))
            break
        else:  # pragma: no cover - 50 failed attempts cannot happen with the shipped cards
            raise ContentError("muscles.yaml", "not enough distinct facts to build a quiz")
    return out


def check_answer(question: Question, answer: str) -> bool:
    """Return whether ``answer`` is right; raise :class:`InvalidAnswerError` if not a choice."""
    if answer not in question.choices:
        raise InvalidAnswerError(question.qid, answer, f"one of {list(question.choices)}")
    return answer == question.answer


def model_to_card() -> dict[str, str]:
    """Map each MyoLeg muscle name (e.g. ``"glmed2"``) to its card id."""
    return {m: c["id"] for c in muscle_cards() for m in c["model_muscles"]}


# --------------------------------------------------------------------------- 3D scene


def scene_paths(flexion: float = 0.0, adduction: float = 0.0,
                rotation: float = 0.0) -> pd.DataFrame:
    """Muscle path points at a pose joined with card ids (columns of ``muscle_paths`` +
    ``card_id``, ``name``)."""
    from gluteutils.mechanics import muscle_paths

    paths = muscle_paths(flexion, adduction, rotation)
    names = {c["id"]: c["name"] for c in muscle_cards()}
    paths["card_id"] = paths["muscle"].map(model_to_card())
    paths["name"] = paths["card_id"].map(names)
    return paths


def not_modelled() -> list[str]:
    """Names of the card muscles that are not in the 3D model (the deep rotators)."""
    return [c["name"] for c in muscle_cards() if not c["model_muscles"]]


def full_text_table(frame: pd.DataFrame) -> Any:
    """An HTML table that wraps long text instead of cutting it (for notebooks)."""
    import html

    from IPython.display import HTML

    head = "".join(f"<th style='text-align:left'>{html.escape(str(c))}</th>"
                   for c in frame.columns)
    rows = "".join("<tr>" + "".join(
        f"<td style='text-align:left;white-space:normal;vertical-align:top'>"
        f"{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False))
    return HTML(f"<table style='table-layout:auto;max-width:100%'><thead><tr>{head}</tr>"
                f"</thead><tbody>{rows}</tbody></table>")
