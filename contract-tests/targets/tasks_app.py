"""A CRUD service of our own with planted faults: tasks that belong to users.

It is the target issue 19's scenarios and checks are held to. It is written the ordinary FastAPI
way, and its OpenAPI document is the one FastAPI makes of it (`tasks.openapi.json`, written by
`--openapi`), so the suite knows nothing of it but that document.

- POST /tasks creates a task: 201, with its address in `Location`; it needs an
  `Idempotency-Key` header. GET /tasks lists the caller's tasks, their count in `X-Total-Count`,
  a page at a time by `limit` (20 by default) and `offset`.
- /projects and /labels are lists of their own, paged otherwise: projects by `page` and
  `per_page` (20 by default), labels by a `cursor` the answer gives as `next_cursor`. A project's
  name is unique among the caller's projects: another create or rename to it is a 409.
- /projects/{project_id}/milestones holds a project's milestones: each is reached only under its
  own project, and a project's delete deletes its milestones.
- GET/PATCH/PUT/DELETE /tasks/{task_id} read, update (what is sent is applied, what is left out
  kept, null clears `notes`), replace and delete one (204; then 404). A read carries an `ETag`,
  which changes with the task; an `If-None-Match` naming it gets 304, and a change or delete whose
  `If-Match` names another gets 412.
- Each key in API_KEYS (comma-separated) is a user; a task is only ever seen by its owner.
- A missing or wrong key is a 401; a body or parameter that breaks the schema a 422; a method the
  path does not have a 405 with `Allow`.

FAULTS (comma-separated) plants bugs, each one a thing the contract suite must catch:

  create-not-stored     a create answers 201 but keeps nothing
  delete-keeps          a delete answers 204 but the task stays readable
  list-shows-deleted    the lists still hold deleted items
  page-skips            every page after the first starts one item too late (one is never listed)
  page-repeats          every page after the first starts one item too early (one is listed twice)
  update-not-kept       an update answers with the change but does not keep it
  update-resets-absent  an update resets the fields it leaves out to their defaults
  stale-answer          an update answers with the values from before it
  null-ignored          `notes: null` is answered but not applied
  other-user-reads      another user's task can be read
  other-user-deletes    another user's task can be deleted
  second-delete-500     a delete of a deleted task crashes
  read-after-delete-500 a read of a deleted task crashes
  allow-missing         a 405 has no `Allow` header
  method-served         POST to a task's address is served as a read
  location-dropped      a create's answer has no `Location`
  idempotency-ignored   a create without `Idempotency-Key` is served
  text-plain            a read's JSON is sent as text/plain
  read-auth-ignored     a read is served without a key
  near-miss-key         a key that is a prefix of a real one is accepted
  slow-read             a read takes 1.5 s
  repeat-500            the same update twice in a row crashes
  put-merges            a replace keeps the fields its body leaves out (it merges)
  stale-if-match-accepted   a change whose If-Match is stale is done, not refused with 412
  etag-unchanged        a task's ETag stays the same when the task changes
  if-none-match-ignored a read whose If-None-Match is current gets the task, not 304
  location-elsewhere    a create's Location names the task made before it
  duplicate-name-accepted   a project may take a name another project of the caller has
  milestone-under-any-project   a milestone reads under any of the caller's projects
  milestones-outlive-project    a project's delete leaves its milestones, still readable
  cursor-ends-early     the labels' last page is never offered when it holds one label
  enum-case-folded      a label's color in another case (`Red`) or with a space is taken as it

Run:  API_KEYS=k1,k2 FAULTS=delete-keeps uvicorn tasks_app:app --host 127.0.0.1 --port 8767
      python3 tasks_app.py --openapi > tasks.openapi.json
"""

import itertools
import json
import os
import sys
import time

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import APIKeyHeader
from typing import Literal

from pydantic import BaseModel, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

API_KEYS = os.environ.get("API_KEYS", "reference-key,reference-key-2").split(",")
FAULTS = set(filter(None, os.environ.get("FAULTS", "").split(",")))

# Every answer the service gives is documented: 401 on every route, 404 on a task's.
UNAUTHORIZED = {401: {"description": "No key, or a key that is not valid."}}
NOT_FOUND = {404: {"description": "No such task (or not the caller's)."}}
app = FastAPI(title="Tasks", version="1.0.0", responses=UNAUTHORIZED)
key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def on(fault: str) -> bool:
    return fault in FAULTS


