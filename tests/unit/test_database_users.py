"""The deploy-time creator of the database users: a user the cluster lacks is created, one it
has is updated (password and role), each with its role on the registry's database only."""

from __future__ import annotations

import json
from typing import Any

from functions.database_users.handler import PHYSICAL_ID, apply, handler, users

READER = "arn:aws:secretsmanager:eu-west-1:1:secret:reader-abc"
WRITER = "arn:aws:secretsmanager:eu-west-1:1:secret:writer-def"
SECRETS = {
    READER: json.dumps({"username": "registry_reader", "password": "r-pass", "host": "h"}),
    WRITER: json.dumps({"username": "registry_writer", "password": "w-pass", "host": "h"}),
}


class Admin:
    """The admin database's commands, as a DocumentDB cluster answers them."""

    def __init__(self, existing: set[str]) -> None:
        self.existing = existing
        self.commands: list[tuple[str, str, dict[str, Any]]] = []

    def command(self, name: str, user: str, **fields: Any) -> dict[str, Any]:
        self.commands.append((name, user, fields))
        if name == "usersInfo":
            return {"users": [{"user": user}] if user in self.existing else [], "ok": 1}
        return {"ok": 1}


def test_new_users_are_created_and_existing_ones_updated() -> None:
    wanted = users({"USERS": json.dumps({READER: "read-only", WRITER: "read-write"})})
    admin = Admin(existing={"registry_writer"})
    assert apply(admin, "assets", wanted, SECRETS.__getitem__) == [
        "registry_reader",
        "registry_writer",
    ]
    changes = [c for c in admin.commands if c[0] != "usersInfo"]
    assert changes == [
        (
            "createUser",
            "registry_reader",
            {"pwd": "r-pass", "roles": [{"role": "read", "db": "assets"}]},
        ),
        (
            "updateUser",
            "registry_writer",
            {"pwd": "w-pass", "roles": [{"role": "readWrite", "db": "assets"}]},
        ),
    ]


def test_deleting_the_resource_leaves_the_users_with_the_cluster() -> None:
    answer = handler({"RequestType": "Delete", "PhysicalResourceId": PHYSICAL_ID}, None)
    assert answer == {"PhysicalResourceId": PHYSICAL_ID}
