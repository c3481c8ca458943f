"""A small CRUD service written the ordinary FastAPI way: notes that belong to users.

It is the "any document" target: the contract suite and the stateful mock know nothing of it but
the OpenAPI document FastAPI makes of it (`notes.openapi.json`, written by `--openapi`).

- POST /notes creates a note (201), GET /notes lists the caller's notes, GET/PATCH/PUT/DELETE
  /notes/{note_id} read, update (what is sent is applied, what is left out kept, null clears),
  replace and delete one (204; then 404).
- Each key in API_KEYS (comma-separated) is a user; a note is only ever seen by its owner.
- A missing or wrong key is a 401; a body or parameter that breaks the schema a 422.

Run:  API_KEYS=k1,k2 uvicorn notes_app:app --host 127.0.0.1 --port 8766
      python3 notes_app.py --openapi > notes.openapi.json
"""

import itertools
import json
import os
import sys

from fastapi import Depends, FastAPI, HTTPException, Query, Response
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field

API_KEYS = os.environ.get("API_KEYS", "reference-key,reference-key-2").split(",")

app = FastAPI(title="Notes", version="1.0.0")
key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def user(key: str | None = Depends(key_header)) -> str:
    if key not in API_KEYS:
        raise HTTPException(status_code=401, detail="Not authenticated")
    return key


class NoteIn(BaseModel):
    title: str = Field(min_length=1, max_length=100)
    body: str | None = None
    priority: int = Field(default=3, ge=1, le=5)
    tags: list[str] = []


class NotePatch(BaseModel):
    # Left out, a field is kept; only `body` may be cleared with null.
    title: str = Field(default=None, min_length=1, max_length=100)
    body: str | None = None
    priority: int = Field(default=None, ge=1, le=5)
    tags: list[str] = None


class Note(BaseModel):
    id: int
    title: str
    body: str | None = None
    priority: int
    tags: list[str]


NOTES: dict[int, tuple[str, dict]] = {}
IDS = itertools.count(1)


def owned(note_id: int, who: str) -> dict:
    found = NOTES.get(note_id)
    if found is None or found[0] != who:
        raise HTTPException(status_code=404, detail="Note not found")
    return found[1]


@app.post("/notes", status_code=201, response_model=Note)
def create_note(note: NoteIn, who: str = Depends(user)) -> Note:
    n = next(IDS)
    stored = {"id": n, **note.model_dump()}
    NOTES[n] = (who, stored)
    return Note(**stored)


@app.get("/notes", response_model=list[Note])
def list_notes(
    limit: int = Query(default=50, ge=1, le=100), who: str = Depends(user)
) -> list[Note]:
    mine = [Note(**n) for owner, n in NOTES.values() if owner == who]
    return mine[:limit]


@app.get("/notes/{note_id}", response_model=Note)
def read_note(note_id: int, who: str = Depends(user)) -> Note:
    return Note(**owned(note_id, who))


@app.patch("/notes/{note_id}", response_model=Note)
def update_note(note_id: int, patch: NotePatch, who: str = Depends(user)) -> Note:
    stored = owned(note_id, who)
    for k, v in patch.model_dump(exclude_unset=True).items():
        stored[k] = v
    return Note(**stored)


@app.put("/notes/{note_id}", response_model=Note)
def replace_note(note_id: int, note: NoteIn, who: str = Depends(user)) -> Note:
    owned(note_id, who)
    stored = {"id": note_id, **note.model_dump()}
    NOTES[note_id] = (who, stored)
    return Note(**stored)


@app.delete("/notes/{note_id}", status_code=204)
def delete_note(note_id: int, who: str = Depends(user)) -> Response:
    owned(note_id, who)
    del NOTES[note_id]
    return Response(status_code=204)


if __name__ == "__main__" and sys.argv[1:] == ["--openapi"]:
    print(json.dumps(app.openapi(), indent=2))