def user(key: str | None = Depends(key_header)) -> str:
    if key in API_KEYS:
        return key
    if on("near-miss-key") and key and any(k.startswith(key) for k in API_KEYS):
        return API_KEYS[0]
    raise HTTPException(status_code=401, detail="Not authenticated")


def reader(key: str | None = Depends(key_header)) -> str:
    if on("read-auth-ignored") and key not in API_KEYS:
        return API_KEYS[0]
    return user(key)


class TaskIn(BaseModel):
    title: str = Field(min_length=1, max_length=80)
    done: bool = False
    priority: int = Field(default=2, ge=0, le=4)
    notes: str | None = None
    labels: list[str] = Field(default=[], max_length=10)


class TaskPatch(BaseModel):
    # Left out, a field is kept; only `notes` may be cleared with null.
    title: str = Field(default=None, min_length=1, max_length=80)
    done: bool = None
    priority: int = Field(default=None, ge=0, le=4)
    notes: str | None = None
    labels: list[str] = Field(default=None, max_length=10)


class Task(BaseModel):
    id: int
    title: str
    done: bool
    priority: int
    notes: str | None = None
    labels: list[str]


TASKS: dict[int, tuple[str, dict]] = {}
DELETED: dict[int, tuple[str, dict]] = {}
IDS = itertools.count(1)
LAST_UPDATE: list = [None]

LOCATION = {"Location": {"description": "The new task's address.", "required": True, "schema": {"type": "string"}}}
TOTAL = {"X-Total-Count": {"description": "How many tasks the caller has.", "required": True, "schema": {"type": "integer", "minimum": 0}}}
ETAG = {"ETag": {"description": "The task's version.", "required": True, "schema": {"type": "string"}}}


def allowed(path: str) -> str:
    """Every documented method of the routes whose template matches `path`. Starlette's own 405
    names only the first such route's methods, and FastAPI makes a route per method."""
    methods = set()
    for r in app.routes:
        if getattr(r, "include_in_schema", False) and getattr(r, "path_regex", None) and r.path_regex.match(path):
            methods |= set(r.methods or ())
    return ", ".join(sorted(methods - {"HEAD"}))


@app.exception_handler(StarletteHTTPException)
async def http_error(request: Request, exc: StarletteHTTPException):
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers = {"Allow": allowed(request.url.path)}
        if on("allow-missing"):
            headers = {}
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


def owned(task_id: int, who: str, fault: str | None = None) -> dict:
    found = TASKS.get(task_id)
    if found is None:
        if task_id in DELETED and fault and on(fault):
            raise RuntimeError(f"planted: {fault}")
        raise HTTPException(status_code=404, detail="Task not found")
    if found[0] != who:
        raise HTTPException(status_code=404, detail="Task not found")
    return found[1]


def etag(task: dict) -> str:
    if on("etag-unchanged"):
        return f'"{task["id"]}"'
    return '"' + str(abs(hash(json.dumps(task, sort_keys=True)))) + '"'


# Conditional requests (RFC 9110, section 13) on a task.
NOT_MODIFIED = {304: {"description": "Not modified: the If-None-Match given is the task's ETag."}}
STALE = {412: {"description": "The If-Match given is not the task's ETag: it changed since."}}


def precondition(task: dict, if_match: str | None) -> None:
    if if_match is None or if_match == "*" or if_match == etag(task):
        return
    if not on("stale-if-match-accepted"):
        raise HTTPException(status_code=412, detail="If-Match names another version of the task")


IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "A key of the caller's choosing that makes a retried create safe.",
    "schema": {"type": "string", "minLength": 1},
}


@app.post(
    "/tasks",
    status_code=201,
    response_model=Task,
    responses={201: {"description": "Created", "headers": LOCATION}},
    openapi_extra={"parameters": [IDEMPOTENCY]},
)
def create_task(task: TaskIn, request: Request, response: Response, who: str = Depends(user)) -> Task:
    # Checked by hand (declared above) so that a planted fault can skip the check.
    if not request.headers.get("idempotency-key") and not on("idempotency-ignored"):
        raise HTTPException(
            status_code=422,
            detail=[{"type": "missing", "loc": ["header", "Idempotency-Key"], "msg": "Field required"}],
        )
    n = next(IDS)
    stored = {"id": n, **task.model_dump()}
    if not on("create-not-stored"):
        TASKS[n] = (who, stored)
    if not on("location-dropped"):
        response.headers["Location"] = f"/tasks/{n - 1 if on('location-elsewhere') else n}"
    return Task(**stored)


def page(items: list, start: int, size: int) -> list:
    """The items from `start`, `size` of them: what a page holds (a planted fault shifts every page
    after the first)."""
    if start > 0 and on("page-skips"):
        start += 1
    if start > 0 and on("page-repeats"):
        start -= 1
    return items[start : start + size]


