"""A small FastAPI + Pydantic v2 implementation of the Update CVM endpoint, for the contract suite.

It is written the way the real service is (FastAPI, Pydantic models with `X | None` fields, the
fields actually sent told apart with `model_fields_set`), so the suite is tried against the real
framework's 422 bodies, `loc` paths and absent-versus-null handling.

Run:  API_KEY=k uvicorn fastapi_app:app --host 127.0.0.1 --port 8765
Set BROKEN=1 to switch on a deliberate bug (shutdown_timeout's lower bound off by one), and
CRASH=1 for another: any update that sets `image` raises, so uvicorn answers 500 and then closes
the kept-alive connection without `Connection: close`.
"""

import hashlib
import itertools
import os
from typing import Literal

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

API_KEY = os.environ.get("API_KEY", "fastapi-key")
BROKEN = os.environ.get("BROKEN") == "1"
CRASH = os.environ.get("CRASH") == "1"
LOWEST_TIMEOUT = 9 if BROKEN else 10

app = FastAPI(title="Phala Cloud API (contract-test target)")
key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


@app.exception_handler(StarletteHTTPException)
async def http_error(request: Request, exc: StarletteHTTPException):
    """Starlette's own 405 names only the methods of the first route that matches the path, and
    FastAPI makes a route per method: a PUT here would be told `Allow: GET`. RFC 9110 wants every
    method the resource supports, so the 405 lists them all."""
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        methods = set()
        for r in app.routes:
            if getattr(r, "path_regex", None) and r.path_regex.match(request.url.path):
                methods |= set(getattr(r, "methods", None) or ())
        headers = {"Allow": ", ".join(sorted(methods - {"HEAD"}))}
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)


def require_key(key: str | None = Depends(key_header)) -> None:
    if key != API_KEY:
        raise HTTPException(status_code=401, detail="Authentication required")


class GpuSpec(BaseModel):
    slot: str
    product_id: str | None = None


class GpuConfig(BaseModel):
    gpus: list[GpuSpec]
    attach_mode: Literal["listed", "all"] | str = "listed"


class UpdateCvmRequest(BaseModel):
    docker_compose_file: str | None = None
    pre_launch_script: str | None = None
    allowed_envs: list[str] | None = None
    public_logs: bool | None = None
    public_sysinfo: bool | None = None
    public_tcbinfo: bool | None = None
    encrypted_env: str | None = None
    user_config: str | None = None
    gpus: GpuConfig | None = None
    vcpu: int | None = None
    memory: int | None = None
    disk_size: int | None = None
    image: str | None = None
    shutdown_timeout: int | None = Field(default=None, ge=LOWEST_TIMEOUT, le=1200)
    allow_force_stop: bool = False


def new_cvm(ident: int, name: str, onchain: bool) -> dict:
    return {
        "id": ident, "name": name, "status": "running", "app_id": f"app_{name}", "vcpu": 2,
        "memory": 4096, "disk_size": 40 * 1024, "image": "dstack-0.5.0", "public_logs": True,
        "public_sysinfo": True, "public_tcbinfo": False, "docker_compose_file": "services: {}\n",
        "shutdown_timeout": 60, "allow_force_stop": False, "onchain": onchain,
    }


CVMS = {"cvm-1": new_cvm(1, "web", False), "cvm-onchain": new_cvm(2, "chain", True)}
CORRELATION = itertools.count(1)
KMS = {"id": "kms_base", "url": "https://kms.example", "version": "0.5", "chain_id": 8453,
       "kms_contract_address": "0x00000000000000000000000000000000000000aa"}


def basic_info(c: dict) -> dict:
    out = {
        "id": c["id"], "name": c["name"], "status": c["status"], "in_progress": False,
        "app_id": c["app_id"], "vcpu": c["vcpu"], "memory": c["memory"],
        "disk_size": c["disk_size"] // 1024, "base_image": c["image"],
        "public_logs": c["public_logs"], "public_sysinfo": c["public_sysinfo"], "listed": False,
    }
    if c["onchain"]:
        out["kms_info"] = KMS
    return out


@app.get("/api/v1/cvms/{cvm_id}", dependencies=[Depends(require_key)])
def get_cvm(cvm_id: str) -> dict:
    if cvm_id not in CVMS:
        raise HTTPException(status_code=404, detail="CVM not found")
    return basic_info(CVMS[cvm_id])


@app.patch("/api/v1/cvms/{cvm_id}", status_code=202, dependencies=[Depends(require_key)])
def update_cvm(
    cvm_id: str,
    body: UpdateCvmRequest,
    x_compose_hash: str | None = Header(default=None),
    x_transaction_hash: str | None = Header(default=None),
    x_prepare_only: str | None = Header(default=None),
):
    cvm = CVMS.get(cvm_id)
    if cvm is None:
        raise HTTPException(status_code=404, detail="CVM not found")
    sent = body.model_dump(include=body.model_fields_set, mode="json")

    if cvm["onchain"] and ({"docker_compose_file", "pre_launch_script"} & sent.keys()):
        expected = "0x" + hashlib.sha256(repr(sorted(sent.items())).encode()).hexdigest()[:16]
        phase1 = JSONResponse(status_code=465, content={
            "status": "precondition_required",
            "message": "Register the compose hash on chain, then repeat with both hash headers.",
            "compose_hash": expected, "app_id": cvm["app_id"], "device_id": "device-1", "kms_info": KMS,
        })
        if x_prepare_only == "true" or x_compose_hash is None:
            return phase1
        if x_compose_hash != expected:
            raise HTTPException(status_code=466, detail="Compose hash invalid or expired")
        if not (x_transaction_hash or "").startswith("0x") or len(x_transaction_hash or "") < 3:
            raise HTTPException(status_code=467, detail="Transaction verification failed")
        if "not-allowed" in (sent.get("docker_compose_file") or ""):
            raise HTTPException(status_code=468, detail="Compose hash not allowed on-chain")

    if CRASH and sent.get("image") is not None:
        raise RuntimeError("image lookup failed")  # unhandled: a 500 and a closed connection

    for field, value in sent.items():
        if value is None and field in ("vcpu", "memory", "disk_size"):
            continue  # resources cannot be cleared
        cvm[field] = value
    return {"status": "accepted", "message": "Update initiated",
            "correlation_id": f"corr-{next(CORRELATION)}"}
