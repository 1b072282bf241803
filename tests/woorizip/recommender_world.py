"""Live families created over HTTP that mirror simulated ones, with the simulated history grafted onto them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from pymongo import MongoClient

from recsys.events import Dataset
from tests.woorizip.family_client import Api, Person
from woorizip.recommender.store import graft_history, record_events


@dataclass(frozen=True)
class LiveFamily:
    id: str
    owner: Person
    simulated_id: str


def mirror_families(api: Api, dataset: Dataset, count: int) -> tuple[list[LiveFamily], dict[str, str]]:
    """`count` live families with the simulated ones' members (owner plus managed profiles, same ages)."""
    live: list[LiveFamily] = []
    members: dict[str, str] = {}
    for simulated_id in dataset.families["family_id"].astype(str).tolist()[:count]:
        people = dataset.members[dataset.members["family_id"] == simulated_id].reset_index(drop=True)
        owner_row = people[people["role"] == "owner"].iloc[0] if (people["role"] == "owner").any() else people.iloc[0]
        owner = api.sign_up()
        interests = dataset.families.loc[dataset.families["family_id"] == simulated_id, "interests"].iloc[0]
        body: dict[str, Any] = {"name": "우리집", "interests": list(interests), "birth_year": _year(owner_row)}
        family = api.ok(owner, "POST", "/v1/families", body, status=201)
        members[str(owner_row["member_id"])] = family["my_member_id"]
        for _, row in people.iterrows():
            if row["member_id"] == owner_row["member_id"]:
                continue
            profile = {"nickname": "가족", "birth_year": _year(row), "guardian_consent": True}
            created = api.ok(owner, "POST", f"/v1/families/{family['id']}/members", profile, status=201)
            members[str(row["member_id"])] = created["id"]
        live.append(LiveFamily(family["id"], owner, simulated_id))
    return live, members


def _year(row: pd.Series) -> int:
    return 1980 if pd.isna(row["birth_year"]) else int(row["birth_year"])


def graft(mongo_url: str, database: str, dataset: Dataset, families: list[LiveFamily], members: dict[str, str]) -> int:
    """Write the simulated families' events onto the live ones, through the app's event writer."""
    events = graft_history(dataset, families={f.simulated_id: f.id for f in families}, members=members)
    with MongoClient(mongo_url, tz_aware=True) as client:
        return record_events(content=client[database], events=events)  # type: ignore[arg-type]