@app.get(
    "/tasks",
    response_model=list[Task],
    responses={200: {"description": "The caller's tasks", "headers": TOTAL}},
)
def list_tasks(
    response: Response,
    who: str = Depends(user),
    limit: int = Query(default=20, ge=1, le=100),
    offset: int = Query(default=0, ge=0),
) -> list[Task]:
    mine = [Task(**t) for owner, t in TASKS.values() if owner == who]
    if on("list-shows-deleted"):
        mine += [Task(**t) for owner, t in DELETED.values() if owner == who]
    response.headers["X-Total-Count"] = str(len(mine))
    return page(mine, offset, limit)


UNIQUE_NAME = "The project's name, unique among the caller's projects."


class ProjectIn(BaseModel):
    name: str = Field(min_length=1, max_length=80, description=UNIQUE_NAME)
    description: str | None = None


class ProjectPatch(BaseModel):
    name: str = Field(default=None, min_length=1, max_length=80, description=UNIQUE_NAME)
    description: str | None = None


class Project(BaseModel):
    id: int
    name: str
    description: str | None = None


Color = Literal["grey", "red", "green", "blue"]


def fold_color(v):
    # The planted fault: a color in another case, or with spaces around it, taken as the color.
    if on("enum-case-folded") and isinstance(v, str):
        return v.strip().lower()
    return v


class LabelIn(BaseModel):
    name: str = Field(min_length=1, max_length=40)
    color: Color = "grey"
    _fold = field_validator("color", mode="before")(fold_color)


class LabelPatch(BaseModel):
    name: str = Field(default=None, min_length=1, max_length=40)
    color: Color = None
    _fold = field_validator("color", mode="before")(fold_color)


class Label(BaseModel):
    id: int
    name: str
    color: Color


class LabelPage(BaseModel):
    items: list[Label]
    next_cursor: str | None = None


class Store:
    """Items of one kind, each with its owner; deleted ones kept apart."""

    def __init__(self, kind: str):
        self.kind = kind
        self.items: dict[int, tuple[str, dict]] = {}
        self.deleted: dict[int, tuple[str, dict]] = {}

    def listed(self, who: str) -> list[dict]:
        out = [v for owner, v in self.items.values() if owner == who]
        if on("list-shows-deleted"):
            out += [v for owner, v in self.deleted.values() if owner == who]
        return out

    def owned(self, item_id: int, who: str) -> dict:
        found = self.items.get(item_id)
        if found is None or found[0] != who:
            raise HTTPException(status_code=404, detail=f"{self.kind} not found")
        return found[1]

    def create(self, who: str, value: dict, response: Response, path: str) -> dict:
        n = next(IDS)
        stored = {"id": n, **value}
        self.items[n] = (who, stored)
        response.headers["Location"] = f"{path}/{n}"
        return stored

    def delete(self, item_id: int, who: str) -> None:
        self.owned(item_id, who)
        self.deleted[item_id] = self.items.pop(item_id)


PROJECTS = Store("Project")
LABELS = Store("Label")
NOT_FOUND_ITEM = {404: {"description": "No such item (or not the caller's)."}}
NAME_TAKEN = {409: {"description": "Another of the caller's projects has that name."}}


def name_free(who: str, name: str | None, project_id: int | None = None) -> None:
    if name is None or on("duplicate-name-accepted"):
        return
    if any(p["name"] == name and p["id"] != project_id for p in PROJECTS.listed(who)):
        raise HTTPException(status_code=409, detail="A project of that name exists")


@app.post("/projects", status_code=201, response_model=Project,
          responses={201: {"description": "Created", "headers": LOCATION}, **NAME_TAKEN})
def create_project(project: ProjectIn, response: Response, who: str = Depends(user)) -> Project:
    name_free(who, project.name)
    return Project(**PROJECTS.create(who, project.model_dump(), response, "/projects"))


@app.get("/projects", response_model=list[Project])
def list_projects(
    who: str = Depends(user),
    page_number: int = Query(default=1, ge=1, alias="page"),
    per_page: int = Query(default=20, ge=1, le=100),
) -> list[Project]:
    return [Project(**p) for p in page(PROJECTS.listed(who), (page_number - 1) * per_page, per_page)]


@app.get("/projects/{project_id}", response_model=Project, responses=NOT_FOUND_ITEM)
def read_project(project_id: int, who: str = Depends(user)) -> Project:
    return Project(**PROJECTS.owned(project_id, who))


