"""A synthetic clinic export with planted identifiers of every kind (demo and tests).

SYNTHETIC: built from :func:`gluteutils.cohort.generate`; every identifier is fake.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gluteutils.synthetic.cohort import generate

# ---------------------------------------------------------------------------------------------
_FIRST = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Avery",
          "Quinn", "Harper", "Rowan")
_LAST = ("Citizen", "Nguyen", "Smith", "Papadopoulos", "Okafor", "Kowalski", "Tanaka", "Rossi",
         "Haddad", "Murphy", "Singh", "Larsen")
_STREETS = ("Example St", "Sample Rd", "Fictional Ave", "Placeholder Cres", "Demo Lane")
CLINIC_DIAGNOSIS: dict[str, str] = {
    "doms": "DOMS", "piriformis_syndrome": "Piriformis", "sciatica_disc": "Sciatica - disc",
    "sciatica_stenosis": "Sciatica - stenosis", "gluteal_tendinopathy": "GTPS / glute med",
}
CLINIC_SERVICE: dict[str, str] = {
    "physiotherapy": "Physio", "sports_physiotherapy": "Sports physio",
    "pelvic_floor_physiotherapy": "Women's health physio", "exercise_physiology": "EP",
    "myotherapy_massage": "Myotherapy", "physio_plus_massage": "Physio + massage",
    "home_self_care": "Advice only",
}
CLINIC_SITE: dict[str, str] = {"site_a": "North", "site_b": "South", "site_c": "East",
                               "site_d": "West"}


def demo_clinic_export(n_patients: int = 200, seed: int = 7) -> pd.DataFrame:
    """Return a synthetic clinic export (one row per appointment) with planted direct
    identifiers of every kind: name, email, phone, street address, postcode, Medicare-like
    and IHI-like numbers, date of birth, calendar dates, clinician name and free-text notes.
    SYNTHETIC: built from :func:`gluteutils.cohort.generate`; all identifiers are fake."""
    rng = np.random.default_rng(seed)
    data = generate(n_patients, seed)
    ep = data.episodes.reset_index(drop=True)
    n = len(ep)
    first = rng.choice(_FIRST, n)
    last = rng.choice(_LAST, n)
    number = rng.permutation(np.arange(100000, 100000 + 10 * n, 10))[:n]
    lower = {b: lo for b, lo in zip(("18-29", "30-39", "40-49", "50-59", "60-69", "70+"),
                                    (18, 30, 40, 50, 60, 70), strict=True)}
    age = np.array([lower[str(b)] for b in ep["age_band"]]) + rng.integers(0, 10, n)
    start = pd.Timestamp("2025-01-06") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    dob = start - pd.to_timedelta((age * 365.25 + rng.integers(30, 330, n)).astype(int), unit="D")
    people = pd.DataFrame({
        "episode_id": ep["episode_id"].astype(str),
        "patient_number": [f"MRN{x:07d}" for x in number],
        "full_name": [f"{a} {b}" for a, b in zip(first, last, strict=True)],
        "email": [f"{a.lower()}.{b.lower()}{x % 1000}@example.com"
                  for a, b, x in zip(first, last, number, strict=True)],
        "phone": [f"04{x:02d} {y:03d} {z:03d}" for x, y, z in
                  zip(rng.integers(0, 100, n), rng.integers(0, 1000, n),
                      rng.integers(0, 1000, n), strict=True)],
        "street_address": [f"{h} {s}" for h, s in
                           zip(rng.integers(1, 300, n), rng.choice(_STREETS, n), strict=True)],
        "postcode": [f"{p:04d}" for p in rng.integers(3000, 3999, n)],
        "medicare_number": [f"{a:04d} {b:05d} {c}" for a, b, c in
                            zip(rng.integers(2000, 6999, n), rng.integers(0, 99999, n),
                                rng.integers(1, 9, n), strict=True)],
        "ihi": [f"8003 6{a:03d} {b:04d} {c:04d}" for a, b, c in
                zip(rng.integers(0, 999, n), rng.integers(0, 9999, n),
                    rng.integers(0, 9999, n), strict=True)],
        "date_of_birth": dob.strftime("%d/%m/%Y"),
        "first_date": start,
        "gender": ep["sex"].map({"female": "F", "male": "M"}).astype(str),
        "clinic": ep["site"].astype(str).map(CLINIC_SITE),
        "clinician": [f"Dr {a} {b}" for a, b in zip(rng.choice(_FIRST, n),
                                                      rng.choice(_LAST, n), strict=True)],
        "diagnosis": ep["condition"].astype(str).map(CLINIC_DIAGNOSIS),
        "service": ep["therapy"].astype(str).map(CLINIC_SERVICE),
    })
    v = data.visits.assign(episode_id=data.visits["episode_id"].astype(str))
    rows = v.merge(people, on="episode_id", how="left")
    rows["appointment_date"] = (rows["first_date"] + pd.to_timedelta(
        rows["visit_day"].astype(int), unit="D")).dt.strftime("%d/%m/%Y")
    rows["pain_score"] = rows["pain_nprs"].astype(int)
    rows["lefs_score"] = rows["function_lefs"].astype("Int64")
    rows["grc_score"] = rows["grc"].astype("Int64")
    rows["notes"] = [f"Seen {nm}; call back on {ph}. {dg}" for nm, ph, dg in
                     zip(rows["full_name"], rows["phone"], rows["diagnosis"], strict=True)]
    cols = ["patient_number", "full_name", "email", "phone", "street_address", "postcode",
            "medicare_number", "ihi", "date_of_birth", "gender", "clinic", "clinician",
            "diagnosis", "service", "appointment_date", "pain_score", "lefs_score",
            "grc_score", "notes"]
    return rows[cols].astype(object).where(rows[cols].notna(), "").astype(str)
