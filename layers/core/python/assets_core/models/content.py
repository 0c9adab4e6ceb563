"""Contents named by sha256: which of them a client still has to send (``assets push``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from assets_core.logic.content import MAX_NAMED_CONTENTS

Sha256 = Annotated[str, StringConstraints(pattern="^[0-9a-f]{64}$")]


class ContentQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    sha256: list[Sha256] = Field(
        min_length=1,
        max_length=MAX_NAMED_CONTENTS,
        description="The SHA-256 (64 lower-case hex digits) of each content to ask about",
    )


class MissingContents(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    missing: list[str] = Field(
        description="Those of the sha256 sent that this registry does not hold, or that the "
        "caller may not read (the two are not told apart): send them in the bundle"
    )