@app.patch("/projects/{project_id}", response_model=Project, responses={**NOT_FOUND_ITEM, **NAME_TAKEN})
def update_project(project_id: int, patch: ProjectPatch, who: str = Depends(user)) -> Project:
    stored = PROJECTS.owned(project_id, who)
    sent = patch.model_dump(exclude_unset=True)
    name_free(who, sent.get("name"), project_id)
    stored.update(sent)
    return Project(**stored)


@app.delete("/projects/{project_id}", status_code=204, responses=NOT_FOUND_ITEM)
def delete_project(project_id: int, who: str = Depends(user)) -> Response:
    PROJECTS.delete(project_id, who)
    if not on("milestones-outlive-project"):
        for m in [k for k, (_, p, _) in MILESTONES.items() if p == project_id]:
            del MILESTONES[m]
    return Response(status_code=204)


class MilestoneIn(BaseModel):
    title: str = Field(min_length=1, max_length=80)
    done: bool = False


class MilestonePatch(BaseModel):
    title: str = Field(default=None, min_length=1, max_length=80)
    done: bool = None


class Milestone(BaseModel):
    id: int
    title: str
    done: bool


# Milestone id -> (owner, project id, milestone).
MILESTONES: dict[int, tuple[str, int, dict]] = {}
NO_MILESTONE = {404: {"description": "No such project, or no such milestone of it."}}


def milestone(project_id: int, milestone_id: int, who: str) -> dict:
    found = MILESTONES.get(milestone_id)
    if found is None or found[0] != who:
        raise HTTPException(status_code=404, detail="Milestone not found")
    if not on("milestones-outlive-project"):
        PROJECTS.owned(project_id, who)
    if found[1] != project_id and not on("milestone-under-any-project"):
        raise HTTPException(status_code=404, detail="Milestone not found")
    return found[2]


@app.post("/projects/{project_id}/milestones", status_code=201, response_model=Milestone,
          responses={201: {"description": "Created", "headers": LOCATION}, **NO_MILESTONE})
def create_milestone(project_id: int, m: MilestoneIn, response: Response, who: str = Depends(user)) -> Milestone:
    PROJECTS.owned(project_id, who)
    n = next(IDS)
    stored = {"id": n, **m.model_dump()}
    MILESTONES[n] = (who, project_id, stored)
    response.headers["Location"] = f"/projects/{project_id}/milestones/{n}"
    return Milestone(**stored)


@app.get("/projects/{project_id}/milestones", response_model=list[Milestone], responses=NO_MILESTONE)
def list_milestones(project_id: int, who: str = Depends(user)) -> list[Milestone]:
    PROJECTS.owned(project_id, who)
    return [Milestone(**m) for o, p, m in MILESTONES.values() if o == who and p == project_id]


@app.get("/projects/{project_id}/milestones/{milestone_id}", response_model=Milestone, responses=NO_MILESTONE)
def read_milestone(project_id: int, milestone_id: int, who: str = Depends(user)) -> Milestone:
    return Milestone(**milestone(project_id, milestone_id, who))


@app.patch("/projects/{project_id}/milestones/{milestone_id}", response_model=Milestone, responses=NO_MILESTONE)
def update_milestone(project_id: int, milestone_id: int, patch: MilestonePatch, who: str = Depends(user)) -> Milestone:
    stored = milestone(project_id, milestone_id, who)
    stored.update(patch.model_dump(exclude_unset=True))
    return Milestone(**stored)


@app.delete("/projects/{project_id}/milestones/{milestone_id}", status_code=204, responses=NO_MILESTONE)
def delete_milestone(project_id: int, milestone_id: int, who: str = Depends(user)) -> Response:
    milestone(project_id, milestone_id, who)
    del MILESTONES[milestone_id]
    return Response(status_code=204)


@app.post("/labels", status_code=201, response_model=Label,
          responses={201: {"description": "Created", "headers": LOCATION}})
def create_label(label: LabelIn, response: Response, who: str = Depends(user)) -> Label:
    return Label(**LABELS.create(who, label.model_dump(), response, "/labels"))


@app.get("/labels", response_model=LabelPage)
def list_labels(
    who: str = Depends(user),
    cursor: str | None = Query(default=None, pattern="^[0-9]+$"),
    limit: int = Query(default=20, ge=1, le=100),
) -> LabelPage:
    mine = LABELS.listed(who)
    start = int(cursor or 0)
    items = page(mine, start, limit)
    end = start + limit
    last = len(mine) - 1 if on("cursor-ends-early") else len(mine)
    return LabelPage(items=[Label(**x) for x in items], next_cursor=str(end) if end < last else None)


@app.get("/labels/{label_id}", response_model=Label, responses=NOT_FOUND_ITEM)
def read_label(label_id: int, who: str = Depends(user)) -> Label:
    return Label(**LABELS.owned(label_id, who))


@app.patch("/labels/{label_id}", response_model=Label, responses=NOT_FOUND_ITEM)
def update_label(label_id: int, patch: LabelPatch, who: str = Depends(user)) -> Label:
    stored = LABELS.owned(label_id, who)
    stored.update(patch.model_dump(exclude_unset=True))
    return Label(**stored)


@app.delete("/labels/{label_id}", status_code=204, responses=NOT_FOUND_ITEM)
def delete_label(label_id: int, who: str = Depends(user)) -> Response:
    LABELS.delete(label_id, who)
    return Response(status_code=204)


@app.get(
    "/tasks/{task_id}",
    response_model=Task,
    responses={200: {"description": "The task", "headers": ETAG}, **NOT_MODIFIED, **NOT_FOUND},
)
def read_task(
    task_id: int,
    response: Response,
    who: str = Depends(reader),
    if_none_match: str | None = Header(default=None, alias="If-None-Match"),
):
    if on("slow-read"):
        time.sleep(1.5)
    found = TASKS.get(task_id)
    if on("other-user-reads") and found is not None:
        task = found[1]
    elif on("delete-keeps") and found is None and task_id in DELETED and DELETED[task_id][0] == who:
        task = DELETED[task_id][1]
    else:
        task = owned(task_id, who, "read-after-delete-500")
    response.headers["ETag"] = etag(task)
    if if_none_match == etag(task) and not on("if-none-match-ignored"):
        return Response(status_code=304, headers={"ETag": etag(task)})
    if on("text-plain"):
        return PlainTextResponse(Task(**task).model_dump_json(), headers={"ETag": etag(task)})
    return Task(**task)


@app.post("/tasks/{task_id}", include_in_schema=False)
def post_to_task(task_id: int, response: Response, who: str = Depends(user)):
    if not on("method-served"):
        raise StarletteHTTPException(status_code=405, detail="Method Not Allowed")
    return read_task(task_id, response, who, None)


@app.patch("/tasks/{task_id}", response_model=Task, responses={**NOT_FOUND, **STALE})
def update_task(
    task_id: int,
    patch: TaskPatch,
    who: str = Depends(user),
    if_match: str | None = Header(default=None, alias="If-Match"),
) -> Task:
    stored = owned(task_id, who)
    precondition(stored, if_match)
    sent = patch.model_dump(exclude_unset=True)
    if on("repeat-500") and LAST_UPDATE[0] == (task_id, sent):
        raise RuntimeError("planted: repeat-500")
    LAST_UPDATE[0] = (task_id, sent)
    before = dict(stored)
    after = dict(stored)
    if on("update-resets-absent"):
        after.update({"done": False, "priority": 2, "notes": None, "labels": []})
    for k, v in sent.items():
        if v is None and k == "notes" and on("null-ignored"):
            continue
        after[k] = v
    if not on("update-not-kept"):
        stored.clear()
        stored.update(after)
    return Task(**(before if on("stale-answer") else after))


@app.put("/tasks/{task_id}", response_model=Task, responses={**NOT_FOUND, **STALE})
def replace_task(
    task_id: int,
    task: TaskIn,
    who: str = Depends(user),
    if_match: str | None = Header(default=None, alias="If-Match"),
) -> Task:
    precondition(owned(task_id, who), if_match)
    if on("put-merges"):
        stored = {**TASKS[task_id][1], "id": task_id, **task.model_dump(exclude_unset=True)}
    else:
        stored = {"id": task_id, **task.model_dump()}
    TASKS[task_id] = (who, stored)
    return Task(**stored)


@app.delete("/tasks/{task_id}", status_code=204, responses={**NOT_FOUND, **STALE})
def delete_task(
    task_id: int,
    who: str = Depends(user),
    if_match: str | None = Header(default=None, alias="If-Match"),
) -> Response:
    found = TASKS.get(task_id)
    if on("other-user-deletes") and found is not None:
        who = found[0]
    precondition(owned(task_id, who, "second-delete-500"), if_match)
    DELETED[task_id] = TASKS.pop(task_id)
    return Response(status_code=204)


if __name__ == "__main__" and sys.argv[1:] == ["--openapi"]:
    print(json.dumps(app.openapi(), indent=2))
